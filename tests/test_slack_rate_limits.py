"""Slack's rate limits are per workspace: in OAuth mode a 429 holds back only the
installation that got it, for as long as its Retry-After says (on the injected
clock), while a fan-out goes on at full speed to the other workspaces."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from conversations.messages import Message
from conversations.owed import DIRECT, Owed, record, run_owed
from storage.db import Database
from storage.deliveries import Claim
from tests.fakes.slack_grid import FakeGrid
from tests.helpers.grid import BERLIN, ENTERPRISE, MUNICH, acme, command, install, serve_oauth
from tests.helpers.servers import Served, post

BERLINERS = [f"W0BER{i}" for i in range(6)]
MUNICHERS = [f"W0MUC{i}" for i in range(6)]
BUSY = f"{ENTERPRISE}:{MUNICH}"


@pytest.fixture
async def grid() -> AsyncIterator[FakeGrid]:
    fake = acme(FakeGrid())
    for user in BERLINERS:
        fake.add_member(user, user, BERLIN)
    for user in MUNICHERS:
        fake.add_member(user, user, MUNICH)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def served(grid: FakeGrid, config: AppConfig, clock: FixedClock, db: Database
                 ) -> AsyncIterator[Served]:
    async with serve_oauth(grid, config, clock, db) as running:
        # One installation per workspace of the org, and everybody seen once.
        for team, people in ((BERLIN, BERLINERS), (MUNICH, MUNICHERS)):
            assert (await install(running, f"team:{team}"))[0] == 200
            for user in people:
                assert (await post(running, command(user, "help", team, org_wide=False)))[0] == 200
        yield running


def sent_to(grid: FakeGrid, installation: str) -> set[str]:
    return {c["channel"] for c in grid.calls_of("chat.postMessage", installation)}


def refused(grid: FakeGrid, installation: str) -> list[dict]:
    return [c.args for c in grid.calls if c.method == "chat.postMessage:429"
            and c.args["_installation"] == installation]


async def test_a_busy_workspace_holds_back_only_its_own_messages(
    served: Served, grid: FakeGrid, clock: FixedClock, db: Database
) -> None:
    ctx = served.runtime.ctx
    async with db.session() as session:
        await record(session, [
            Owed(Claim(f"hello:{user}", "hello", "slack", user), DIRECT, (user,),
                 Message.text("Hallo"))
            for user in BERLINERS + MUNICHERS], clock.now())
    grid.busy[BUSY], grid.retry_after = 100, 300

    await run_owed(ctx, clock.now())
    # Berlin got everything at once; Munich's first 429 held Munich back, and no
    # message was retried in place (each was tried at most once).
    assert sent_to(grid, f"{ENTERPRISE}:{BERLIN}") == set(BERLINERS)
    assert sent_to(grid, BUSY) == set()
    first = refused(grid, BUSY)
    assert 1 <= len(first) <= len(MUNICHERS)
    assert len({c["channel"] for c in first}) == len(first)

    grid.busy[BUSY] = 0  # Slack has calmed down, but Retry-After has not passed yet
    clock.set(clock.now() + timedelta(minutes=3))
    await run_owed(ctx, clock.now())
    assert sent_to(grid, BUSY) == set() and refused(grid, BUSY) == first

    clock.set(clock.now() + timedelta(minutes=5))  # past Retry-After and the release
    await run_owed(ctx, clock.now())
    assert sent_to(grid, BUSY) == set(MUNICHERS)
    assert len(grid.calls_of("chat.postMessage", f"{ENTERPRISE}:{BERLIN}")) == len(BERLINERS)
