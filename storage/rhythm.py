"""Queries for the round's rhythm: tandems with their people, check-ins, reminders,
responses and who can no longer be reached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Checkin, Participant, Reminder, Response, Tandem
from storage.participants import dialect_insert


@dataclass(frozen=True)
class TandemPeople:
    tandem: Tandem
    mentor: Participant
    mentee: Participant

    @property
    def people(self) -> tuple[Participant, Participant]:
        return self.mentor, self.mentee


async def active_tandems(session: AsyncSession, round_id: int) -> list[TandemPeople]:
    mentor, mentee = aliased(Participant), aliased(Participant)
    rows = await session.execute(
        select(Tandem, mentor, mentee)
        .join(mentor, Tandem.mentor_id == mentor.id)
        .join(mentee, Tandem.mentee_id == mentee.id)
        .where(Tandem.round_id == round_id, Tandem.status == "active")
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


async def checkins(session: AsyncSession, round_id: int) -> dict[tuple[int, int], str]:
    rows = await session.execute(
        select(Checkin.tandem_id, Checkin.period, Checkin.answer)
        .join(Tandem, Tandem.id == Checkin.tandem_id)
        .where(Tandem.round_id == round_id)
    )
    return {(tandem, period): answer for tandem, period, answer in rows}


async def record_checkin(session: AsyncSession, tandem_id: int, period: int, answer: str,
                         by: int, now: datetime) -> str | None:
    """Store the tandem's answer for the period; returns the answer it had before.
    "met" is final: a later "not yet" for the same month does not undo a meeting."""
    before = await session.scalar(
        select(Checkin.answer).where(Checkin.tandem_id == tandem_id, Checkin.period == period)
        .with_for_update()
    )
    if before == answer or before == "met":
        return before
    values = {"answer": answer, "answered_by": by, "answered_at": now}
    # The condition holds under concurrency too: a "not yet" racing a "we met" can
    # never overwrite the meeting, whatever the order the two writes land in.
    written = await session.execute(
        dialect_insert(session, Checkin)
        .values(tandem_id=tandem_id, period=period, **values)
        .on_conflict_do_update(index_elements=["tandem_id", "period"], set_=values,
                               where=Checkin.answer != "met")
    )
    if written.rowcount == 0:
        return "met"
    return before


async def add_reminder(session: AsyncSession, tandem_id: int, period: int, due: datetime,
                       now: datetime) -> datetime:
    """At most one reminder per tandem and period; returns when it is due."""
    await session.execute(
        dialect_insert(session, Reminder)
        .values(tandem_id=tandem_id, period=period, due_at=due, created_at=now)
        .on_conflict_do_nothing(index_elements=["tandem_id", "period"])
    )
    stored = await session.scalar(
        select(Reminder.due_at).where(Reminder.tandem_id == tandem_id, Reminder.period == period)
    )
    assert stored is not None
    return stored


async def due_reminders(session: AsyncSession, round_id: int, now: datetime
                        ) -> list[Reminder]:
    return list(await session.scalars(
        select(Reminder).join(Tandem, Tandem.id == Reminder.tandem_id)
        .where(Tandem.round_id == round_id, Tandem.status == "active", Reminder.due_at <= now)
        .order_by(Reminder.id)
    ))


async def save_response(session: AsyncSession, participant_id: int, round_id: int,
                        kind: str, period: int, now: datetime, *, tandem_id: int | None = None,
                        rating: int | None = None, visibility: str = "private",
                        answers: dict[str, Any] | None = None) -> bool:
    """Create or update (never duplicate) a response; True if it is new."""
    existing = await session.scalar(
        select(Response.id).where(
            Response.participant_id == participant_id, Response.round_id == round_id,
            Response.kind == kind, Response.period == period,
        )
    )
    values = {"tandem_id": tandem_id, "rating": rating, "visibility": visibility,
              "answers": answers or {}, "updated_at": now}
    await session.execute(
        dialect_insert(session, Response)
        .values(participant_id=participant_id, round_id=round_id, kind=kind, period=period,
                created_at=now, **values)
        .on_conflict_do_update(
            index_elements=["participant_id", "round_id", "kind", "period"], set_=values
        )
    )
    return existing is None


async def response_of(session: AsyncSession, participant_id: int, round_id: int, kind: str,
                      period: int) -> Response | None:
    return await session.scalar(select(Response).where(
        Response.participant_id == participant_id, Response.round_id == round_id,
        Response.kind == kind, Response.period == period,
    ))


async def mark_unreachable(session: AsyncSession, participant_id: int, now: datetime) -> None:
    await session.execute(
        update(Participant)
        .where(Participant.id == participant_id, Participant.unreachable_at.is_(None))
        .values(unreachable_at=now)
    )


async def signups_by_role(session: AsyncSession, round_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Participant.role, func.count(Participant.id))
        .where(Participant.round_id == round_id, Participant.status == "active")
        .group_by(Participant.role)
    )
    return {role: count for role, count in rows}


async def round_people(session: AsyncSession, round_id: int) -> list[Participant]:
    """Everyone in a tandem of the round (for the pulse and the evaluation)."""
    ids = select(Tandem.mentor_id).where(Tandem.round_id == round_id).union(
        select(Tandem.mentee_id).where(Tandem.round_id == round_id)
    )
    return list(await session.scalars(
        select(Participant).where(Participant.id.in_(ids)).order_by(Participant.id)
    ))


async def participant_of(session: AsyncSession, platform: str, user_id: str
                         ) -> Participant | None:
    return await session.scalar(
        select(Participant).where(Participant.platform == platform, Participant.user_id == user_id)
        .order_by(Participant.id.desc()).limit(1)
    )
