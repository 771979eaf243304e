"""Running the real ``tandem serve`` / ``run-due`` processes against the fake Slack.

``live_config`` (a fixture, registered by ``tests/conftest.py``) writes an app.yaml
with a nudge due now in real time. ``forks`` (a fixture too) starts them from a warm
interpreter (``tests.helpers.forkserver``): a fraction of a second each instead of
seconds of imports, for the tests that start and kill many.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import yaml

from conversations.scheduled import SWITCHES
from storage.db import Database
from tests.fakes.slack_api import FakeSlack
from tests.helpers import ROOT
from tests.helpers.forkserver import ForkServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_config(tmp_path: Path) -> Path:
    """app.yaml with a nudge due a minute ago in real time, in a zone where it is
    about noon, so the test never straddles a local midnight."""
    now = datetime.now(UTC)
    offset = max(-12, min(14, 12 - now.hour))
    zone = "Etc/GMT" + (f"{-offset:+d}" if offset else "")
    local = now + timedelta(hours=offset)
    start = local.date() - timedelta(days=7)
    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    data["programme"]["timezone"] = zone
    data["round"].update(
        signup_opens=str(start - timedelta(days=60)), signup_closes=str(start - timedelta(days=2)),
        starts=str(start))
    data["rhythm"].update(
        nudge_weekday=local.strftime("%A").lower(),
        nudge_time=(local - timedelta(minutes=1)).strftime("%H:%M"), tick_seconds=5,
        leader_lease_seconds=3, claim_lease_seconds=8,
        messages=dict.fromkeys(SWITCHES, False))
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="session")
def forks() -> Iterator[ForkServer]:
    """One fork server for the session: ``tandem`` processes without the imports."""
    server = ForkServer(ROOT)
    try:
        yield server
    finally:
        server.close()


def nudges_per_channel(slack: FakeSlack) -> Counter[str]:
    return Counter(channel for channel, messages in slack.history.items()
                   for m in messages if (m["metadata"] or {}).get("event_payload", {})
                   .get("key", "").startswith("nudge:"))


def env_for(db: Database, slack: FakeSlack, **extra: str) -> dict[str, str]:
    return {
        **os.environ, "DATABASE_URL": db.url, "TANDEM_CONFIG": str(ROOT / "app.yaml"),
        "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": slack.base_url + "api/", **extra,
    }


async def finished_ticks(http: aiohttp.ClientSession, port: int) -> int:
    """Scheduler ticks the ``tandem serve`` on ``port`` has finished, from its
    ``/metrics``; 0 while it does not answer."""
    try:
        async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
            text = await response.text()
    except aiohttp.ClientError:
        return 0
    found = [line.split()[1] for line in text.splitlines()
             if line.startswith("tandem_scheduler_ticks_total ")]
    return int(float(found[0])) if found else 0


async def two_more_ticks(*ports: int, within: float = 120.0) -> None:
    """Wait until the servers on ``ports`` have finished two more scheduler ticks
    between them: the second began after this call, so a whole ``run_due`` ran on
    what was there when it was called."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    async with aiohttp.ClientSession() as http:
        async def total() -> int:
            return sum([await finished_ticks(http, port) for port in ports])

        target = await total() + 2
        while await total() < target:
            assert loop.time() < deadline, "the scheduler stopped ticking"
            await asyncio.sleep(0.2)


async def run_due_process(env: dict[str, str], at: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run-due", "--at", at, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def until_ready(http: aiohttp.ClientSession, url: str) -> None:
    async def ready() -> bool:
        try:
            async with http.get(url) as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    # Only turns a hang into a failure: a loaded machine can take half a minute to
    # import and start a server.
    deadline = asyncio.get_running_loop().time() + 120
    while not await ready():
        assert asyncio.get_running_loop().time() < deadline, "the server did not start"
        await asyncio.sleep(0.1)


#: A junior's survey answers, as plain values (``slack_requests.survey_state``).
SURVEY = {
    "role": "mentor", "department": "IT", "manager": None, "topics": ["ai_tools"],
    "goals": "", "languages": ["en"], "meeting_mode": "remote", "location": None,
    "capacity": None, "consent": ["yes"],
}
