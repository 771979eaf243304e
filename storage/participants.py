"""The participants table: one row per person and workspace, with their survey
answers and their status in the round they signed up for. Who a person is
(``find_participant``, ``find_by_user``, ``participant_of``), who is in a round,
and who can no longer be reached.

The lookups a request makes by the hundred (the person, their standing, saving a
survey) go through the batches in ``storage.people`` instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Participant


async def find_participant(
    session: AsyncSession, workspace: int, user_id: str
) -> Participant | None:
    return await session.scalar(
        select(Participant).where(
            Participant.workspace_id == workspace, Participant.user_id == user_id
        )
    )


async def find_by_user(session: AsyncSession, platform: str, user_id: str) -> Participant | None:
    return await session.scalar(
        select(Participant)
        .where(Participant.platform == platform, Participant.user_id == user_id)
        .order_by(Participant.id)
        .limit(1)
    )


async def participant_of(session: AsyncSession, platform: str, user_id: str
                         ) -> Participant | None:
    return await session.scalar(
        select(Participant).where(Participant.platform == platform, Participant.user_id == user_id)
        .order_by(Participant.id.desc()).limit(1)
    )


async def participant_by_id(session: AsyncSession, participant_id: int) -> Participant | None:
    return await session.get(Participant, participant_id)


async def round_participants(session: AsyncSession, round_id: int) -> list[Participant]:
    """Everyone signed up for the round, whatever their status (the engine filters)."""
    return list(await session.scalars(
        select(Participant)
        .where(Participant.round_id == round_id, Participant.status != "left")
        .order_by(Participant.id)
    ))


async def still_in_round(session: AsyncSession, round_id: int) -> list[Participant]:
    """Everyone still in a round (not left, not erased)."""
    return list(await session.scalars(
        select(Participant)
        .where(Participant.round_id == round_id,
               Participant.status.in_(("active", "paused")))
        .order_by(Participant.id)
    ))


async def signups_by_role(session: AsyncSession, round_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Participant.role, func.count(Participant.id))
        .where(Participant.round_id == round_id, Participant.status == "active")
        .group_by(Participant.role)
    )
    return {role: count for role, count in rows}


async def mark_unreachable(session: AsyncSession, participant_id: int, now: datetime) -> None:
    await session.execute(
        update(Participant)
        .where(Participant.id == participant_id, Participant.unreachable_at.is_(None))
        .values(unreachable_at=now)
    )
