"""Production behaviour of ``tandem serve``: one scheduler among several instances,
take-over when the leader dies, and a graceful stop that loses nothing.

Real subprocesses, real database, real time; the fake Slack Web API counts
every message that arrived.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import yaml
from sqlalchemy import func, select

from bot.core.config import load_config
from storage import leases
from storage.db import Database
from storage.models import Delivery
from tests.fakes.slack_api import FakeSlack
from tests.helpers import ROOT
from tests.helpers.live import (
    SURVEY,
    env_for,
    free_port,
    nudges_per_channel,
    two_more_ticks,
    until_ready,
)
from tests.helpers.seed import seed_tandems
from tests.helpers.slack_requests import sign, survey_state, view_submission
from tests.helpers.waiting import until

# Servers and processes started, killed, restarted: run first (tests/helpers/xdist_groups.py).
pytestmark = pytest.mark.long

@dataclass
class Server:
    process: asyncio.subprocess.Process
    port: int


async def start_server(db: Database, slack: FakeSlack, config: Path) -> Server:
    port = free_port()
    env = env_for(db, slack, TANDEM_CONFIG=str(config), PORT=str(port))
    return Server(await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL), port)


async def test_the_other_instance_takes_over_when_the_leader_is_killed(
    db: Database, live_config: Path, slack: FakeSlack
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("several instances share a database on PostgreSQL")
    config = load_config(live_config)
    seeded = await seed_tandems(db, config, 200, timezone=config.timezone.key)
    # Each nudge answered after 0.1 s, 16 at a time: a fan-out of over a second
    # however fast the machine, to kill the leader in the middle.
    slack.delay = 0.1
    servers = [await start_server(db, slack, live_config) for _ in range(2)]
    try:
        await until(lambda: len(slack.of("chat.postMessage")) >= 40,
                    "the leader did not start sending")
        async with db.session() as session:
            holder = await leases.lease_holder(session, "scheduler")
        assert holder is not None
        leader = next(s for s in servers if f":{s.process.pid}:" in holder)
        leader.process.send_signal(signal.SIGKILL)
        await leader.process.wait()
        sent_by_leader = len(nudges_per_channel(slack))
        assert sent_by_leader < len(seeded.tandems)

        await until(lambda: len(nudges_per_channel(slack)) == len(seeded.tandems),
                    "the other instance did not finish the nudges", within=90)
        async with db.session() as session:
            assert await leases.lease_holder(session, "scheduler") != holder
        other = next(s for s in servers if s is not leader)
        await two_more_ticks(other.port)  # a whole tick more: still nothing twice
    finally:
        for server in servers:
            if server.process.returncode is None:
                server.process.terminate()
                await server.process.wait()
    counts = nudges_per_channel(slack)
    assert len(counts) == len(seeded.tandems) and set(counts.values()) == {1}


async def test_sigterm_during_a_fan_out_loses_and_doubles_nothing(
    db: Database, live_config: Path, slack: FakeSlack
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SIGKILL mid-fan-out on SQLite is in test_exactly_once")
    config = load_config(live_config)
    seeded = await seed_tandems(db, config, 300, timezone=config.timezone.key)
    # Each nudge answered after 0.1 s, 16 at a time: the fan-out lasts about two
    # seconds however fast the machine, so the stop after 60 comes in its middle.
    slack.delay = 0.1
    server = (await start_server(db, slack, live_config)).process
    await until(lambda: len(slack.of("chat.postMessage")) >= 60, "no fan-out started")
    server.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(server.wait(), 40) == 0
    stopped_at = len(nudges_per_channel(slack))
    assert stopped_at < len(seeded.tandems), "the stop came in the middle of the fan-out"
    async with db.session() as session:
        claimed = await session.scalar(select(func.count(Delivery.id))
                                       .where(Delivery.status == "claimed"))
        holder = await leases.lease_holder(session, "scheduler")
    assert claimed == 0, "every claim was either sent or never taken"
    assert holder is None, "the lease was handed back"

    restarted = await start_server(db, slack, live_config)
    try:
        await until(lambda: len(nudges_per_channel(slack)) == len(seeded.tandems),
                    "the restarted server did not finish the nudges", within=90)
        await two_more_ticks(restarted.port)  # a whole tick more: still nothing twice
    finally:
        restarted.process.terminate()
        await restarted.process.wait()
    counts = nudges_per_channel(slack)
    assert len(counts) == len(seeded.tandems) and set(counts.values()) == {1}


@pytest.fixture
def signup_open_config(tmp_path: Path) -> Path:
    """app.yaml with sign-up open now, in real time."""
    today = datetime.now(UTC).date()
    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    data["round"].update(signup_opens=str(today - timedelta(days=10)),
                         signup_closes=str(today + timedelta(days=30)),
                         starts=str(today + timedelta(days=40)))
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


async def test_sigterm_right_after_the_answers_still_sends_every_summary(
    db: Database, signup_open_config: Path, slack: FakeSlack
) -> None:
    """The summary DM follows the answer to a survey; a graceful stop that comes
    between the two waits for it instead of losing it."""
    people = [f"U0PERSON{n:02d}" for n in range(12)]
    release = asyncio.Event()
    for user in people:
        slack.add_user(user, user.title())
        slack.held_for[user] = release  # the DMs are still on their way at the stop
    port = free_port()
    env = env_for(db, slack, TANDEM_CONFIG=str(signup_open_config), PORT=str(port),
                  TANDEM_SCHEDULER="off")
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        async with aiohttp.ClientSession() as http:
            await until_ready(http, f"http://127.0.0.1:{port}/readyz")

            async def submit(user: str) -> int:
                body = view_submission(user, "survey", survey_state(**SURVEY))
                headers = {"Content-Type": "application/x-www-form-urlencoded",
                           **sign(body, secret="secret")}
                async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body,
                                     headers=headers) as response:
                    return response.status

            assert set(await asyncio.gather(*(submit(u) for u in people))) == {200}
            await until(lambda: slack.held_now == len(people), "the summaries did not start")
        server.send_signal(signal.SIGTERM)
        await until_closed(port)  # the server is stopping, every summary still held
        release.set()
        assert await asyncio.wait_for(server.wait(), 40) == 0
    finally:
        release.set()
        if server.returncode is None:
            server.kill()
            await server.wait()
    summaries = [c["channel"] for c in slack.of("chat.postMessage")]
    assert sorted(summaries) == sorted(people)


async def until_closed(port: int) -> None:
    """Wait until the server no longer takes connections: it has begun to stop."""
    async def listening() -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        return True

    deadline = asyncio.get_running_loop().time() + 30
    while await listening():
        assert asyncio.get_running_loop().time() < deadline, "the server did not stop"
        await asyncio.sleep(0.05)
