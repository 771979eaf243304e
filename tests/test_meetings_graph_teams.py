"""Find a time on Teams with the company's Outlook calendars: the real server with
Teams mounted, the fake Bot Connector, and Microsoft Graph behind real MSAL and
aiohttp (HTTPS on loopback), configured as an operator does (the tenant in app.yaml,
the app's secrets in the environment): the slots avoid a partner's busy days, and
accepting makes one Outlook event with both attendees and a Teams link, with no
file offered to either partner."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from storage import directory
from storage.db import Database
from storage.directory import Record
from tests.fakes.bot_connector import TeamsWorld
from tests.fakes.graph import FakeGraph
from tests.helpers.graph import running_graph
from tests.helpers.meetings_teams import (
    CLARA,
    CONSENT,
    LENA,
    SARAH,
    actions,
    introduced,
    newest,
    press,
)

TENANT = "contoso.example"
MAILBOXES = {LENA.key: "lena@contoso.example", SARAH.key: "sarah@contoso.example"}
#: Lena's calendar is full on the first two working days Find a time could offer.
BUSY_UNTIL = datetime(2027, 1, 20, 0, 0, tzinfo=UTC)


@pytest.fixture
async def graph(tmp_path: Path) -> AsyncIterator[FakeGraph]:
    async with running_graph(tmp_path, TENANT) as fake:
        fake.busy[MAILBOXES[LENA.key]] = [
            (datetime(2027, 1, 18, 0, 0, tzinfo=UTC), BUSY_UNTIL, "busy")]
        yield fake


@pytest.fixture
def config(config: AppConfig, graph: FakeGraph, monkeypatch: pytest.MonkeyPatch) -> AppConfig:
    for name, value in graph.env().items():
        monkeypatch.setenv(name, value)
    return dataclasses.replace(
        config, coordinators={**config.coordinators, "teams": (CLARA.key,)},
        meetings=dataclasses.replace(config.meetings, graph_tenant=TENANT))


async def test_outlook_free_busy_and_one_event_on_teams(
        world: TeamsWorld, graph: FakeGraph, clock: FixedClock, db: Database) -> None:
    async with db.session() as session:
        await directory.save_snapshot(session, "graph", [
            Record(key, email=mail, display_name=key, accounts=(("teams", key),))
            for key, mail in MAILBOXES.items()], clock.now())
    await introduced(world, clock)

    intro, find = newest(world, SARAH, "meeting.find")
    offer = await press(world, SARAH, intro, find)
    picks = actions(offer, "meeting.pick")
    assert len(picks) == 3
    starts = [datetime.fromtimestamp(int(p["value"].rsplit(":", 1)[1]) * 60, UTC)
              for p in picks]
    assert "getSchedule" in graph.calls
    assert min(starts) >= BUSY_UNTIL, starts
    await press(world, SARAH, offer, picks[0])
    proposal_card, accept = newest(world, LENA, "meeting.accept")
    await press(world, LENA, proposal_card, accept)
    assert await world.runtime.background.idle(60)

    [event] = graph.events.values()
    attendees = sorted(a["emailAddress"]["address"] for a in event["attendees"])
    assert attendees == sorted(MAILBOXES.values()), attendees
    assert event["isOnlineMeeting"] is True
    assert graph.calls.count("events:post") == 1
    # Outlook sends the invitation: no file offered to either partner, and both told so.
    for user in (LENA, SARAH):
        calls = world.connector.messages(user.chat)
        assert not any(a.get("contentType") == CONSENT
                       for c in calls for a in c.body.get("attachments") or [])
        assert "Outlook" in calls[-1].all_text()
