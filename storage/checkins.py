"""The checkins and reminders tables: a tandem's monthly answer to "did you meet?"
and its one-off "remind us in a week"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ensure_aware
from storage.dialect import dialect_insert
from storage.models import Checkin, Reminder, Tandem, TandemStatus
from storage.results import rows_changed


async def checkins(session: AsyncSession, round_id: int) -> dict[tuple[int, int], str]:
    """The round's answers by (tandem id, period)."""
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
    if rows_changed(written) == 0:
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
        .where(Tandem.round_id == round_id, Tandem.status == TandemStatus.ACTIVE,
               Reminder.due_at <= now)
        .order_by(Reminder.id)
    ))


async def first_meetings(session: AsyncSession, round_id: int) -> dict[int, datetime]:
    """When each active tandem of the round first said "we met"."""
    rows = await session.execute(
        select(Checkin.tandem_id, func.min(Checkin.answered_at))
        .join(Tandem, Tandem.id == Checkin.tandem_id)
        .where(Tandem.round_id == round_id, Tandem.status == TandemStatus.ACTIVE,
               Checkin.answer == "met")
        .group_by(Checkin.tandem_id))
    return {tandem: ensure_aware(at) for tandem, at in rows}
