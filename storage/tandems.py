"""The tandems table: who is paired with whom in which round, with the people of a
tandem read together (``TandemPeople``); tandems made from a confirmed proposal,
and ended with their round."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.dialect import dialect_insert
from storage.models import Participant, Round, Tandem, TandemStatus
from storage.results import rows_changed


@dataclass(frozen=True)
class TandemPeople:
    tandem: Tandem
    mentor: Participant
    mentee: Participant

    @property
    def people(self) -> tuple[Participant, Participant]:
        return self.mentor, self.mentee


#: Made once: an alias builds a proxy of each of the participants' many columns.
_MENTOR, _MENTEE = aliased(Participant, name="mentor"), aliased(Participant, name="mentee")


async def active_tandems(session: AsyncSession, round_id: int) -> list[TandemPeople]:
    mentor, mentee = _MENTOR, _MENTEE
    rows = await session.execute(
        select(Tandem, mentor, mentee)
        .join(mentor, Tandem.mentor_id == mentor.id)
        .join(mentee, Tandem.mentee_id == mentee.id)
        .where(Tandem.round_id == round_id, Tandem.status == TandemStatus.ACTIVE)
        .order_by(Tandem.id)
    )
    return [TandemPeople(t, m, s) for t, m, s in rows]


async def tandem_people(session: AsyncSession, tandem_id: int) -> TandemPeople | None:
    tandem = await session.get(Tandem, tandem_id)
    if tandem is None:
        return None
    mentor = await session.get(Participant, tandem.mentor_id)
    mentee = await session.get(Participant, tandem.mentee_id)
    assert mentor is not None and mentee is not None
    return TandemPeople(tandem, mentor, mentee)


async def round_tandems(session: AsyncSession, round_id: int) -> list[Tandem]:
    """Every tandem of the round, ended ones too."""
    return list(await session.scalars(
        select(Tandem).where(Tandem.round_id == round_id).order_by(Tandem.id)))


async def active_with_rounds(session: AsyncSession, tandem_ids: Collection[int]
                             ) -> list[tuple[Tandem, Round]]:
    """Those of ``tandem_ids`` still active, each with its round."""
    rows = await session.execute(
        select(Tandem, Round).join(Round, Round.id == Tandem.round_id)
        .where(Tandem.id.in_(tandem_ids), Tandem.status == TandemStatus.ACTIVE)
        .order_by(Tandem.id))
    return [(tandem, found) for tandem, found in rows]


async def tandems_of(session: AsyncSession, participant: Participant) -> list[Tandem]:
    """The person's active tandems, in every round."""
    return list(
        await session.scalars(
            select(Tandem)
            .where(
                (Tandem.mentor_id == participant.id) | (Tandem.mentee_id == participant.id),
                Tandem.status == TandemStatus.ACTIVE,
            )
            .order_by(Tandem.id)
        )
    )


async def partner_of(session: AsyncSession, participant_id: int, round_id: int
                     ) -> Participant | None:
    tandem = await session.scalar(
        select(Tandem).where(
            Tandem.round_id == round_id,
            (Tandem.mentor_id == participant_id) | (Tandem.mentee_id == participant_id),
        ).order_by(Tandem.id.desc()).limit(1)
    )
    if tandem is None:
        return None
    other = tandem.mentee_id if tandem.mentor_id == participant_id else tandem.mentor_id
    return await session.get(Participant, other)


async def people_in_tandems(session: AsyncSession, round_id: int) -> list[Participant]:
    """Everyone in a tandem of the round (for the pulse and the evaluation)."""
    ids = select(Tandem.mentor_id).where(Tandem.round_id == round_id).union(
        select(Tandem.mentee_id).where(Tandem.round_id == round_id)
    )
    return list(await session.scalars(
        select(Participant).where(Participant.id.in_(ids)).order_by(Participant.id)
    ))


async def earlier_pairs(session: AsyncSession, round_id: int) -> list[tuple[int, int]]:
    """(mentor, mentee) of every tandem in the other rounds."""
    rows = await session.execute(
        select(Tandem.mentor_id, Tandem.mentee_id).where(Tandem.round_id != round_id)
    )
    return [(m, s) for m, s in rows]


async def create_tandems(session: AsyncSession, round_id: int, pairs: list[dict[str, Any]],
                         now: datetime, joined_period: int | None = None) -> list[Tandem]:
    for pair in pairs:
        await session.execute(
            dialect_insert(session, Tandem)
            .values(round_id=round_id, mentor_id=pair["mentor"], mentee_id=pair["mentee"],
                    score=pair["score"], explanation=pair["explanation"],
                    status=TandemStatus.ACTIVE, created_at=now, joined_period=joined_period)
            .on_conflict_do_nothing(index_elements=["round_id", "mentor_id", "mentee_id"])
        )
    return list(await session.scalars(
        select(Tandem).where(Tandem.round_id == round_id).order_by(Tandem.id)
    ))


async def end_tandems_of(session: AsyncSession, participant: Participant) -> list[Tandem]:
    """End the person's active tandems (they left); returns those ended."""
    ending = await tandems_of(session, participant)
    for tandem in ending:
        tandem.status = TandemStatus.ENDED
    return ending


async def end_tandems(session: AsyncSession, round_id: int) -> None:
    await session.execute(
        update(Tandem).where(Tandem.round_id == round_id, Tandem.status == TandemStatus.ACTIVE)
        .values(status=TandemStatus.ENDED)
    )


async def end_tandem(session: AsyncSession, tandem_id: int) -> bool:
    """Compare-and-set: end one active tandem (a re-match); False if it had ended."""
    ended = await session.execute(
        update(Tandem).where(Tandem.id == tandem_id, Tandem.status == TandemStatus.ACTIVE)
        .values(status=TandemStatus.ENDED))
    return rows_changed(ended) == 1
