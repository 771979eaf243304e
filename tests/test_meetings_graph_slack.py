"""Find a time on Slack with the company's Outlook calendars: the real server, signed
Slack requests, the fake Slack, and Microsoft Graph behind real MSAL and aiohttp
(HTTPS on loopback). What the server wires from app.yaml and the environment alone:
the slots avoid a partner's busy days (``getSchedule``), and accepting makes one
Outlook event with both as attendees and a Teams link instead of ``.ics`` files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from storage import directory
from storage.db import Database
from storage.directory import Record
from tests.fakes.graph import FakeGraph
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.graph import running_graph
from tests.helpers.meetings_slack import buttons_in, cast, introduced, posted, press
from tests.helpers.servers import Served

TENANT = "contoso.example"
MAILBOXES = {"U0ANNA": "anna@contoso.example", "U0KATRIN": "katrin@contoso.example"}
#: Katrin's calendar is full on the first two working days Find a time could offer.
BUSY_UNTIL = datetime(2027, 1, 20, 0, 0, tzinfo=UTC)


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return cast()


@pytest.fixture
async def graph(tmp_path: Path) -> AsyncIterator[FakeGraph]:
    async with running_graph(tmp_path, TENANT) as fake:
        fake.busy[MAILBOXES["U0KATRIN"]] = [
            (datetime(2027, 1, 18, 0, 0, tzinfo=UTC), BUSY_UNTIL, "busy")]
        yield fake


@pytest.fixture
def config(config: AppConfig, graph: FakeGraph, monkeypatch: pytest.MonkeyPatch) -> AppConfig:
    # As an operator configures it: the tenant in app.yaml, the app's secrets in the
    # environment the server reads when it starts.
    for name, value in graph.env().items():
        monkeypatch.setenv(name, value)
    return replace(config, meetings=replace(config.meetings, graph_tenant=TENANT))


async def test_outlook_free_busy_and_one_event_on_slack(
        server: Served, slack: FakeSlack, graph: FakeGraph, clock: FixedClock,
        db: Database) -> None:
    async with db.session() as session:
        await directory.save_snapshot(session, "graph", [
            Record(f"aad-{user}", email=mail, display_name=user[3:].title(),
                   accounts=(("slack", user),)) for user, mail in MAILBOXES.items()],
            clock.now())
    group = await introduced(server, slack, clock)
    uploads = len(slack.of("files.completeUploadExternal"))  # the proposal's CSV

    [find] = buttons_in(posted(slack, group), "meeting.find")
    offer = await press(server, slack, "U0ANNA", "meeting.find", find)
    picks = buttons_in([offer], "meeting.pick")
    assert len(picks) == 3
    starts = [datetime.fromtimestamp(int(v.rsplit(":", 1)[1]) * 60, UTC) for v in picks]
    assert "getSchedule" in graph.calls
    assert min(starts) >= BUSY_UNTIL, starts

    await press(server, slack, "U0ANNA", "meeting.pick", picks[0])
    await slack.wait_for("chat.postMessage", 6)
    [accept] = buttons_in(posted(slack, "D0KATRIN"), "meeting.accept")
    await press(server, slack, "U0KATRIN", "meeting.accept", accept)
    assert await server.runtime.background.idle(60)

    [event] = graph.events.values()
    attendees = sorted(a["emailAddress"]["address"] for a in event["attendees"])
    assert attendees == sorted(MAILBOXES.values()), attendees
    assert event["isOnlineMeeting"] is True
    assert event["onlineMeetingProvider"] == "teamsForBusiness"
    assert graph.calls.count("events:post") == 1
    # Outlook sends the invitation: no .ics files in the DMs, and they are told so.
    assert len(slack.of("files.completeUploadExternal")) == uploads
    assert any("Outlook" in c["text"] for c in posted(slack, "D0KATRIN"))
