"""The Outlook calendars at their edges, through the real MSAL and aiohttp clients
against the fake Graph on loopback and a real database, found by mutation testing
(issue 19): a meeting cancelled after its event was deleted in Outlook, a partner whose
mailbox Graph does not know (free/busy without them; an organiser it does not know
gets the ``.ics`` instead, and the coordinators are told), and owed events that
``run_due`` makes when the fast path failed."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest

from adapters.local.platform import LocalPlatform
from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.doctor import probe_calendar
from bot.graph_calendar import GraphCalendar
from bot.graph_directory import GraphSettings
from conversations.meeting_events import make_event
from conversations.rhythm import run_due
from storage import directory
from storage.db import Database
from storage.directory import Record
from storage.models import MeetingStatus
from tests.helpers.graph import GraphWithStrangers, Waits, running_graph_with_strangers
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
def strangers() -> set[str]:
    return set()


@pytest.fixture
async def graph(tmp_path: Path, strangers: set[str]) -> AsyncIterator[GraphWithStrangers]:
    async with running_graph_with_strangers(tmp_path, TENANT, strangers) as fake:
        yield fake


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return with_graph(config)


@pytest.fixture
def known() -> dict[str, str]:
    """The e-mails the directory knows, by local user."""
    return MAILBOXES


@pytest.fixture
async def platform(config: AppConfig, clock: FixedClock, db: Database,
                   graph: GraphWithStrangers, known: dict[str, str]) -> LocalPlatform:
    return await platform_with(config, clock, db, GraphCalendar(
        GraphSettings.from_env(TENANT, graph.env()), sleep=Waits()), known)


def texts(platform: LocalPlatform, user: str) -> list[str]:
    return platform.transcript(user)


async def test_cancelling_a_meeting_whose_event_was_deleted_in_outlook(
        platform: LocalPlatform, graph: GraphWithStrangers, db: Database,
        clock: FixedClock) -> None:
    await matched(platform, clock)
    await agree(platform, (await find(platform))[0])
    assert graph.created == ["AAMkAD-1"]
    del graph.events["AAMkAD-1"]  # Katrin deleted it in Outlook
    await platform.press(ANNA, "meeting.cancel",
                         newest_button(platform, "anna", "meeting.cancel") or "")
    meeting = await the_meeting(db)
    assert meeting.status == MeetingStatus.CANCELLED
    assert meeting.calendar_owed is None and meeting.calendar_event_id is None
    assert graph.calls.count("events:delete:AAMkAD-1") == 1
    # Done, not retried: the safety net asks Graph nothing more.
    await run_due(platform.ctx)
    assert graph.calls.count("events:delete:AAMkAD-1") == 1
    assert not platform.messenger.files["anna"]
    assert not any(DENIED in x for x in texts(platform, "coord"))


@pytest.mark.parametrize("strangers", [{MAILBOXES["anna"]}])
async def test_free_busy_without_a_mailbox_graph_does_not_know(
        platform: LocalPlatform, graph: GraphWithStrangers, db: Database,
        clock: FixedClock) -> None:
    """Graph answers Anna's schedule with an error: Katrin's busy times still count."""
    await matched(platform, clock)
    free = starts(await find(platform))
    graph.busy[MAILBOXES["katrin"]] = [(free[0], free[0] + timedelta(hours=1), "busy")]
    slots = await find(platform)
    assert len(slots) == 3 and free[0] not in starts(slots)


@pytest.mark.parametrize("strangers", [{MAILBOXES["katrin"]}])
async def test_an_organiser_graph_does_not_know_gets_the_ics_and_coordinators_are_told(
        platform: LocalPlatform, graph: GraphWithStrangers, db: Database,
        clock: FixedClock) -> None:
    await matched(platform, clock)
    await agree(platform, (await find(platform))[0])
    assert "events:post:404" in graph.calls and graph.created == []
    meeting = await the_meeting(db)
    assert meeting.status == MeetingStatus.SCHEDULED and meeting.calendar_owed is None
    for user in ("anna", "katrin"):
        [(_, content)] = platform.messenger.files[user]
        assert icalendar.Calendar.from_ical(content)["METHOD"] == "REQUEST"
    [note] = [x for x in texts(platform, "coord") if DENIED in x]
    assert "ErrorInvalidUser" in note


async def test_run_due_makes_an_event_the_fast_path_could_not(
        platform: LocalPlatform, graph: GraphWithStrangers, db: Database,
        clock: FixedClock) -> None:
    await matched(platform, clock)
    slots = await find(platform)
    graph.calendar_throttle = 8  # every attempt of the fast path
    await agree(platform, slots[0])
    assert (await the_meeting(db)).calendar_owed == 0 and graph.created == []
    await run_due(platform.ctx)
    meeting = await the_meeting(db)
    assert graph.created == ["AAMkAD-1"] and meeting.calendar_event_id == "AAMkAD-1"
    assert meeting.calendar_owed is None
    assert graph.events["AAMkAD-1"]["organiser"] == MAILBOXES["katrin"]


def ics_of(platform: LocalPlatform, user: str) -> list[tuple[str, int]]:
    """Each .ics the person got: its METHOD and SEQUENCE."""
    found = []
    for _, content in platform.messenger.files[user]:
        calendar = icalendar.Calendar.from_ical(content)
        found.append((str(calendar["METHOD"]), int(calendar.walk("VEVENT")[0]["SEQUENCE"])))
    return found


@pytest.mark.parametrize("known", [{"anna": MAILBOXES["anna"]}])
async def test_without_the_organiser_s_mailbox_the_meeting_is_an_ics_with_links(
        platform: LocalPlatform, graph: GraphWithStrangers, db: Database,
        clock: FixedClock) -> None:
    """The directory knows Anna's e-mail but not Katrin's, who would organise: no
    Outlook event; the confirmation has the one-click links and the .ics."""
    await matched(platform, clock)
    await agree(platform, (await find(platform))[0])
    assert graph.created == [] and not any(c.startswith("events") for c in graph.calls)
    assert (await the_meeting(db)).calendar_owed is None
    for user in ("anna", "katrin"):
        assert ics_of(platform, user) == [("REQUEST", 0)]
        assert any("outlook.office.com" in x for x in texts(platform, user))
        assert not any("Einladung kommt von Outlook" in x for x in texts(platform, user))


async def test_a_meeting_sent_as_ics_stays_ics_when_moved_and_cancelled(
        platform: LocalPlatform, graph: GraphWithStrangers, db: Database,
        clock: FixedClock) -> None:
    """Refused at first, so both got the .ics; once access is granted, moving and
    cancelling that meeting still go by .ics (the same UID, a higher SEQUENCE), not
    as a second event in Outlook."""
    await matched(platform, clock)
    graph.deny = True
    await agree(platform, (await find(platform))[0])
    assert ics_of(platform, "anna") == [("REQUEST", 0)]
    graph.deny = False
    await agree(platform, (await find(platform))[1])
    meeting = await the_meeting(db)
    assert meeting.sequence == 1 and meeting.calendar_owed is None
    await platform.press(ANNA, "meeting.cancel",
                         newest_button(platform, "anna", "meeting.cancel") or "")
    for user in ("anna", "katrin"):
        assert ics_of(platform, user) == [("REQUEST", 0), ("REQUEST", 1), ("CANCEL", 2)]
    assert graph.created == [] and (await the_meeting(db)).calendar_owed is None
    assert any("angehängte Datei entfernt es" in x for x in texts(platform, "katrin"))


async def test_cancelling_an_outlook_meeting_once_the_calendars_are_gone(
        platform: LocalPlatform, graph: GraphWithStrangers, db: Database,
        clock: FixedClock) -> None:
    """The event was made in Outlook; then the instance runs without the calendars
    (app.yaml changed): cancelling sends the .ics CANCEL instead of owing Outlook."""
    await matched(platform, clock)
    await agree(platform, (await find(platform))[0])
    assert graph.created == ["AAMkAD-1"]
    platform.ctx.calendar = None
    await platform.press(ANNA, "meeting.cancel",
                         newest_button(platform, "anna", "meeting.cancel") or "")
    meeting = await the_meeting(db)
    assert meeting.status == MeetingStatus.CANCELLED and meeting.calendar_owed is None
    for user in ("anna", "katrin"):
        assert ics_of(platform, user) == [("CANCEL", 1)]
    assert any("angehängte Datei entfernt es" in x for x in texts(platform, "katrin"))


async def test_cancelling_while_the_event_is_still_owed_makes_nothing(
        platform: LocalPlatform, graph: GraphWithStrangers, db: Database,
        clock: FixedClock) -> None:
    """Graph throttled the event's creation, so it is still owed when Anna cancels:
    the meeting is in Outlook's hands (no .ics), and no event is made after all."""
    await matched(platform, clock)
    slots = await find(platform)
    graph.calendar_throttle = 8
    await agree(platform, slots[0])
    assert (await the_meeting(db)).calendar_owed == 0
    await platform.press(ANNA, "meeting.cancel",
                         newest_button(platform, "anna", "meeting.cancel") or "")
    graph.calendar_throttle = 0
    await run_due(platform.ctx)
    meeting = await the_meeting(db)
    assert meeting.status == MeetingStatus.CANCELLED and meeting.calendar_owed is None
    assert graph.created == [] and meeting.calendar_event_id is None
    assert not platform.messenger.files["anna"] and not platform.messenger.files["katrin"]
    assert any("Outlook entfernt es" in x for x in texts(platform, "katrin"))


async def test_making_an_event_that_is_not_owed_asks_graph_nothing(
        platform: LocalPlatform, graph: GraphWithStrangers, db: Database,
        clock: FixedClock) -> None:
    """A late retry finds the event already made (nothing owed), or the meeting gone
    (its people erased): it leaves the calendar alone."""
    await matched(platform, clock)
    await agree(platform, (await find(platform))[0])
    meeting = await the_meeting(db)
    assert meeting.calendar_owed is None and graph.created == ["AAMkAD-1"]
    asked = list(graph.calls)
    await make_event(platform.ctx, meeting.id)
    await make_event(platform.ctx, meeting.id + 1)
    assert graph.calls == asked
    assert (await the_meeting(db)).calendar_event_id == "AAMkAD-1"


async def test_an_owed_event_whose_organiser_has_no_e_mail_any_more_becomes_the_ics(
        platform: LocalPlatform, graph: GraphWithStrangers, db: Database,
        clock: FixedClock) -> None:
    """The event could not be made at once; by the time run_due tries again the
    directory has no e-mail for Katrin any more: both get the .ics, quietly (nothing was
    refused, so the coordinators are not told)."""
    await matched(platform, clock)
    slots = await find(platform)
    graph.calendar_throttle = 8
    await agree(platform, slots[0])
    assert (await the_meeting(db)).calendar_owed == 0
    graph.calendar_throttle = 0
    async with db.session() as session:
        await directory.save_snapshot(session, "graph", [
            Record("aad-anna", email=MAILBOXES["anna"], display_name="Anna",
                   accounts=(("local", "anna"),)),
            Record("aad-katrin", display_name="Katrin", accounts=(("local", "katrin"),))],
            clock.now())
    await run_due(platform.ctx)
    meeting = await the_meeting(db)
    assert meeting.calendar_owed is None and graph.created == []
    for user in ("anna", "katrin"):
        assert ics_of(platform, user) == [("REQUEST", 0)]
    assert not any(DENIED in x for x in texts(platform, "coord"))


async def test_tandem_doctor_shows_the_first_300_characters_of_a_refusal(
        graph: GraphWithStrangers) -> None:
    graph.deny = True
    graph.refusal_message = "".join(str(n % 10) for n in range(500))
    calendar = GraphCalendar(GraphSettings.from_env(TENANT, graph.env()), sleep=Waits())
    refused = await probe_calendar(calendar, MAILBOXES["anna"])
    answer = str({"error": {"code": "ErrorAccessDenied", "message": graph.refusal_message}})
    assert refused.status == "PROBLEM"
    assert answer[:300] in refused.line() and answer[:301] not in refused.line()


async def test_a_cancel_graph_fails_to_carry_out_stays_owed_until_it_does(
        platform: LocalPlatform, graph: GraphWithStrangers, db: Database,
        clock: FixedClock) -> None:
    """Graph throttles the DELETE past every retry: the cancel stays owed (the event is
    still in Outlook), and run_due deletes it once Graph answers."""
    await matched(platform, clock)
    await agree(platform, (await find(platform))[0])
    assert graph.created == ["AAMkAD-1"]
    graph.calendar_throttle = 8
    await platform.press(ANNA, "meeting.cancel",
                         newest_button(platform, "anna", "meeting.cancel") or "")
    meeting = await the_meeting(db)
    assert meeting.status == MeetingStatus.CANCELLED and meeting.calendar_owed is not None
    assert "AAMkAD-1" in graph.events
    graph.calendar_throttle = 0
    await run_due(platform.ctx)
    meeting = await the_meeting(db)
    assert meeting.calendar_owed is None and graph.events == {}
    assert not platform.messenger.files["anna"]


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/json", "{}"), ("text/plain", "Created")])
async def test_an_event_that_comes_back_without_an_id_stays_owed(
        platform: LocalPlatform, graph: GraphWithStrangers, db: Database,
        clock: FixedClock, content_type: str, body: str) -> None:
    """Graph (or a proxy before it) answers the create 201 without the event's id: the
    meeting is agreed and told, the event stays owed, and run_due finds the event the
    first call made (the same transaction id) instead of making a second."""
    await matched(platform, clock)
    slots = await find(platform)
    graph.odd_answers["events:post"] = (201, content_type, body)
    await platform.press(ANNA, "meeting.pick", slots[0])
    accepted = await platform.press(KATRIN, "meeting.accept",
                                    newest_button(platform, "katrin", "meeting.accept") or "")
    assert "Erledigt" in accepted.message.plain()  # type: ignore[union-attr]
    meeting = await the_meeting(db)
    assert meeting.status == MeetingStatus.SCHEDULED and meeting.calendar_owed == 0
    assert meeting.calendar_event_id is None
    assert any("Einladung kommt von Outlook" in x for x in texts(platform, "katrin"))
    await run_due(platform.ctx)
    meeting = await the_meeting(db)
    assert meeting.calendar_owed is None and meeting.calendar_event_id == "AAMkAD-1"
    assert graph.created == ["AAMkAD-1"]


async def test_a_delete_answered_200_is_done(
        platform: LocalPlatform, graph: GraphWithStrangers, db: Database,
        clock: FixedClock) -> None:
    """Graph documents 204 for a deleted event; a 200 (with a body) is as done."""
    await matched(platform, clock)
    await agree(platform, (await find(platform))[0])
    graph.odd_answers["events:delete"] = (200, "application/json", "{}")
    await platform.press(ANNA, "meeting.cancel",
                         newest_button(platform, "anna", "meeting.cancel") or "")
    meeting = await the_meeting(db)
    assert meeting.calendar_owed is None and graph.events == {}


async def test_free_busy_is_read_as_utc_whatever_the_host_s_zone(
        platform: LocalPlatform, graph: GraphWithStrangers, db: Database,
        clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Graph's times carry no offset; they are UTC, also on a server set to New York."""
    await matched(platform, clock)
    free = starts(await find(platform))
    graph.busy[MAILBOXES["katrin"]] = [(free[0], free[0] + timedelta(hours=1), "busy")]
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        slots = starts(await find(platform))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert len(slots) == 3 and free[0] not in slots


async def test_free_busy_in_another_zone_is_not_guessed(
        platform: LocalPlatform, graph: GraphWithStrangers, db: Database,
        clock: FixedClock) -> None:
    """Items labelled with a Windows zone (a Prefer header elsewhere asked for it) are
    not read as UTC: Find a time falls back to working hours alone."""
    await matched(platform, clock)
    free = starts(await find(platform))
    graph.busy[MAILBOXES["katrin"]] = [(free[0], free[0] + timedelta(hours=1), "busy")]
    graph.schedule_zone = "W. Europe Standard Time"
    assert starts(await find(platform)) == free
    assert not any(DENIED in x for x in texts(platform, "coord"))
