"""Find a time with the company's Outlook calendars, through the real MSAL and aiohttp
clients against the fake Entra login and Microsoft Graph (HTTPS on loopback) and a
real database: slots avoid both people's busy times (after a 429), the event is
created once in the organiser's calendar (a lost answer and two instances at once
give one event), moved and cancelled there; a 403 falls back to working hours and
the ``.ics``, tells the coordinators once, and shows in ``tandem doctor``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from adapters.local.platform import LocalPlatform
from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.doctor import probe_calendar
from bot.graph_calendar import GraphCalendar
from bot.graph_directory import GraphSettings
from conversations.context import FlowContext
from conversations.meeting_events import make_event
from conversations.rhythm import run_due
from storage.db import Database
from storage.models import MeetingStatus
from tests.fakes.graph import FakeGraph
from tests.helpers.graph import Waits, running_graph
from tests.helpers.local import ANNA, KATRIN, matched, newest_button
from tests.helpers.meetings_graph import (
    DENIED,
    MAILBOXES,
    TENANT,
    agree,
    find,
    platform_with,
    starts,
    the_meeting,
    with_graph,
)


@pytest.fixture
async def graph(tmp_path: Path) -> AsyncIterator[FakeGraph]:
    async with running_graph(tmp_path, TENANT) as fake:
        yield fake


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return with_graph(config)


def calendar(graph: FakeGraph, waits: Waits) -> GraphCalendar:
    return GraphCalendar(GraphSettings.from_env(TENANT, graph.env()), sleep=waits)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
async def platform(config: AppConfig, clock: FixedClock, db: Database, graph: FakeGraph,
                   waits: Waits) -> LocalPlatform:
    return await platform_with(config, clock, db, calendar(graph, waits), MAILBOXES)


def texts(platform: LocalPlatform, user: str) -> list[str]:
    return platform.transcript(user)


async def test_busy_times_are_avoided_and_the_event_is_made_once_moved_and_cancelled(
        platform: LocalPlatform, graph: FakeGraph, db: Database, clock: FixedClock,
        waits: Waits) -> None:
    await matched(platform, clock)
    free = await find(platform)
    assert graph.calls.count("getSchedule") == 1
    [asked] = graph.schedule_asks
    assert sorted(asked["schedules"]) == sorted(MAILBOXES.values())
    # Katrin's calendar fills up where the first two slots were; the next ask is
    # throttled once and honours Retry-After.
    first, second, _ = starts(free)
    graph.busy[MAILBOXES["katrin"]] = [(first - timedelta(minutes=30), first + timedelta(
        minutes=45), "busy"), (second, second + timedelta(hours=3), "oof"),
        (second - timedelta(days=30), second + timedelta(days=30), "free")]
    graph.calendar_throttle, graph.retry_after = 1, "7"
    slots = await find(platform)
    assert "getSchedule:429" in graph.calls and waits.seconds == [7.0]
    length = timedelta(hours=1)
    assert len(slots) == 3 and not {first, second} & set(starts(slots))
    for start in starts(slots):
        for busy_start, busy_end, status in graph.busy[MAILBOXES["katrin"]]:
            assert status == "free" or not (start < busy_end and busy_start < start + length)

    # Accepting makes the event in Katrin's (the mentee's) calendar; its answer is
    # lost once (503 after creating it): the retry gives the same event, not a second.
    graph.lose_created = 1
    await agree(platform, slots[0])
    meeting = await the_meeting(db)
    assert meeting.status == MeetingStatus.SCHEDULED and meeting.calendar_owed is None
    assert graph.created == ["AAMkAD-1"] and meeting.calendar_event_id == "AAMkAD-1"
    assert graph.calls.count("events:post") == 2 and "events:post:503" in graph.calls
    event = graph.events["AAMkAD-1"]
    assert event["organiser"] == MAILBOXES["katrin"]
    assert {a["emailAddress"]["address"] for a in event["attendees"]} == set(MAILBOXES.values())
    assert event["isOnlineMeeting"] is True and event["onlineMeetingProvider"] == "teamsForBusiness"
    assert event["start"] == {"dateTime": meeting.starts_at.astimezone(  # type: ignore[union-attr]
        UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}
    # Exchange sends the invitations: no .ics file, and the chat says so.
    assert not platform.messenger.files["anna"] and not platform.messenger.files["katrin"]
    assert any("Einladung kommt von Outlook" in x for x in texts(platform, "anna"))

    # Katrin moves it: the same event is patched to the new time.
    moved = await platform.press(KATRIN, "meeting.find",
                                 newest_button(platform, "katrin", "meeting.find") or "")
    again = [b.value for b in moved.message.buttons  # type: ignore[union-attr]
             if b.action_id == "meeting.pick"]
    await platform.press(KATRIN, "meeting.pick", again[1])
    await platform.press(ANNA, "meeting.accept",
                         newest_button(platform, "anna", "meeting.accept") or "")
    meeting = await the_meeting(db)
    assert meeting.sequence == 1 and "events:patch:AAMkAD-1" in graph.calls
    assert graph.created == ["AAMkAD-1"] and meeting.calendar_owed is None
    assert graph.events["AAMkAD-1"]["start"]["dateTime"] == meeting.starts_at.astimezone(  # type: ignore[union-attr]
        UTC).strftime("%Y-%m-%dT%H:%M:%S")

    # Cancelled: the event is deleted (Exchange tells the attendees), nothing is owed.
    await platform.press(ANNA, "meeting.cancel",
                         newest_button(platform, "anna", "meeting.cancel") or "")
    meeting = await the_meeting(db)
    assert meeting.status == MeetingStatus.CANCELLED and meeting.calendar_owed is None
    assert graph.events == {} and "events:delete:AAMkAD-1" in graph.calls
    assert meeting.calendar_event_id is None
    assert any("Outlook entfernt es" in x for x in texts(platform, "katrin"))
    assert not platform.messenger.files["anna"]


async def test_an_event_left_owed_is_made_once_by_two_instances(
        platform: LocalPlatform, graph: FakeGraph, db: Database, clock: FixedClock,
        config: AppConfig) -> None:
    await matched(platform, clock)
    slots = await find(platform)
    # Graph throttles every attempt of the fast path: the event stays owed.
    graph.calendar_throttle = 8
    await agree(platform, slots[0])
    meeting = await the_meeting(db)
    assert meeting.calendar_owed == 0 and meeting.calendar_event_id is None
    assert graph.created == []
    # Two instances take it up at once (each its own client): one event.
    other = FlowContext(config, clock, db, platform.ctx.messengers,
                        calendar=calendar(graph, Waits()))
    await asyncio.gather(make_event(platform.ctx, meeting.id), make_event(other, meeting.id))
    assert graph.created == ["AAMkAD-1"]
    meeting = await the_meeting(db)
    assert meeting.calendar_owed is None and meeting.calendar_event_id == "AAMkAD-1"
    # The safety net finds nothing left to do.
    await run_due(platform.ctx)
    assert graph.calls.count("events:post") == 2 and graph.created == ["AAMkAD-1"]


async def test_a_refusal_falls_back_to_working_hours_and_the_ics_and_is_told_once(
        platform: LocalPlatform, graph: FakeGraph, db: Database, clock: FixedClock,
        waits: Waits) -> None:
    await matched(platform, clock)
    graph.deny = True
    slots = await find(platform)
    assert len(slots) == 3 and "getSchedule:403" in graph.calls
    notes = [x for x in texts(platform, "coord") if DENIED in x]
    assert len(notes) == 1 and "Access is denied" in notes[0]

    await agree(platform, slots[0])
    assert "events:post:403" in graph.calls and graph.created == []
    meeting = await the_meeting(db)
    assert meeting.status == MeetingStatus.SCHEDULED and meeting.calendar_owed is None
    for user in ("anna", "katrin"):
        [(_, content)] = platform.messenger.files[user]
        ics = icalendar.Calendar.from_ical(content)
        [event] = ics.walk("VEVENT")
        assert ics["METHOD"] == "REQUEST" and event.decoded("DTSTART") == meeting.starts_at
        # The directory's e-mails are in the invite.
        assert str(event["ORGANIZER"]) == f"mailto:{MAILBOXES['katrin']}"
    await find(platform)
    await run_due(platform.ctx)
    assert len([x for x in texts(platform, "coord") if DENIED in x]) == 1

    # tandem doctor says so, and what to grant.
    refused = await probe_calendar(calendar(graph, waits), MAILBOXES["anna"])
    assert refused.status == "PROBLEM" and "Calendars.ReadWrite" in refused.line()
    graph.deny = False
    granted = await probe_calendar(calendar(graph, waits), MAILBOXES["anna"])
    assert granted.status == "OK"


async def test_an_event_deleted_in_outlook_is_made_anew_when_the_meeting_moves(
        platform: LocalPlatform, graph: FakeGraph, db: Database, clock: FixedClock) -> None:
    await matched(platform, clock)
    slots = await find(platform)
    await agree(platform, slots[0])
    assert graph.created == ["AAMkAD-1"]
    del graph.events["AAMkAD-1"]  # Katrin deleted it in Outlook
    await agree(platform, (await find(platform))[1])
    meeting = await the_meeting(db)
    assert meeting.sequence == 1 and meeting.calendar_owed is None
    assert graph.created == ["AAMkAD-1", "AAMkAD-2"] and meeting.calendar_event_id == "AAMkAD-2"
    assert graph.events["AAMkAD-2"]["start"]["dateTime"] == meeting.starts_at.astimezone(  # type: ignore[union-attr]
        UTC).strftime("%Y-%m-%dT%H:%M:%S")
    # Nothing fell back: no .ics, and the coordinators were not told of a refusal.
    assert not platform.messenger.files["anna"]
    assert not any(DENIED in x for x in texts(platform, "coord"))


async def test_a_busy_time_at_the_very_end_of_the_window_is_avoided(
        platform: LocalPlatform, graph: FakeGraph, db: Database, clock: FixedClock) -> None:
    """Asked on Wednesday 10 February at 10:00 Berlin, the last slot may start two weeks
    and two hours later (Wednesday 24th, 12:00 Berlin) and end an hour after: Katrin
    is busy all that time, the last three hours in an item of their own."""
    await matched(platform, clock)
    clock.set(datetime(2027, 2, 10, 9, 0, tzinfo=UTC))
    last_day = datetime(2027, 2, 24, 10, 0, tzinfo=UTC)
    graph.busy[MAILBOXES["katrin"]] = [
        (clock.now(), last_day, "busy"), (last_day, last_day + timedelta(hours=2), "tentative")]
    assert await find(platform) == []
    assert graph.calls.count("getSchedule") == 1
    assert any("keine Zeit gefunden" in x for x in texts(platform, "anna"))
