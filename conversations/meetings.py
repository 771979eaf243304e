"""Find a time: from a button to a meeting in both calendars, without leaving the chat.

Who sees what, in order:
1. "Find a time" (on the introduction and every monthly nudge): the partner who
   pressed it sees three slots of the programme's meeting length in the coming
   two weeks, inside both people's working hours and working days, on no public
   holiday of either, clear of either person's other Tandem meetings; each slot
   in the presser's zone and language, with the partner's local time beside it,
   and "Three more".
2. A slot pressed: the partner gets (owed, privately, in their zone and language)
   "X proposes <time>" with Accept and Decline; the presser is told so.
3. Accept: both get (owed) a confirmation with add-to-Outlook and Google Calendar
   links, "We met" (the month's answer, before its check-in comes), "Move" and
   "Cancel the meeting", and the ``.ics`` invite (Slack: a file
   in the DM; Teams: offered as a file). Decline: the presser is told, with
   "Find a time" to try again. Moving = Find a time again: the accepted new slot
   is sent with the same UID and SEQUENCE + 1, so calendars move the event.
4. Cancel: both are told, with a METHOD:CANCEL invite.
With the company's calendars configured (``conversations.calendars``), the slots
also avoid both people's busy times, and instead of the ``.ics`` files the event
goes into the organiser's Outlook calendar with a Teams link (moved and cancelled
there too); the chat messages say so.
Every value is checked against the meeting's row: a stale or forged slot, a slot
that has passed, or two partners pressing at once get a kind answer, and a month
keeps one meeting.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.errors import UserError
from bot.core.i18n import t
from bot.core.invites import Attendee, Invite, build_ics, google_link, meeting_uid, outlook_link
from bot.core.slots import WorkingTime, parse_country, propose
from conversations import calendars, values
from conversations.checkin import CHECKIN_MET
from conversations.context import FlowContext
from conversations.events import Actor, ButtonPress
from conversations.messages import Button, Facts, Message, Paragraph
from conversations.outcomes import Outcome, Reply, reply
from conversations.owed import Owed, deliver, file_for, for_person, record
from conversations.schedule import RoundDates, local_instant, zone_of
from storage import meetings, rounds, tandems
from storage.db import Session
from storage.models import Meeting, MeetingStatus, Participant, Round, RoundStatus, TandemStatus
from storage.tandems import TandemPeople

FIND, MORE, PICK = "meeting.find", "meeting.more", "meeting.pick"
ACCEPT, DECLINE, CANCEL = "meeting.accept", "meeting.decline", "meeting.cancel"
#: A slot must start at least this long after it is offered or accepted.
LEAD = timedelta(hours=2)
SLOTS = 3


@dataclass(frozen=True)
class Pair:
    """A tandem a button names, seen from the partner who pressed it."""

    pair: TandemPeople
    me: Participant
    partner: Participant
    current: Round
    language: str


def find_button(language: str, tandem_id: int, period: int) -> Button:
    """The "Find a time" button, for the introduction and the nudges."""
    return Button(FIND, t(language, "meetings.find_button"), f"{tandem_id}:{period}")


def working_time(ctx: FlowContext, person: Participant, located: str | None = None
                 ) -> WorkingTime:
    """The person's working time in their own zone: their survey's hours, days and
    country where they gave them; else the country of their directory ``located``
    (its location, e.g. "Munich, Germany") when it names one; else app.yaml's."""
    settings = ctx.config.meetings
    country = (person.country, person.region) if person.country else parse_country(
        located) or (settings.country, settings.region)
    return WorkingTime(
        zone_of(person.timezone, ctx.config.timezone),
        time.fromisoformat(person.work_start) if person.work_start else settings.day_starts,
        time.fromisoformat(person.work_end) if person.work_end else settings.day_ends,
        frozenset(person.work_days) if person.work_days else settings.working_days,
        *country)


async def working_times(ctx: FlowContext, session: Session, people: Sequence[Participant]
                        ) -> list[WorkingTime]:
    """Each person's ``working_time``, with the location the directory knows for them:
    the one rule for the slots and for the check-in after a meeting."""
    return [working_time(ctx, p, await calendars.location_of(session, p)) for p in people]


async def checkin_at(ctx: FlowContext, people: Sequence[Participant], start: datetime
                     ) -> datetime:
    """The morning (nudge time) of the first working day after a meeting at ``start``,
    for the latest of ``people``: each counts their own working days and the holidays
    of their own country (survey, directory or app.yaml), in their own zone."""
    async with ctx.db.session() as session:
        hours = await working_times(ctx, session, people)
    return max(local_instant(day, ctx.config.rhythm.nudge_time, person.zone)
               for person, day in first_working_day_after(hours, start))


def zone(ctx: FlowContext, person: Participant) -> ZoneInfo:
    return zone_of(person.timezone, ctx.config.timezone)


def when(language: str, moment: datetime, where: ZoneInfo) -> str:
    """"Tuesday, 30.03.2027, 15:00" in the reader's zone and words."""
    local = moment.astimezone(where)
    return t(language, "meetings.when", weekday=t(language, f"meetings.weekday.{local.weekday()}"),
             day=local.strftime(t(language, "format.day")), time=local.strftime("%H:%M"))


def _minutes(moment: datetime) -> int:
    return int(moment.timestamp() // 60)


def _from_minutes(minutes: int) -> datetime:
    return datetime.fromtimestamp(minutes * 60, UTC)


def _name(person: Participant) -> str:
    return person.display_name or person.user_id


async def _pair(ctx: FlowContext, actor: Actor, tandem_id: int) -> Pair:
    async with ctx.db.session() as session:
        pair = await tandems.tandem_people(session, tandem_id)
        current = await rounds.round_by_id(session, pair.tandem.round_id) if pair else None
    if pair is None or current is None:
        raise values.Stale(f"no tandem {tandem_id}")
    me = next((p for p in pair.people
               if p.platform == actor.platform and p.user_id == actor.user_id), None)
    if me is None:
        raise UserError("checkin.not_yours")
    if pair.tandem.status != TandemStatus.ACTIVE or current.status == RoundStatus.ENDED:
        raise UserError("checkin.closed", round=current.name)
    partner = pair.mentee if me is pair.mentor else pair.mentor
    return Pair(pair, me, partner, current, ctx.language(actor.locale, me.locale))


# 1. find a time ------------------------------------------------------------------------

async def find_a_time(ctx: FlowContext, press: ButtonPress) -> Outcome:
    tandem_id, period = values.numbers(press.value, 2)
    found = await _pair(ctx, press.actor, tandem_id)
    dates = RoundDates.of(found.current, ctx.config.timezone)
    if period > dates.periods:
        raise values.Stale(f"no period {period}")
    now = ctx.clock.now()
    ends = dates.end_at(ctx.config.rhythm)
    people = [found.me, found.partner]
    length = ctx.config.meetings.length
    # Not before the month begins: its check-in could not be answered.
    earliest = max(now + LEAD, dates.period_begins_at(period))
    latest = min(earliest + ctx.config.meetings.window, ends - length)
    # Asked before the transaction opens: it goes to the calendars.
    outside = await calendars.busy(ctx, people, earliest, latest + length)
    async with ctx.db.session() as session:
        earlier = await meetings.shown_before(session, tandem_id, period) \
            if press.action_id == MORE else []
        own = await meetings.scheduled(session, found.current.id)
        busy = await meetings.busy_of(session, [p.id for p in people], now,
                                      but=own[(tandem_id, period)].id
                                      if (tandem_id, period) in own else None)
        slots = propose(await working_times(ctx, session, people), earliest, latest,
                        length, [*busy, *outside], SLOTS, exclude=earlier)
        if not slots:
            return reply(t(found.language, "meetings.none", partner=_name(found.partner)))
        meeting = await meetings.offer(session, tandem_id, period,
                                       [s.start for s in slots], now)
    return _offer_message(ctx, found, meeting, [s.start for s in slots])


def _offer_message(ctx: FlowContext, found: Pair, meeting: Meeting, starts: list[datetime]
                   ) -> Outcome:
    lang, mine, theirs = found.language, zone(ctx, found.me), zone(ctx, found.partner)
    facts = tuple(
        (str(number), when(lang, start, mine) + (
            "" if theirs.utcoffset(start) == mine.utcoffset(start) else " " + t(
                lang, "meetings.partner_time", partner=_name(found.partner),
                time=start.astimezone(theirs).strftime("%H:%M"))))
        for number, start in enumerate(starts, 1))
    buttons = tuple(Button(PICK, t(lang, "meetings.pick_button", number=number),
                           f"{meeting.id}:{meeting.version}:{_minutes(start)}",
                           "primary" if number == 1 else None)
                    for number, start in enumerate(starts, 1))
    more = Button(MORE, t(lang, "meetings.more_button"), f"{meeting.tandem_id}:{meeting.period}")
    minutes = int(ctx.config.meetings.length.total_seconds() // 60)
    return Reply(Message(
        title=t(lang, "meetings.offer_title"),
        blocks=(Paragraph(t(lang, "meetings.offer", partner=_name(found.partner),
                            minutes=minutes)), Facts(facts)),
        buttons=(*buttons, more)))


# 2. pick -------------------------------------------------------------------------------

async def _meeting(ctx: FlowContext, press: ButtonPress
                   ) -> tuple[Meeting, Pair, int, datetime]:
    meeting_id, version, minutes = values.numbers(press.value, 3)
    async with ctx.db.session() as session:
        meeting = await meetings.meeting_by_id(session, meeting_id)
    if meeting is None:
        raise values.Stale(f"no meeting {meeting_id}")
    found = await _pair(ctx, press.actor, meeting.tandem_id)
    return meeting, found, version, _from_minutes(minutes)


async def pick(ctx: FlowContext, press: ButtonPress) -> Outcome:
    meeting, found, version, start = await _meeting(ctx, press)
    lang, now = found.language, ctx.clock.now()
    if meeting.picked_at is not None:
        return _already_picked(ctx, found, meeting)
    if version != meeting.version or start.isoformat() not in (meeting.offered or []):
        raise values.Stale(f"slot {start} is not on offer {meeting.id}:{meeting.version}")
    if start < now + LEAD:
        return _passed(found, meeting)
    async with ctx.db.session() as session:
        if not await meetings.pick(session, meeting, version, start, found.me.id, now):
            latest = await meetings.meeting_by_id(session, meeting.id)
            assert latest is not None
            return _already_picked(ctx, found, latest)
        owed = for_person(
            ctx, found.partner, found.current.id, "meeting", f"meeting-pick:{meeting.id}:"
            f"{version + 1}", lambda language, reader: _proposal(
                ctx, language, reader, found.me, meeting.id, version + 1, start))
        keys = await record(session, owed, now)
    await deliver(ctx, keys)
    return reply(t(lang, "meetings.picked", partner=_name(found.partner),
                   when=when(lang, start, zone(ctx, found.me))), replace=True)


def _proposal(ctx: FlowContext, language: str, reader: Participant, by: Participant,
              meeting_id: int, version: int, start: datetime) -> Message:
    value = f"{meeting_id}:{version}:{_minutes(start)}"
    return Message(
        title=t(language, "meetings.proposal_title"),
        blocks=(Paragraph(t(language, "meetings.proposal", partner=_name(by),
                            when=when(language, start, zone(ctx, reader)))),),
        buttons=(Button(ACCEPT, t(language, "meetings.accept_button"), value, "primary"),
                 Button(DECLINE, t(language, "meetings.decline_button"), value)))


def _already_picked(ctx: FlowContext, found: Pair, meeting: Meeting) -> Outcome:
    """Both partners picked at once, or one pressed twice: one pick stands."""
    lang = found.language
    assert meeting.picked_at is not None
    at = when(lang, meeting.picked_at, zone(ctx, found.me))
    if meeting.picked_by == found.me.id:
        return reply(t(lang, "meetings.already_mine", partner=_name(found.partner), when=at))
    return reply(t(lang, "meetings.already_theirs", partner=_name(found.partner), when=at))


def _passed(found: Pair, meeting: Meeting) -> Outcome:
    lang = found.language
    return reply(t(lang, "meetings.passed"), buttons=(
        find_button(lang, meeting.tandem_id, meeting.period),))


# 3. accept or decline ------------------------------------------------------------------

async def accept(ctx: FlowContext, press: ButtonPress) -> Outcome:
    meeting, found, version, start = await _meeting(ctx, press)
    lang, now = found.language, ctx.clock.now()
    if meeting.picked_at is None and meeting.status == MeetingStatus.SCHEDULED and \
            meeting.starts_at == start:
        return reply(t(lang, "meetings.already_accepted",
                       when=when(lang, start, zone(ctx, found.me))))
    if version != meeting.version or meeting.picked_at != start:
        raise values.Stale(f"pick {start} is not current on {meeting.id}:{meeting.version}")
    if meeting.picked_by == found.me.id:
        return reply(t(lang, "meetings.wait_for_partner", partner=_name(found.partner)))
    if start < now:
        return _passed(found, meeting)
    length = int(ctx.config.meetings.length.total_seconds() // 60)
    async with ctx.db.session() as session:
        if not await meetings.accept(session, meeting, version, length, now):
            raise values.Stale(f"meeting {meeting.id} changed meanwhile")
        agreed = await meetings.meeting_by_id(session, meeting.id)
        assert agreed is not None
        boxes = await mailboxes(session, found.pair)
        # A new meeting (or one found again after a cancel) goes into Outlook when
        # the organiser's mailbox is known; a moved one stays where it was made.
        outlook = ctx.calendar is not None and boxes.get(found.pair.mentee.id) is not None \
            and (meeting.status != MeetingStatus.SCHEDULED or in_outlook(meeting))
        if outlook:
            await meetings.owe_calendar(session, agreed.id, agreed.sequence)
        keys = await record(session, _invites(ctx, found, agreed, now, boxes, outlook), now)
    await deliver(ctx, keys)
    if outlook:
        await _make_event(ctx, agreed.id)
    return reply(t(lang, "meetings.accepted", when=when(lang, start, zone(ctx, found.me))),
                 replace=True)


async def decline(ctx: FlowContext, press: ButtonPress) -> Outcome:
    meeting, found, version, start = await _meeting(ctx, press)
    lang, now = found.language, ctx.clock.now()
    if version != meeting.version or meeting.picked_at != start:
        raise values.Stale(f"pick {start} is not current on {meeting.id}:{meeting.version}")
    if meeting.picked_by == found.me.id:
        return reply(t(lang, "meetings.wait_for_partner", partner=_name(found.partner)))
    async with ctx.db.session() as session:
        if not await meetings.decline(session, meeting, version, now):
            raise values.Stale(f"meeting {meeting.id} changed meanwhile")
        owed = for_person(
            ctx, found.partner, found.current.id, "meeting",
            f"meeting-declined:{meeting.id}:{version}", lambda language, reader: Message(
                blocks=(Paragraph(t(language, "meetings.declined", partner=_name(found.me),
                                    when=when(language, start, zone(ctx, reader)))),),
                buttons=(find_button(language, meeting.tandem_id, meeting.period),)))
        keys = await record(session, owed, now)
    await deliver(ctx, keys)
    return reply(t(lang, "meetings.declined_ok", partner=_name(found.partner)),
                 buttons=(find_button(lang, meeting.tandem_id, meeting.period),), replace=True)


# 4. cancel -----------------------------------------------------------------------------

async def cancel(ctx: FlowContext, press: ButtonPress) -> Outcome:
    meeting_id, version = values.numbers(press.value, 2)
    async with ctx.db.session() as session:
        meeting = await meetings.meeting_by_id(session, meeting_id)
    if meeting is None:
        raise values.Stale(f"no meeting {meeting_id}")
    found = await _pair(ctx, press.actor, meeting.tandem_id)
    lang, now = found.language, ctx.clock.now()
    if meeting.status == MeetingStatus.CANCELLED:
        return reply(t(lang, "meetings.already_cancelled"))
    if version != meeting.version or meeting.status != MeetingStatus.SCHEDULED:
        raise values.Stale(f"meeting {meeting.id} is not at version {version}")
    outlook = ctx.calendar is not None and in_outlook(meeting)
    async with ctx.db.session() as session:
        if not await meetings.cancel(session, meeting, version, now):
            raise values.Stale(f"meeting {meeting.id} changed meanwhile")
        cancelled = await meetings.meeting_by_id(session, meeting.id)
        assert cancelled is not None
        if outlook:
            await meetings.owe_calendar(session, cancelled.id, cancelled.sequence)
        boxes = await mailboxes(session, found.pair)
        keys = await record(session, _invites(ctx, found, cancelled, now, boxes, outlook), now)
    await deliver(ctx, keys)
    if outlook:
        await _make_event(ctx, cancelled.id)
    return reply(t(lang, "meetings.cancelled_ok"), buttons=(
        find_button(lang, meeting.tandem_id, meeting.period),), replace=True)


# the invite ----------------------------------------------------------------------------

def in_outlook(meeting: Meeting) -> bool:
    """Whether the meeting's event is (or is being) made in the organiser's calendar."""
    return meeting.calendar_event_id is not None or meeting.calendar_owed is not None


async def mailboxes(session: Session, pair: TandemPeople) -> dict[int, str | None]:
    """Both partners' e-mails from the directory, by participant id."""
    return {p.id: await calendars.mailbox_of(session, p) for p in pair.people}


async def _make_event(ctx: FlowContext, meeting_id: int) -> None:
    from conversations.meeting_events import make_event

    await make_event(ctx, meeting_id)


def invite_for(ctx: FlowContext, found: Pair, meeting: Meeting, language: str,
               now: datetime, topic: str, boxes: Mapping[int, str | None] | None = None
               ) -> Invite:
    assert meeting.starts_at is not None and meeting.ends_at is not None
    mentor, mentee = found.pair.people
    boxes = boxes or {}
    # The senior organises: it is usually their calendar that is full.
    return Invite(
        uid=meeting_uid(meeting.tandem_id, meeting.period),
        sequence=meeting.sequence or 0, start=meeting.starts_at, end=meeting.ends_at,
        zone=zone(ctx, mentee),
        summary=t(language, "meetings.summary", mentor=_name(mentor), mentee=_name(mentee)),
        description=t(language, "meetings.description", programme=ctx.config.programme_name,
                      month=meeting.period, topic=topic),
        organizer=Attendee(_name(mentee), boxes.get(mentee.id)),
        attendees=(Attendee(_name(mentee), boxes.get(mentee.id)),
                   Attendee(_name(mentor), boxes.get(mentor.id))),
        stamp=now, cancelled=meeting.status == MeetingStatus.CANCELLED)


def _invites(ctx: FlowContext, found: Pair, meeting: Meeting, now: datetime,
             boxes: Mapping[int, str | None], outlook: bool = False) -> list[Owed]:
    """Per partner: the message with links and buttons, then the ``.ics`` file; with
    ``outlook`` (the event is made in the organiser's calendar) the message only."""
    cancelled, stem = meeting.status == MeetingStatus.CANCELLED, _stem(meeting)
    owed: list[Owed] = []
    for person in found.pair.people:
        other = found.partner if person is found.me else found.me

        def compose(language: str, reader: Participant, other: Participant = other
                    ) -> Message:
            invite = _invite(ctx, found, meeting, language, now, boxes)
            at = when(language, invite.start, zone(ctx, reader))
            if cancelled:
                return Message(blocks=(Paragraph(t(
                    language, "meetings.cancelled_outlook" if outlook else "meetings.cancelled",
                    when=at, partner=_name(other))),), buttons=(find_button(
                        language, meeting.tandem_id, meeting.period),))
            return Message(
                title=t(language, "meetings.fixed_title"),
                blocks=(Paragraph(t(language, "meetings.fixed_outlook", when=at,
                                    partner=_name(other))),) if outlook else (
                    Paragraph(t(language, "meetings.fixed", when=at, partner=_name(other))),
                    Paragraph(t(language, "meetings.links", outlook=outlook_link(invite),
                                google=google_link(invite)))),
                buttons=(Button(CHECKIN_MET, t(language, "checkin.met_button"),
                                f"{meeting.tandem_id}:{meeting.period}"),
                         Button(FIND, t(language, "meetings.move_button"),
                                f"{meeting.tandem_id}:{meeting.period}"),
                         Button(CANCEL, t(language, "meetings.cancel_button"),
                                f"{meeting.id}:{meeting.version}", "danger")))

        owed += for_person(ctx, person, found.current.id, "meeting", f"{stem}:{person.id}",
                           compose)
    return owed if outlook else owed + ics_files(ctx, found, meeting, now, boxes)


def _stem(meeting: Meeting) -> str:
    cancelled = meeting.status == MeetingStatus.CANCELLED
    return f"meeting-{'cancel' if cancelled else 'invite'}:{meeting.id}:{meeting.sequence}"


def _invite(ctx: FlowContext, found: Pair, meeting: Meeting, language: str, now: datetime,
            boxes: Mapping[int, str | None]) -> Invite:
    from conversations.scheduled import suggested_topic

    return invite_for(ctx, found, meeting, language, now,
                      suggested_topic(ctx, found.pair, meeting.period, language), boxes)


def ics_files(ctx: FlowContext, found: Pair, meeting: Meeting, now: datetime,
              boxes: Mapping[int, str | None]) -> list[Owed]:
    """The ``.ics`` invite (or cancel) for each partner, in their language."""
    stem = _stem(meeting)

    def ics(language: str) -> str:
        return base64.b64encode(build_ics(_invite(ctx, found, meeting, language, now, boxes))
                                ).decode("ascii")

    return [owed for person in found.pair.people
            for owed in file_for(ctx, person, found.current.id, "meeting_ics",
                                 f"{stem}:ics:{person.id}", f"tandem-{meeting.period}.ics",
                                 ics, lambda language, _reader: Message.text(
                                     t(language, "meetings.ics_note")))]


def first_working_day_after(people: list[WorkingTime], moment: datetime
                            ) -> list[tuple[WorkingTime, date]]:
    """Each person's first working day after the day of ``moment`` (in their zone)."""
    found = []
    for person in people:
        day = moment.astimezone(person.zone).date() + timedelta(days=1)
        while not person.works_on(day):
            day += timedelta(days=1)
        found.append((person, day))
    return found
