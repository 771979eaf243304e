"""No message lost or sent twice: downtime, racing runs, a killed sender, two servers.

These tests run the real ``tandem`` command in subprocesses against the real
database and a fake Slack Web API on loopback, and count what Slack received.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from conversations.context import FlowContext
from conversations.rhythm import run_due
from storage.db import Database
from storage.models import Delivery
from tests.fakes.slack_api import FakeSlack
from tests.helpers import ROOT
from tests.helpers.live import (
    env_for,
    free_port,
    nudges_per_channel,
    run_due_process,
    two_more_ticks,
)
from tests.helpers.seed import seed_tandems

# Servers and processes started, killed, restarted: run first (tests/helpers/xdist_groups.py).
pytestmark = pytest.mark.long
FIRST_NUDGE = "2027-02-09T09:30:00+00:00"  # Tuesday, 10:30 in Berlin


async def test_downtime_sends_one_catch_up_nudge_and_none_beyond_the_grace(
    db: Database, config: AppConfig
) -> None:
    from adapters.local.platform import LocalMessenger

    seeded = await seed_tandems(db, config, 3, platform="local")
    messenger = LocalMessenger()
    ctx = FlowContext(config, FixedClock(datetime(2027, 2, 1, tzinfo=UTC)), db,
                      {"local": messenger})
    # Off from 1 February (before the first nudge on 9 February) until 10 March,
    # the day after the second nudge: one catch-up nudge, for the second month.
    await run_due(ctx, datetime(2027, 3, 10, 12, tzinfo=UTC))
    await run_due(ctx, datetime(2027, 3, 10, 12, 5, tzinfo=UTC))
    for _, mentor, _ in seeded.tandems:
        titles = [s.message.title for s in messenger.inbox[mentor] if s.message]
        assert titles == ["Tandem: Zeit für Treffen 2"]
    # Off again across the third nudge (13 April) until well beyond the grace.
    await run_due(ctx, datetime(2027, 4, 20, 12, tzinfo=UTC))
    for _, mentor, _ in seeded.tandems:
        assert len(messenger.inbox[mentor]) == 1


async def test_two_run_due_processes_racing_send_every_nudge_once(
    db: Database, config: AppConfig, slack: FakeSlack
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("racing processes on SQLite; PostgreSQL has the two-server test")
    seeded = await seed_tandems(db, config, 120)
    slack.delay = 0.002
    env = env_for(db, slack)
    first, second = await run_due_process(env, FIRST_NUDGE), await run_due_process(
        env, FIRST_NUDGE)
    results = await asyncio.gather(first.communicate(), second.communicate())
    assert first.returncode == 0 and second.returncode == 0, results
    counts = nudges_per_channel(slack)
    assert len(counts) == len(seeded.tandems) and set(counts.values()) == {1}


async def test_a_sender_killed_mid_fan_out_loses_and_doubles_nothing(
    db: Database, config: AppConfig, slack: FakeSlack
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the same code on PostgreSQL is killed in test_instances")
    # 200 nudges, each answered after 0.1 s, 16 at a time: the fan-out lasts over a
    # second however fast the machine, so the kill after 60 comes in its middle, with
    # sends in flight. Slack's delay, not the number of nudges, makes the window.
    seeded = await seed_tandems(db, config, 200)
    slack.delay = 0.1
    env = env_for(db, slack)
    process = await run_due_process(env, FIRST_NUDGE)
    while len(slack.of("chat.postMessage")) < 60:
        assert process.returncode is None, await process.communicate()
        await asyncio.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    await process.wait()
    killed_at = len(slack.of("chat.postMessage"))
    assert killed_at < len(seeded.tandems)

    # Restarted at once: what the dead sender had claimed is left to its lease.
    again = await run_due_process(env, FIRST_NUDGE)
    await again.communicate()
    # A tick after the lease ran out: the rest goes out, what was sent is found.
    later = (datetime.fromisoformat(FIRST_NUDGE) + timedelta(minutes=6)).isoformat()
    last = await run_due_process(env, later)
    _, err = await last.communicate()
    assert last.returncode == 0, err.decode()
    counts = nudges_per_channel(slack)
    assert len(counts) == len(seeded.tandems), "every tandem got its nudge"
    assert set(counts.values()) == {1}, "and none got it twice"
    async with db.session() as session:
        sent = await session.scalar(select(func.count(Delivery.id))
                                    .where(Delivery.status == "sent"))
        taken_over = await session.scalar(select(func.count(Delivery.id))
                                          .where(Delivery.attempts > 1))
    assert sent == len(seeded.tandems)
    # Sends were in flight when the sender died: their claims were taken over.
    assert taken_over >= 1


async def test_two_servers_on_one_postgresql_send_every_nudge_once(
    db: Database, live_config: Path, slack: FakeSlack
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("two servers share a database only on PostgreSQL")
    from bot.core.config import load_config

    config = load_config(live_config)
    seeded = await seed_tandems(db, config, 200, timezone=config.timezone.key)
    servers = []
    ports = (free_port(), free_port())
    for port in ports:
        env = env_for(db, slack, TANDEM_CONFIG=str(live_config), PORT=str(port))
        servers.append(await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "serve", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE))
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while len(nudges_per_channel(slack)) < len(seeded.tandems):
            assert asyncio.get_running_loop().time() < deadline, "nudges did not all arrive"
            for server in servers:
                assert server.returncode is None, await server.communicate()
            await asyncio.sleep(0.2)
        await two_more_ticks(*ports)  # a whole tick more: still nothing twice
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            await server.wait()
    counts = nudges_per_channel(slack)
    assert len(counts) == len(seeded.tandems) and set(counts.values()) == {1}
