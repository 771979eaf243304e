"""Who of a workspace is still in the programme, and marking them reachable again.

A workspace's people are known by where the platform last saw them
(``conversation_refs``: the org or workspace as ``tenant_id``, the workspace in
the reference), so a workspace the app loses can be mapped to its participants.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.conversation_refs import USER
from storage.models import STILL_IN, ConversationRef, Participant

#: Ids per statement: well under the bound both databases put on parameters.
CHUNK = 5000


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


async def users_in(session: AsyncSession, platform: str, enterprise_id: str | None,
                   team_ids: Collection[str] | None) -> list[str]:
    """The users last seen in these workspaces of an org (``team_ids`` None: anywhere
    in the org ``enterprise_id``)."""
    tenants = [t for t in (enterprise_id, *(team_ids or ())) if t]
    if not tenants:
        return []
    rows = await session.execute(select(ConversationRef.key, ConversationRef.reference).where(
        ConversationRef.platform == platform, ConversationRef.kind == USER,
        ConversationRef.tenant_id.in_(tenants)))
    return [key for key, reference in rows
            if team_ids is None or (reference or {}).get("team_id") in team_ids]


async def reachable_people(session: AsyncSession, platform: str, user_ids: Sequence[str]
                           ) -> list[Participant]:
    """The participants among ``user_ids`` still in the programme and not yet marked
    unreachable."""
    found: list[Participant] = []
    for chunk in _chunks(user_ids):
        found += (await session.scalars(select(Participant).where(
            Participant.platform == platform, Participant.user_id.in_(chunk),
            Participant.unreachable_at.is_(None), Participant.status.in_(STILL_IN))
            .order_by(Participant.id))).all()
    return found


async def restore(session: AsyncSession, platform: str, user_ids: Sequence[str],
                  now: datetime) -> int:
    """Clear the unreachable mark of these people (their workspace is back)."""
    restored = 0
    for chunk in _chunks(user_ids):
        result = await session.execute(
            update(Participant).where(
                Participant.platform == platform, Participant.user_id.in_(chunk),
                Participant.unreachable_at.is_not(None), Participant.status.in_(STILL_IN))
            .values(unreachable_at=None, updated_at=now))
        restored += int(getattr(result, "rowcount", 0) or 0)
    return restored
