"""The participants table: one row per person and workspace, with their survey
answers and their status in the round they signed up for. Which row stands for a
person (``participant_for``, by the one rule in ``preferred``), who is in a round,
and who can no longer be reached.

The lookups a request makes by the hundred (the person, their standing, saving a
survey) go through the batches in ``storage.people`` instead.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import STILL_IN, Participant, ParticipantStatus
from storage.results import rows_changed


def preferred(rows: Iterable[Participant], rounds: Collection[int] = ()
              ) -> Participant | None:
    """Of one person's rows (one platform user id, perhaps several workspaces), the
    one that stands for them: every "which participant is this person" answers by
    this rule, batched (``storage.people``) or not (``participant_for``).

    A person has one row per workspace they first signed up from, and each row moves
    on to the round they last signed up for. The row in one of ``rounds`` (the round
    a button or a page is about) comes first; failing that, the row of their latest
    round; of rows in the same round, the newest. The oldest row (a first sign-up,
    perhaps in another workspace, rounds ago) is never preferred for being oldest.
    """
    def rank(row: Participant) -> tuple[bool, bool, int, int]:
        return (row.round_id is not None and row.round_id in rounds,
                row.round_id is not None, row.round_id or 0, row.id)

    return max(rows, key=rank, default=None)


async def participant_for(session: AsyncSession, platform: str, user_id: str,
                          rounds: Collection[int] = ()) -> Participant | None:
    """The row that stands for this person (``preferred``), whichever workspace they
    type in: a person in several workspaces gets one answer."""
    return preferred(await session.scalars(
        select(Participant).where(Participant.platform == platform,
                                  Participant.user_id == user_id)), rounds)


async def participants_for(session: AsyncSession, platform: str, user_ids: Collection[str]
                           ) -> dict[str, Participant]:
    """``participant_for`` for several people in one query: user id -> their row."""
    rows: dict[str, list[Participant]] = {}
    if user_ids:
        for row in await session.scalars(select(Participant).where(
                Participant.platform == platform, Participant.user_id.in_(user_ids))):
            rows.setdefault(row.user_id, []).append(row)
    return {user_id: found for user_id, candidates in rows.items()
            if (found := preferred(candidates)) is not None}


async def participant_by_id(session: AsyncSession, participant_id: int) -> Participant | None:
    return await session.get(Participant, participant_id)


async def round_participants(session: AsyncSession, round_id: int) -> list[Participant]:
    """Everyone signed up for the round, whatever their status (the engine filters)."""
    return list(await session.scalars(
        select(Participant)
        .where(Participant.round_id == round_id, Participant.status != ParticipantStatus.LEFT)
        .order_by(Participant.id)
    ))


async def still_in_round(session: AsyncSession, round_id: int) -> list[Participant]:
    """Everyone still in a round (not left, not erased)."""
    return list(await session.scalars(
        select(Participant)
        .where(Participant.round_id == round_id,
               Participant.status.in_(STILL_IN))
        .order_by(Participant.id)
    ))


async def in_round_or_tandems(session: AsyncSession, round_id: int,
                              member_ids: Collection[int]) -> list[Participant]:
    """Everyone signed up for the round, and everyone in one of its tandems (who may
    have moved on to a later round since)."""
    return list(await session.scalars(
        select(Participant).where(
            (Participant.round_id == round_id) | Participant.id.in_(member_ids))
        .order_by(Participant.id)))


async def people_in_rounds(session: AsyncSession, round_ids: Collection[int],
                           but_not: ParticipantStatus) -> list[tuple[str, str]]:
    """(platform, user id) of everyone whose row is in one of ``round_ids`` and whose
    status is not ``but_not``."""
    rows = await session.execute(
        select(Participant.platform, Participant.user_id)
        .where(Participant.round_id.in_(round_ids), Participant.status != but_not))
    return [(platform, user_id) for platform, user_id in rows]


async def rounds_of_people(session: AsyncSession, user_ids: Collection[str],
                           but_not: ParticipantStatus) -> list[tuple[str, str, int | None]]:
    """(platform, user id, round id) of every row of these user ids whose status is
    not ``but_not``: a person's rows in every workspace."""
    rows = await session.execute(
        select(Participant.platform, Participant.user_id, Participant.round_id)
        .where(Participant.user_id.in_(user_ids), Participant.status != but_not))
    return [(platform, user_id, round_id) for platform, user_id, round_id in rows]


async def signups_by_role(session: AsyncSession, round_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Participant.role, func.count(Participant.id))
        .where(Participant.round_id == round_id, Participant.status == ParticipantStatus.ACTIVE)
        .group_by(Participant.role)
    )
    return {role: count for role, count in rows}


def set_status(person: Participant, status: ParticipantStatus, now: datetime) -> None:
    """Pause, resume or leave: written when the session commits. Any planned end of
    an earlier break goes (``pause_until`` sets one)."""
    person.status, person.updated_at, person.paused_until = status, now, None
    if status == ParticipantStatus.LEFT:
        person.left_at = now


def move_to_round(person: Participant, round_id: int, now: datetime) -> None:
    """Carry a person over into another round (they answered "continue")."""
    person.round_id, person.updated_at = round_id, now


async def mark_unreachable(session: AsyncSession, participant_id: int, now: datetime) -> None:
    await session.execute(
        update(Participant)
        .where(Participant.id == participant_id, Participant.unreachable_at.is_(None))
        .values(unreachable_at=now)
    )


def pause_until(person: Participant, resume_at: datetime | None, now: datetime) -> None:
    """A break, ending at ``resume_at`` (None: until the person resumes)."""
    person.status, person.paused_until, person.updated_at = (ParticipantStatus.PAUSED,
                                                             resume_at, now)


async def breaks_ending(session: AsyncSession, now: datetime) -> list[int]:
    """Everyone on a break that ends by ``now``."""
    return list(await session.scalars(
        select(Participant.id).where(Participant.status == ParticipantStatus.PAUSED,
                                     Participant.paused_until <= now)
        .order_by(Participant.id)))


async def resume_if_due(session: AsyncSession, participant_id: int, now: datetime
                        ) -> Participant | None:
    """Compare-and-set: end the person's break if it is (still) due; the person, or
    None if somebody else resumed them first."""
    won = await session.execute(
        update(Participant)
        .where(Participant.id == participant_id, Participant.status == ParticipantStatus.PAUSED,
               Participant.paused_until <= now)
        .values(status=ParticipantStatus.ACTIVE, paused_until=None, updated_at=now))
    if rows_changed(won) != 1:
        return None
    return await session.get(Participant, participant_id, populate_existing=True)
