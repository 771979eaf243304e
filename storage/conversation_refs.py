"""Reading and writing conversation references: where the bot can reach a user or a channel.

Used by platforms that cannot message people by id alone (Teams): the adapter
stores what it sees, the messenger looks it up when it sends on its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import ConversationRef

USER = "user"
CHANNEL = "channel"


async def find_ref(
    session: AsyncSession, platform: str, kind: str, key: str
) -> ConversationRef | None:
    return await session.scalar(
        select(ConversationRef).where(
            ConversationRef.platform == platform,
            ConversationRef.kind == kind,
            ConversationRef.key == key,
        )
    )


async def save_ref(
    session: AsyncSession,
    platform: str,
    kind: str,
    key: str,
    tenant_id: str | None,
    reference: dict[str, Any],
    now: datetime,
) -> None:
    """Create or replace one reference in one statement (safe when two turns race)."""
    values = {"tenant_id": tenant_id, "reference": reference, "updated_at": now}
    await session.execute(
        dialect_insert(session, ConversationRef)
        .values(platform=platform, kind=kind, key=key, **values)
        .on_conflict_do_update(index_elements=["platform", "kind", "key"], set_=values)
    )
