"""The meeting as an event in the organiser's Outlook calendar: made once it is owed.

Who sees what, in order:
1. Accepting, moving or cancelling a meeting that lives in Outlook marks the
   calendar change as owed (``meetings.calendar_owed``) in the same transaction;
   right after the commit ``make_event`` creates the event (both partners as
   attendees, a Teams link; Exchange sends the invitations), moves it, or
   deletes it (Exchange tells the attendees). Nobody gets a chat message from
   this step: the chat confirmation was owed with the change.
2. Whatever a crash, an outage or a 429/503 left owed, ``run_due`` makes later
   (``run_owed_events``). A retry, or two instances at once, give one event: the
   create carries a stable transaction id, and a move or a delete can be repeated.
3. When the calendars refuse (403), each partner gets the ``.ics`` invite instead
   (owed with clearing the calendar's debt) and the coordinators are told once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.core.errors import TandemError
from conversations.calendars import CalendarDenied, denied
from conversations.context import FlowContext
from conversations.meetings import Pair, ics_files, invite_for, mailboxes
from conversations.owed import deliver, record
from conversations.scheduled import suggested_topic
from storage import meetings, rounds, tandems
from storage.models import Meeting, MeetingStatus

log = logging.getLogger(__name__)


async def make_event(ctx: FlowContext, meeting_id: int) -> None:
    """Make the calendar change the meeting is owed, if any (module doc)."""
    calendar = ctx.calendar
    if calendar is None:
        return  # left owed for an instance that has the calendars configured
    async with ctx.db.session() as session:
        meeting = await meetings.meeting_by_id(session, meeting_id)
        if meeting is None or meeting.calendar_owed is None:
            return
        pair = await tandems.tandem_people(session, meeting.tandem_id)
        current = await rounds.round_by_id(session, pair.tandem.round_id) if pair else None
        boxes = await mailboxes(session, pair) if pair else {}
    if pair is None or current is None:
        return
    owed = meeting.calendar_owed
    found = Pair(pair, pair.mentee, pair.mentor, current, ctx.language(pair.mentee.locale))
    organiser = boxes.get(pair.mentee.id)
    event_id: str | None = None
    try:
        if organiser is None:
            # The directory no longer knows the organiser's e-mail: the .ics, quietly.
            await _instead(ctx, found, meeting, owed, boxes)
            return
        if meeting.status == MeetingStatus.CANCELLED:
            if meeting.calendar_event_id is not None:
                await calendar.cancel_event(organiser, meeting.calendar_event_id)
        else:
            language = found.language
            invite = invite_for(ctx, found, meeting, language, ctx.clock.now(), suggested_topic(
                ctx, pair, meeting.period, language), boxes)
            event_id = await calendar.save_event(invite, meeting.calendar_event_id)
    except CalendarDenied as refused:
        await _instead(ctx, found, meeting, owed, boxes)
        await denied(ctx, refused.detail)
        return
    except TandemError as error:
        # Still owed: run_due tries again.
        log.warning("calendar change for meeting %s failed, retried later: %s",
                    meeting.id, error.params)
        return
    async with ctx.db.session() as session:
        await meetings.calendar_made(session, meeting.id, owed, event_id)


async def _instead(ctx: FlowContext, found: Pair, meeting: Meeting, owed: int,
                   boxes: Mapping[int, str | None]) -> None:
    """The ``.ics`` files instead of the calendar change, owed as the debt is cleared."""
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        if not await meetings.calendar_made(session, meeting.id, owed,
                                            meeting.calendar_event_id):
            return  # a newer change is owed: that one decides
        keys = await record(session, ics_files(ctx, found, meeting, now, boxes), now)
    await deliver(ctx, keys)


async def run_owed_events(ctx: FlowContext) -> int:
    """Make every calendar change still owed (the safety net); how many were tried."""
    if ctx.calendar is None:
        return 0
    async with ctx.db.session() as session:
        owed = await meetings.calendar_owed(session)
    for meeting_id in owed:
        if not ctx.stopping.is_set():
            await make_event(ctx, meeting_id)
    return len(owed)
