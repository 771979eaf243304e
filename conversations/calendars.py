"""The company's calendars (Microsoft Graph), when app.yaml configures them: free/busy
for Find a time, and the meeting as an Outlook event with a Teams link.

Who sees what, in order:
1. Find a time: the slots also avoid both people's busy times as their calendars
   show them (free/busy only: no titles, nothing stored).
2. Accept: the organiser's calendar gets the event with both as attendees and a
   Teams link, and Exchange sends the invitations; both partners get the chat
   confirmation without an ``.ics`` file. The event is owed in the transaction
   that accepts (``meetings.calendar_owed``), made right after the commit, and
   re-driven by ``run_due`` (``conversations.meeting_events``).
3. When the calendars refuse (403: the permission is not granted, or a mailbox is
   not found): slots fall back to working hours only, the invite goes out as the
   ``.ics`` file, and the coordinators are told once. ``tandem doctor`` shows it.
Without a calendar configured, or for someone whose e-mail the directory does not
know, everything goes through the ``.ics`` as before.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.core.errors import TandemError
from bot.core.i18n import t
from bot.core.invites import Invite
from conversations.audience import coordinator_languages
from conversations.context import FlowContext
from conversations.messages import Message
from conversations.owed import deliver, for_coordinators, record
from storage import directory
from storage.db import Session
from storage.models import Participant

log = logging.getLogger(__name__)
#: The key of the coordinators' note that calendar access is refused: sent once.
DENIED_KEY = "calendar-denied"


class CalendarDenied(TandemError):
    """The calendars refused: permission not granted, or the mailbox not found."""

    def __init__(self, detail: str) -> None:
        super().__init__("meetings.calendar_failed", detail=detail)
        self.detail = detail


class Calendar(Protocol):
    """What flows need from a calendar service (implemented in ``bot.graph_calendar``).
    Transient failures are retried inside; what still fails raises a ``TandemError``
    (``CalendarDenied`` for a refusal that a retry cannot mend)."""

    async def busy(self, mailboxes: Sequence[str], start: datetime, end: datetime
                   ) -> list[tuple[datetime, datetime]]:
        """Every interval in ``start``..``end`` when one of ``mailboxes`` is busy."""
        ...

    async def save_event(self, invite: Invite, event_id: str | None) -> str:
        """Create the event in the organiser's calendar (``event_id`` None; the same
        invite asked twice gives the same event) or move it; returns its id."""
        ...

    async def cancel_event(self, organiser: str, event_id: str) -> None:
        """Remove the event (the attendees are told); one already gone is fine."""
        ...


async def mailbox_of(session: Session, person: Participant) -> str | None:
    """The person's e-mail as the directory knows it, or None."""
    found = await directory.person_for(session, person.platform, person.user_id)
    return found.email if found is not None else None


async def location_of(session: Session, person: Participant) -> str | None:
    """The person's location as the directory knows it (office, city, country), or None."""
    found = await directory.person_for(session, person.platform, person.user_id)
    return found.location if found is not None else None


async def busy(ctx: FlowContext, people: Sequence[Participant], start: datetime,
               end: datetime) -> list[tuple[datetime, datetime]]:
    """When these people are busy in their calendars; nothing when no calendar is
    configured, no mailbox is known, or the calendars fail (working hours only)."""
    if ctx.calendar is None:
        return []
    async with ctx.db.session() as session:
        mailboxes = [m for p in people if (m := await mailbox_of(session, p)) is not None]
    if not mailboxes:
        return []
    try:
        return await ctx.calendar.busy(mailboxes, start, end)
    except CalendarDenied as refused:
        await denied(ctx, refused.detail)
    except TandemError as error:
        log.warning("free/busy unavailable, proposing working hours only: %s", error.params)
    return []


async def denied(ctx: FlowContext, detail: str) -> None:
    """Tell the coordinators, once, that calendar access is refused."""
    log.warning("calendar access refused: %s", detail)
    languages = await coordinator_languages(ctx)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        keys = await record(session, for_coordinators(
            ctx, languages, DENIED_KEY, None,
            lambda language: Message.text(t(language, "meetings.calendar_denied",
                                            detail=detail[:300]))), now)
    await deliver(ctx, keys)
