"""Calendar invites for a tandem's meeting: RFC 5545 ``.ics`` and add-to-calendar links.

Pure: an ``Invite`` in, bytes or a URL out. One meeting keeps one UID (per
tandem and month) for its whole life: moving it re-sends the same UID with a
higher SEQUENCE (calendars replace the event), cancelling sends METHOD:CANCEL
with the same UID and a higher SEQUENCE still (calendars remove it). Times are
written in the organiser's zone with its VTIMEZONE, so a calendar in any zone
shows the right instant and the daylight-saving rules travel with the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import icalendar

PRODID = "-//Tandem//Reverse mentoring//EN"


@dataclass(frozen=True)
class Attendee:
    name: str
    #: From the directory when known; without it the person is named in the text only.
    email: str | None = None


@dataclass(frozen=True)
class Invite:
    uid: str
    sequence: int
    start: datetime
    end: datetime
    zone: ZoneInfo
    summary: str
    description: str
    organizer: Attendee
    attendees: tuple[Attendee, ...]
    #: When this version was made (DTSTAMP).
    stamp: datetime
    cancelled: bool = False


def meeting_uid(tandem_id: int, period: int, domain: str = "tandem.invalid") -> str:
    """One UID per tandem and month: a move replaces, a cancel removes, that event."""
    return f"tandem-{tandem_id}-month-{period}@{domain}"


def build_ics(invite: Invite) -> bytes:
    """METHOD:REQUEST (or CANCEL) with one VEVENT and the VTIMEZONE it uses."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if invite.cancelled else "REQUEST")
    event = icalendar.Event()
    event.add("uid", invite.uid)
    event.add("sequence", invite.sequence)
    event.add("dtstamp", invite.stamp.astimezone(UTC))
    event.add("dtstart", invite.start.astimezone(invite.zone))
    event.add("dtend", invite.end.astimezone(invite.zone))
    event.add("summary", invite.summary)
    event.add("description", invite.description)
    event.add("status", "CANCELLED" if invite.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    organizer = _address(invite.organizer)
    if organizer is not None:
        event.add("organizer", organizer)
    for person in invite.attendees:
        address = _address(person, attendee=True)
        if address is not None:
            event.add("attendee", address)
    calendar.add_component(event)
    day = invite.start.date()
    calendar.add_component(icalendar.Timezone.from_tzinfo(
        invite.zone, tzid=invite.zone.key, first_date=day - timedelta(days=366),
        last_date=day + timedelta(days=366)))
    return bytes(calendar.to_ical())


def _address(person: Attendee, attendee: bool = False) -> icalendar.vCalAddress | None:
    if not person.email:
        return None
    address = icalendar.vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = icalendar.vText(person.name)
    if attendee:
        address.params["ROLE"] = icalendar.vText("REQ-PARTICIPANT")
        address.params["PARTSTAT"] = icalendar.vText("NEEDS-ACTION")
        address.params["RSVP"] = icalendar.vText("TRUE")
    return address


def google_link(invite: Invite) -> str:
    """Google Calendar's "add event" page, filled in."""
    def utc(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    return "https://calendar.google.com/calendar/render?" + urlencode({
        "action": "TEMPLATE", "text": invite.summary,
        "dates": f"{utc(invite.start)}/{utc(invite.end)}",
        "details": invite.description, "ctz": invite.zone.key})


def outlook_link(invite: Invite) -> str:
    """Outlook on the web's compose page, filled in (work and school accounts)."""
    def iso(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return "https://outlook.office.com/calendar/0/deeplink/compose?" + urlencode({
        "path": "/calendar/action/compose", "rru": "addevent", "subject": invite.summary,
        "startdt": iso(invite.start), "enddt": iso(invite.end), "body": invite.description})
