"""Running the real ``tandem serve`` / ``run-due`` processes against the fake Slack.

``live_config`` (a fixture, registered by ``tests/conftest.py``) writes an app.yaml
with a nudge due now in real time.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.core.config import LIFECYCLE
from storage.db import Database
from tests.fakes.slack_api import FakeSlack
from tests.helpers import ROOT


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
        messages=dict.fromkeys(LIFECYCLE, False))
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


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
