"""One programme across an Enterprise Grid organisation, installed org-wide.

People of two workspaces of one org sign up into the same round, a coordinator
matches them, and each cross-workspace tandem is introduced in one group DM
opened with the org's token (naming the workspace where an org token needs
it); announcements reach a channel in each workspace; nudges go out exactly
once however often the scheduler runs. Everything is a signed request to the
real server or a call the real slack_sdk makes to the fake Grid.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from conversations.rhythm import run_due
from storage.db import Database
from storage.models import Installation, Participant
from tests.fakes.slack_grid import FakeGrid
from tests.helpers.grid import (
    BERLIN,
    ENTERPRISE,
    MUNICH,
    acme,
    command,
    event,
    install,
    of_organisation,
    on_grid,
    post_event,
    serve_oauth,
)
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import GOOD, block_action, survey_state, view_submission

COORDINATOR = "W0CLARA"
CHANNELS = ("C0BERLIN", "C0MUNICH")
#: name, workspace, survey answers: two cross-workspace tandems are the best match.
PEOPLE = {
    "W0ANNA": ("Anna", BERLIN, {"department": "Marketing", "topics": ["ai_tools"],
                                "languages": ["de"]}),
    "W0KATRIN": ("Katrin", MUNICH, {"role": "mentee", "department": "Finance",
                                    "topics": ["ai_tools"], "languages": ["de"],
                                    "capacity": "1"}),
    "W0BEN": ("Ben", MUNICH, {"department": "IT", "topics": ["sustainability"],
                              "languages": ["en"]}),
    "W0SARAH": ("Sarah", BERLIN, {"role": "mentee", "department": "Sales",
                                  "topics": ["sustainability"], "languages": ["en"],
                                  "capacity": "1"}),
}


@pytest.fixture
async def grid() -> AsyncIterator[FakeGrid]:
    fake = acme(FakeGrid())
    fake.add_member(COORDINATOR, "Clara", BERLIN)
    for user, (name, team, answers) in PEOPLE.items():
        locale = "de-DE" if answers["languages"] == ["de"] else "en-US"
        fake.add_member(user, name, team, locale=locale)
    fake.channels.update({"C0BERLIN": BERLIN, "C0MUNICH": MUNICH})
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def org_config(config: AppConfig) -> AppConfig:
    return replace(of_organisation(config, ENTERPRISE), coordinators={"slack": (COORDINATOR,)},
                   channels={"slack": CHANNELS})


@pytest.fixture
async def served(grid: FakeGrid, org_config: AppConfig, clock: FixedClock, db: Database
                 ) -> AsyncIterator[Served]:
    async with serve_oauth(grid, org_config, clock, db) as running:
        assert (await install(running, f"org:{ENTERPRISE}"))[0] == 200
        yield running


def posted(grid: FakeGrid, channel: str) -> list[dict[str, Any]]:
    """What Slack shows in a channel, oldest first: the successful posts only."""
    return list(reversed(grid.history.get(channel, [])))


def blocks_in(grid: FakeGrid, channel: str) -> list[list[dict[str, Any]]]:
    """The blocks of every message posted in a channel (or DM), oldest first."""
    return [call["blocks"] if isinstance(call["blocks"], list) else json.loads(call["blocks"])
            for call in grid.of("chat.postMessage") if grid.channel_of(call["channel"]) == channel]


def titles(grid: FakeGrid, channel: str) -> list[str]:
    return [next((b["text"]["text"] for b in blocks if b["type"] == "header"), "")
            for blocks in blocks_in(grid, channel)]


def buttons(grid: FakeGrid, channel: str, action: str) -> list[str]:
    return [element["value"] for blocks in blocks_in(grid, channel) for block in blocks
            if block["type"] == "actions" for element in block["elements"]
            if element["action_id"] == action]


async def sign_up_and_match(served: Served, grid: FakeGrid, clock: FixedClock) -> None:
    ctx = served.runtime.ctx
    clock.set(datetime(2026, 11, 1, 9, 30, tzinfo=UTC))
    await run_due(ctx)  # sign-up opens: both workspaces' channels hear about it
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    for user, (_, team, answers) in PEOPLE.items():
        body = view_submission(user, "survey", survey_state(**{**GOOD, "manager": None,
                                                                **answers}), team_id=team)
        status, _ = await post(served, on_grid(body, team))
        assert status == 200
    clock.set(datetime(2027, 1, 16, 9, 30, tzinfo=UTC))
    await run_due(ctx)
    await post(served, command(COORDINATOR, "match", BERLIN))
    await grid.wait_for("files.completeUploadExternal")
    [confirm] = buttons(grid, "D0CLARA", "match.confirm")
    await post(served, on_grid(block_action(COORDINATOR, "match.confirm", confirm,
                                            team_id=BERLIN,
                                            response_url=grid.response_url()), BERLIN))
    await grid.wait_for("response_url")


async def test_a_round_across_two_workspaces_of_one_org(
    served: Served, grid: FakeGrid, clock: FixedClock, db: Database
) -> None:
    await sign_up_and_match(served, grid, clock)
    org_token = grid.token_of(f"{ENTERPRISE}:")
    anna_katrin, ben_sarah = "GANNATRIN", "G0BENARAH"
    await grid.wait_for("chat.postMessage", 12)  # with the juniors' two mentoring guides
    # One group DM per cross-workspace tandem, opened with the org's token and the
    # first partner's workspace.
    opened = [c for c in grid.of("conversations.open") if "," in c["users"]]
    assert {c["users"] for c in opened} == {"W0ANNA,W0KATRIN", "W0BEN,W0SARAH"}
    assert {c["_token"] for c in opened} == {org_token}
    assert {c["team_id"] for c in opened} <= {BERLIN, MUNICH}
    assert titles(grid, anna_katrin)[0] == "Lernt euch kennen: euer Tandem"
    assert titles(grid, ben_sarah)[0] == "Meet your tandem partner"

    ctx = served.runtime.ctx
    step = datetime(2027, 1, 17, 0, 0, tzinfo=UTC)
    while step <= datetime(2027, 3, 20, tzinfo=UTC):
        clock.set(step)
        await run_due(ctx)
        await run_due(ctx)  # a second scheduler tick (or instance) changes nothing
        step += timedelta(days=1)
    for group in (anna_katrin, ben_sarah):
        shown = [m["text"] for m in posted(grid, group)]
        assert len(shown) == len(set(shown)), shown
    assert titles(grid, anna_katrin) == [
        "Lernt euch kennen: euer Tandem", "Heute startet euer Tandem",
        "Tandem: Zeit für Treffen 1", "Tandem: Zeit für Treffen 2"]
    assert titles(grid, ben_sarah)[2:] == [
        "Tandem: time for meeting 1", "Tandem: time for meeting 2"]
    # Both workspaces' channels got the programme's posts, through the org's token.
    for channel in CHANNELS:
        assert titles(grid, channel)[0].startswith("Reverse Mentoring: Die Anmeldung")
    channel_posts = [c for c in grid.of("chat.postMessage") if c["channel"] in CHANNELS]
    assert {c["_token"] for c in channel_posts} == {org_token}
    # Every call was made with the org's token.
    assert {c.args["_token"] for c in grid.calls
            if c.method not in ("oauth.v2.access", "response_url")} == {org_token}


async def unreachable(db: Database) -> set[str]:
    async with db.session() as session:
        return set((await session.scalars(select(Participant.user_id).where(
            Participant.unreachable_at.is_not(None)))).all())


def texts_to(grid: FakeGrid, user: str) -> list[str]:
    return [m["text"] for m in posted(grid, grid.channel_of(user))]


async def test_losing_and_regaining_workspaces_mid_round(
    served: Served, grid: FakeGrid, clock: FixedClock, db: Database
) -> None:
    await sign_up_and_match(served, grid, clock)
    await grid.wait_for("chat.postMessage", 10)
    clock.set(datetime(2027, 2, 10, 9, 0, tzinfo=UTC))
    # An Org Admin takes the app away from the Munich workspace.
    grid.granted[ENTERPRISE].discard(MUNICH)
    revoked = {"type": "team_access_revoked", "team_ids": [MUNICH]}
    for event_id in ("EvREVOKE1", "EvREVOKE2"):  # told once, even if it comes twice
        status, _ = await post_event(served, event(revoked, team_id=None,
                                                   enterprise_id=ENTERPRISE, org_wide=True,
                                                   event_id=event_id))
        assert status == 200
    assert await served.runtime.background.idle(60)
    assert await unreachable(db) == {"W0KATRIN", "W0BEN"}
    assert sum("Katrin ist vorerst nicht erreichbar" in x for x in texts_to(grid, "W0ANNA")) == 1
    assert sum("Ben cannot be reached" in x for x in texts_to(grid, "W0SARAH")) == 1
    assert sum(f"({MUNICH}): 2" in x for x in texts_to(grid, COORDINATOR)) == 1
    assert not [x for x in texts_to(grid, "W0KATRIN") + texts_to(grid, "W0BEN")
                if "erreichbar" in x or "reached" in x]

    # Given back: reachable again, silently.
    grid.granted[ENTERPRISE].add(MUNICH)
    status, _ = await post_event(served, event(
        {"type": "team_access_granted", "team_ids": [MUNICH]}, team_id=None,
        enterprise_id=ENTERPRISE, org_wide=True, event_id="EvGRANT"))
    assert status == 200 and await unreachable(db) == set()

    # The whole org uninstalls: the installation goes and everybody is unreachable;
    # a new org-wide install brings them all back.
    status, _ = await post_event(served, event(
        {"type": "app_uninstalled"}, team_id=None, enterprise_id=ENTERPRISE, org_wide=True,
        event_id="EvUNINSTALL"))
    assert status == 200
    assert await served.runtime.background.idle(60)
    assert await unreachable(db) == set(PEOPLE)
    async with db.session() as session:
        assert await session.scalar(select(func.count(Installation.id))) == 0
    assert (await install(served, f"org:{ENTERPRISE}"))[0] == 200
    assert await unreachable(db) == set()
