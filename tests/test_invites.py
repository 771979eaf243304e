"""The calendar invite (bot.core.invites): the ``.ics`` parses back with
``icalendar`` and with ``vobject`` (an independent parser), with the right times,
zone, UID, SEQUENCE and METHOD for create, move and cancel; and the
add-to-calendar links carry the same instant."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import vobject

from bot.core.invites import (
    Attendee,
    Invite,
    build_ics,
    google_link,
    meeting_uid,
    outlook_link,
)

BERLIN = ZoneInfo("Europe/Berlin")
#: 30 March 2027, 15:00 in Berlin (summer time since the 28th): 13:00 UTC.
START = datetime(2027, 3, 30, 13, 0, tzinfo=UTC)


def invite(**change: object) -> Invite:
    base = Invite(
        uid=meeting_uid(7, 2, "tandem.example.com"), sequence=0,
        start=START, end=START + timedelta(hours=1), zone=BERLIN,
        summary="Tandem: Ada & Grace",
        description="This month's idea: try an AI tool on a real task; together, "
                    "with a line long enough to be folded by the writer, ÄÖÜ ß.",
        organizer=Attendee("Grace Hopper", "grace@example.com"),
        attendees=(Attendee("Grace Hopper", "grace@example.com"),
                   Attendee("Ada Lovelace", "ada@example.com")),
        stamp=datetime(2027, 3, 20, 9, 0, tzinfo=UTC))
    return replace(base, **change)  # type: ignore[arg-type]


def test_create_parses_back_with_icalendar() -> None:
    data = build_ics(invite())
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar["METHOD"] == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == "tandem-7-month-2@tandem.example.com"
    assert event["SEQUENCE"] == 0
    start = event.decoded("DTSTART")
    assert start == START and start.tzinfo is not None
    assert str(start.tzinfo) == "Europe/Berlin" or getattr(start.tzinfo, "key", "") == (
        "Europe/Berlin")
    assert start.astimezone(BERLIN).hour == 15
    assert event.decoded("DTEND") - start == timedelta(hours=1)
    assert "try an AI tool" in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]) == "mailto:grace@example.com"
    assert sorted(str(a) for a in event["ATTENDEE"]) == ["mailto:ada@example.com",
                                                        "mailto:grace@example.com"]
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Berlin"
    assert {c.name for c in zone.subcomponents} == {"STANDARD", "DAYLIGHT"}


def unfolded(data: bytes) -> list[str]:
    """RFC 5545 3.1 by hand: CRLF line ends, continuation lines start with a space,
    no line longer than 75 octets."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    raw = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in raw)
    lines: list[str] = []
    for line in raw:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def test_create_parses_back_with_vobject_and_by_hand() -> None:
    data = build_ics(invite())
    parsed = vobject.readOne(data.decode("utf-8"))
    assert parsed.method.value == "REQUEST"
    event = parsed.vevent
    assert event.uid.value == "tandem-7-month-2@tandem.example.com"
    assert int(event.sequence.value) == 0
    assert event.dtstart.value == START
    # vobject reads the offset from the file's own VTIMEZONE: summer time, +2 hours
    assert event.dtstart.value.utcoffset() == timedelta(hours=2)
    assert event.dtend.value == START + timedelta(hours=1)
    assert "ÄÖÜ ß" in event.description.value
    lines = unfolded(data)
    assert "DTSTART;TZID=Europe/Berlin:20270330T150000" in lines
    assert "DTEND;TZID=Europe/Berlin:20270330T160000" in lines
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "BEGIN:VTIMEZONE" in lines


def test_move_keeps_the_uid_and_raises_the_sequence() -> None:
    moved = invite(sequence=1, start=START + timedelta(days=1, hours=-5),
                   end=START + timedelta(days=1, hours=-4))
    parsed = vobject.readOne(build_ics(moved).decode("utf-8"))
    assert parsed.method.value == "REQUEST"
    assert parsed.vevent.uid.value == "tandem-7-month-2@tandem.example.com"
    assert int(parsed.vevent.sequence.value) == 1
    assert parsed.vevent.dtstart.value.astimezone(BERLIN).strftime("%d %H:%M") == "31 10:00"
    event = icalendar.Calendar.from_ical(build_ics(moved)).walk("VEVENT")[0]
    assert event["SEQUENCE"] == 1


def test_cancel_is_method_cancel_with_the_same_uid() -> None:
    data = build_ics(invite(sequence=2, cancelled=True))
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar["METHOD"] == "CANCEL"
    [event] = calendar.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] == 2
    parsed = vobject.readOne(data.decode("utf-8"))
    assert parsed.method.value == "CANCEL"
    assert parsed.vevent.uid.value == "tandem-7-month-2@tandem.example.com"


def test_without_e_mails_no_organizer_or_attendees() -> None:
    nobody = Attendee("Ada Lovelace")
    event = icalendar.Calendar.from_ical(
        build_ics(invite(organizer=nobody, attendees=(nobody,)))).walk("VEVENT")[0]
    assert "ORGANIZER" not in event and "ATTENDEE" not in event


def test_new_york_zone_in_winter() -> None:
    new_york = ZoneInfo("America/New_York")
    start = datetime(2027, 12, 7, 14, 30, tzinfo=UTC)
    lines = unfolded(build_ics(invite(zone=new_york, start=start,
                                      end=start + timedelta(minutes=45))))
    assert "DTSTART;TZID=America/New_York:20271207T093000" in lines
    assert "DTEND;TZID=America/New_York:20271207T101500" in lines


def test_add_to_calendar_links() -> None:
    google = parse_qs(urlsplit(google_link(invite())).query)
    assert google["dates"] == ["20270330T130000Z/20270330T140000Z"]
    assert google["text"] == ["Tandem: Ada & Grace"]
    outlook = urlsplit(outlook_link(invite()))
    assert outlook.netloc == "outlook.office.com"
    query = parse_qs(outlook.query)
    assert query["startdt"] == ["2027-03-30T13:00:00Z"]
    assert query["enddt"] == ["2027-03-30T14:00:00Z"]
    assert query["subject"] == ["Tandem: Ada & Grace"]


def test_the_file_carries_what_calendars_require_and_show() -> None:
    """RFC 5545 requires PRODID and VERSION on the calendar and DTSTAMP on the event
    (Outlook refuses a file without them); SUMMARY is the title people see."""
    lines = unfolded(build_ics(invite()))
    assert "PRODID:-//Tandem//Reverse mentoring//EN" in lines
    assert "VERSION:2.0" in lines
    assert "DTSTAMP:20270320T090000Z" in lines
    assert "SUMMARY:Tandem: Ada & Grace" in lines
    event = icalendar.Calendar.from_ical(build_ics(invite())).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Tandem: Ada & Grace"


def test_attendees_are_asked_to_answer_and_everyone_is_named() -> None:
    """Each attendee is required and asked to reply (the calendar shows Accept and
    Decline); organiser and attendees carry their names beside their addresses."""
    event = icalendar.Calendar.from_ical(build_ics(invite())).walk("VEVENT")[0]
    assert event["ORGANIZER"].params["CN"] == "Grace Hopper"
    assert "RSVP" not in event["ORGANIZER"].params
    by_address = {str(a): a.params for a in event["ATTENDEE"]}
    assert by_address["mailto:ada@example.com"]["CN"] == "Ada Lovelace"
    for params in by_address.values():
        assert (params["ROLE"], params["PARTSTAT"], params["RSVP"]) == (
            "REQ-PARTICIPANT", "NEEDS-ACTION", "TRUE")
