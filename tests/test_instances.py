"""Production behaviour of ``tandem serve``: one scheduler among several instances,
take-over when the leader dies, and a graceful stop that loses nothing.

Real subprocesses, real database, real time; the fake Slack Web API counts
every message that arrived.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import load_config
from storage import operations
from storage.db import Database
from storage.models import Delivery
from tests.fakes.slack_api import FakeSlack
from tests.live import free_port
from tests.seed import seed_tandems
from tests.test_exactly_once import env_for, nudges_per_channel

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


async def start_server(db: Database, slack: FakeSlack, config: Path
                       ) -> asyncio.subprocess.Process:
    env = env_for(db, slack, TANDEM_CONFIG=str(config), PORT=str(free_port()))
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


async def until(condition: object, within: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():  # type: ignore[operator]
        assert loop.time() < deadline, what
        await asyncio.sleep(0.05)


async def test_the_other_instance_takes_over_when_the_leader_is_killed(
    db: Database, live_config: Path, slack: FakeSlack
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("several instances share a database on PostgreSQL")
    config = load_config(live_config)
    seeded = await seed_tandems(db, config, 600, timezone=config.timezone.key)
    slack.delay = 0.03  # a fan-out of several seconds, to kill the leader in the middle
    servers = [await start_server(db, slack, live_config) for _ in range(2)]
    try:
        await until(lambda: len(slack.of("chat.postMessage")) >= 100, 60,
                    "the leader did not start sending")
        async with db.session() as session:
            holder = await operations.lease_holder(session, "scheduler")
        assert holder is not None
        leader = next(s for s in servers if f":{s.pid}:" in holder)
        leader.send_signal(signal.SIGKILL)
        await leader.wait()
        sent_by_leader = len(nudges_per_channel(slack))
        assert sent_by_leader < len(seeded.tandems)

        await until(lambda: len(nudges_per_channel(slack)) == len(seeded.tandems), 90,
                    "the other instance did not finish the nudges")
        async with db.session() as session:
            assert await operations.lease_holder(session, "scheduler") != holder
        await asyncio.sleep(8)  # more ticks: still nothing twice
    finally:
        for server in servers:
            if server.returncode is None:
                server.terminate()
                await server.wait()
    counts = nudges_per_channel(slack)
    assert len(counts) == len(seeded.tandems) and set(counts.values()) == {1}


async def test_sigterm_during_a_fan_out_of_1000_loses_and_doubles_nothing(
    db: Database, live_config: Path, slack: FakeSlack
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SIGKILL mid-fan-out on SQLite is in test_exactly_once")
    config = load_config(live_config)
    seeded = await seed_tandems(db, config, 1000, timezone=config.timezone.key)
    slack.delay = 0.02
    server = await start_server(db, slack, live_config)
    await until(lambda: len(slack.of("chat.postMessage")) >= 200, 60, "no fan-out started")
    server.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(server.wait(), 40) == 0
    stopped_at = len(nudges_per_channel(slack))
    assert stopped_at < len(seeded.tandems), "the stop came in the middle of the fan-out"
    async with db.session() as session:
        claimed = await session.scalar(select(func.count(Delivery.id))
                                       .where(Delivery.status == "claimed"))
        holder = await operations.lease_holder(session, "scheduler")
    assert claimed == 0, "every claim was either sent or never taken"
    assert holder is None, "the lease was handed back"

    restarted = await start_server(db, slack, live_config)
    try:
        await until(lambda: len(nudges_per_channel(slack)) == len(seeded.tandems), 90,
                    "the restarted server did not finish the nudges")
        await asyncio.sleep(6)
    finally:
        restarted.terminate()
        await restarted.wait()
    counts = nudges_per_channel(slack)
    assert len(counts) == len(seeded.tandems) and set(counts.values()) == {1}
