"""The audit_log table: who did what, when, for every coordinator action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


async def record(session: AsyncSession, platform: str, user_id: str, action: str,
                detail: dict[str, Any], now: datetime) -> None:
    session.add(AuditEntry(at=now, platform=platform, user_id=user_id, action=action,
                           detail=detail))
