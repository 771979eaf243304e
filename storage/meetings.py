"""The meetings table: one row per tandem and month, from the slots offered to the
agreed time. Every change is a compare-and-set on ``version``: of two partners
pressing at once, one wins and the other is told what happened, so a month
never gets two meetings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import Meeting, MeetingStatus, Tandem
from storage.results import rows_changed


def iso(moment: datetime) -> str:
    return moment.isoformat()


async def meeting_by_id(session: AsyncSession, meeting_id: int) -> Meeting | None:
    return await session.get(Meeting, meeting_id, populate_existing=True)


async def offer(session: AsyncSession, tandem_id: int, period: int, starts: list[datetime],
                now: datetime) -> Meeting:
    """Offer ``starts`` for the tandem's month: a new offer replaces the last one
    (and any pick on it); an agreed time stays until a new one is accepted."""
    shown = [iso(s) for s in starts]
    await session.execute(
        dialect_insert(session, Meeting)
        .values(tandem_id=tandem_id, period=period, status=MeetingStatus.OPEN, offered=shown,
                shown=shown, version=1, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["tandem_id", "period"]))
    row = await session.scalar(select(Meeting).where(
        Meeting.tandem_id == tandem_id, Meeting.period == period).execution_options(
        populate_existing=True))
    assert row is not None
    if row.offered != shown:
        await session.execute(update(Meeting).where(Meeting.id == row.id).values(
            offered=shown, shown=list(dict.fromkeys([*(row.shown or []), *shown])),
            picked_at=None, picked_by=None, version=Meeting.version + 1, updated_at=now))
        await session.refresh(row)
    return row


async def shown_before(session: AsyncSession, tandem_id: int, period: int) -> list[datetime]:
    """Every start offered for this month so far (for "three more")."""
    shown = await session.scalar(select(Meeting.shown).where(
        Meeting.tandem_id == tandem_id, Meeting.period == period))
    return [datetime.fromisoformat(s) for s in shown or []]


async def pick(session: AsyncSession, meeting: Meeting, version: int, start: datetime,
               by: int, now: datetime) -> bool:
    """Propose ``start`` to the partner, if nobody picked from this offer yet."""
    done = await session.execute(update(Meeting).where(
        Meeting.id == meeting.id, Meeting.version == version, Meeting.picked_at.is_(None))
        .values(picked_at=start, picked_by=by, version=version + 1, updated_at=now))
    return rows_changed(done) == 1


async def accept(session: AsyncSession, meeting: Meeting, version: int, length_minutes: int,
                 now: datetime) -> bool:
    """The partner agrees: the pick becomes the meeting; SEQUENCE rises on a move."""
    assert meeting.picked_at is not None
    sequence = 0 if meeting.sequence is None else meeting.sequence + 1
    done = await session.execute(update(Meeting).where(
        Meeting.id == meeting.id, Meeting.version == version, Meeting.picked_at.is_not(None))
        .values(status=MeetingStatus.SCHEDULED, starts_at=meeting.picked_at,
                ends_at=meeting.picked_at + timedelta(minutes=length_minutes),
                sequence=sequence, picked_at=None, offered=[], version=version + 1,
                updated_at=now))
    return rows_changed(done) == 1


async def decline(session: AsyncSession, meeting: Meeting, version: int, now: datetime) -> bool:
    done = await session.execute(update(Meeting).where(
        Meeting.id == meeting.id, Meeting.version == version, Meeting.picked_at.is_not(None))
        .values(picked_at=None, picked_by=None, version=version + 1, updated_at=now))
    return rows_changed(done) == 1


async def cancel(session: AsyncSession, meeting: Meeting, version: int, now: datetime) -> bool:
    sequence = 0 if meeting.sequence is None else meeting.sequence + 1
    done = await session.execute(update(Meeting).where(
        Meeting.id == meeting.id, Meeting.version == version,
        Meeting.status == MeetingStatus.SCHEDULED)
        .values(status=MeetingStatus.CANCELLED, sequence=sequence, picked_at=None,
                picked_by=None, offered=[], version=version + 1, updated_at=now))
    return rows_changed(done) == 1


async def scheduled(session: AsyncSession, round_id: int) -> dict[tuple[int, int], Meeting]:
    """The round's agreed meetings by (tandem id, period)."""
    rows = await session.scalars(
        select(Meeting).join(Tandem, Tandem.id == Meeting.tandem_id)
        .where(Tandem.round_id == round_id, Meeting.status == MeetingStatus.SCHEDULED))
    return {(m.tandem_id, m.period): m for m in rows}


async def busy_of(session: AsyncSession, participant_ids: Collection[int], after: datetime,
                  but: int | None = None) -> list[tuple[datetime, datetime]]:
    """When these people already have a Tandem meeting (any of their tandems), from
    ``after`` on; ``but`` leaves one meeting out (the one being moved)."""
    rows = await session.execute(
        select(Meeting.id, Meeting.starts_at, Meeting.ends_at)
        .join(Tandem, Tandem.id == Meeting.tandem_id)
        .where(Meeting.status == MeetingStatus.SCHEDULED, Meeting.ends_at > after,
               or_(Tandem.mentor_id.in_(participant_ids),
                   Tandem.mentee_id.in_(participant_ids))))
    return [(start, end) for meeting_id, start, end in rows
            if meeting_id != but and start is not None and end is not None]


async def scheduled_by_period(session: AsyncSession, round_id: int) -> Counter[int]:
    """How many tandems have a meeting in the calendar, per month (no times, no names)."""
    rows = await session.scalars(
        select(Meeting.period).join(Tandem, Tandem.id == Meeting.tandem_id)
        .where(Tandem.round_id == round_id, Meeting.status == MeetingStatus.SCHEDULED))
    return Counter(rows)



async def owe_calendar(session: AsyncSession, meeting_id: int, sequence: int | None) -> None:
    """The organiser's calendar is owed this version of the meeting (created, moved
    or cancelled): written in the transaction of the change."""
    await session.execute(update(Meeting).where(Meeting.id == meeting_id)
                          .values(calendar_owed=sequence))


async def calendar_owed(session: AsyncSession) -> list[int]:
    """The meetings whose calendar change is still to be made."""
    return list(await session.scalars(select(Meeting.id).where(
        Meeting.calendar_owed.is_not(None)).order_by(Meeting.id)))


async def calendar_made(session: AsyncSession, meeting_id: int, sequence: int,
                        event_id: str | None) -> bool:
    """The calendar holds ``sequence`` now (``event_id`` None: the event is gone, or
    it went out as the ``.ics`` instead). A newer change owed meanwhile stays owed;
    the event's id is kept either way."""
    await session.execute(update(Meeting).where(Meeting.id == meeting_id)
                          .values(calendar_event_id=event_id))
    done = await session.execute(update(Meeting).where(
        Meeting.id == meeting_id, Meeting.calendar_owed == sequence)
        .values(calendar_owed=None))
    return rows_changed(done) == 1
