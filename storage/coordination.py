"""The coordinator_actions table: a coordinator's action waiting for a button (an
announcement draft, a round change), decided exactly once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ActionStatus, CoordinatorAction
from storage.results import rows_changed


async def create_action(session: AsyncSession, kind: str, platform: str, by: str,
                        round_id: int | None, payload: dict[str, Any], now: datetime
                        ) -> CoordinatorAction:
    action = CoordinatorAction(kind=kind, platform=platform, created_by=by, round_id=round_id,
                               payload=payload, status=ActionStatus.PENDING, created_at=now)
    session.add(action)
    await session.flush()
    return action


async def action_by_id(session: AsyncSession, action_id: int) -> CoordinatorAction | None:
    return await session.get(CoordinatorAction, action_id)


async def update_payload(session: AsyncSession, action_id: int, payload: dict[str, Any]
                         ) -> bool:
    """Change a pending action (an edited draft); False once it was decided."""
    changed = await session.execute(
        update(CoordinatorAction)
        .where(CoordinatorAction.id == action_id, CoordinatorAction.status == ActionStatus.PENDING)
        .values(payload=payload)
    )
    return rows_changed(changed) == 1


async def decide(session: AsyncSession, action_id: int, status: ActionStatus, by: str, now: datetime
                 ) -> bool:
    """Compare-and-set from pending: True for exactly one caller."""
    won = await session.execute(
        update(CoordinatorAction)
        .where(CoordinatorAction.id == action_id, CoordinatorAction.status == ActionStatus.PENDING)
        .values(status=status, decided_by=by, decided_at=now)
    )
    return rows_changed(won) == 1
