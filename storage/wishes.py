"""The private_wishes table: colleagues a participant prefers not to be paired with.

A wish belongs to the participant row that made it and names a colleague by
platform and user id (whether or not that colleague has signed up yet). Only the
matching reads them (as forbidden pairs) and only the wisher sees them (``wishes``,
``my-data``); nothing here is ever logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DirectoryAccount, Participant, ParticipantStatus, PrivateWish


async def wished(session: AsyncSession, participant_id: int) -> list[str]:
    """The user ids a participant named, in the order they were named."""
    return list(await session.scalars(
        select(PrivateWish.user_id).where(PrivateWish.participant_id == participant_id)
        .order_by(PrivateWish.id)))


async def replace_wishes(session: AsyncSession, participant: Participant,
                         user_ids: Sequence[str], now: datetime) -> None:
    """The participant's wishes become exactly ``user_ids`` (checked by the flow)."""
    await replace_lists(session, [(participant, user_ids, now)])


async def replace_lists(session: AsyncSession,
                        lists: Sequence[tuple[Participant, Sequence[str], datetime]]) -> None:
    """``replace_wishes`` for several participants at once (a batch of surveys), in
    three statements whatever their number: read the lists, delete the names no
    longer on them, add the new ones (kept names keep their place in the order)."""
    wanted = {person.id: (person, list(dict.fromkeys(ids)), now) for person, ids, now in lists}
    if not wanted:
        return
    before: dict[int, dict[str, int]] = {key: {} for key in wanted}
    for wish_id, wisher, user_id in await session.execute(
            select(PrivateWish.id, PrivateWish.participant_id, PrivateWish.user_id)
            .where(PrivateWish.participant_id.in_(wanted))):
        before[wisher][user_id] = wish_id
    stale = [wish_id for wisher, (_, keep, _) in wanted.items()
             for user_id, wish_id in before[wisher].items() if user_id not in keep]
    for start in range(0, len(stale), 500):
        await session.execute(delete(PrivateWish).where(
            PrivateWish.id.in_(stale[start:start + 500])),
            execution_options={"synchronize_session": False})
    session.add_all(PrivateWish(participant_id=person.id, platform=person.platform,
                                user_id=user_id, created_at=now)
                    for person, keep, now in wanted.values()
                    for user_id in keep if user_id not in before[person.id])
    await session.flush()


async def known_here(session: AsyncSession, platform: str, user_ids: Iterable[str]) -> set[str]:
    """Of ``user_ids``, those Tandem knows on ``platform`` from its own records: people
    who signed up (and were not forgotten) and accounts of the company directory."""
    ids = list(set(user_ids))
    if not ids:
        return set()
    signed_up = await session.scalars(select(Participant.user_id).where(
        Participant.platform == platform, Participant.user_id.in_(ids),
        Participant.status != ParticipantStatus.FORGOTTEN))
    listed = await session.scalars(select(DirectoryAccount.user_id).where(
        DirectoryAccount.platform == platform, DirectoryAccount.user_id.in_(ids)))
    return {*signed_up, *listed}


async def forbidden_pairs(session: AsyncSession, people: Sequence[Participant]
                          ) -> set[tuple[int, int]]:
    """(wisher's participant id, named participant id) for every wish between two of
    ``people``: pairs the matching must not make, in either direction."""
    by_user = {(p.platform, p.user_id): p.id for p in people}
    ids = [p.id for p in people]
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(ids), 500):
        rows = await session.execute(select(
            PrivateWish.participant_id, PrivateWish.platform, PrivateWish.user_id).where(
            PrivateWish.participant_id.in_(ids[start:start + 500])))
        for wisher, platform, user_id in rows:
            named = by_user.get((platform, user_id))
            if named is not None and named != wisher:
                pairs.add((wisher, named))
    return pairs
