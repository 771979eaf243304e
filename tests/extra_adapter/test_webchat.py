"""A platform added from this folder alone: found through ``TANDEM_ADAPTERS``,
served with its route and body limit, counted by /readyz, checked by doctor,
packaged by its own CLI command, and a sign-up runs through it end to end."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.doctor import diagnose
from bot.platforms import settings_from_env
from storage.db import Database
from storage.models import Participant
from tests.helpers.servers import Served, serve

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "webchat-test-token"
EXTRA = {"TANDEM_ADAPTERS": "tests.extra_adapter", "WEBCHAT_TOKEN": TOKEN}
SURVEY = {
    "role": "mentor", "department": "IT", "manager": None, "topics": ["ai_tools"],
    "goals": "", "languages": ["de"], "meeting_mode": "either", "capacity": "1",
    "consent": ["yes"],
}


@pytest.fixture
async def server(monkeypatch: pytest.MonkeyPatch, config: AppConfig, clock: FixedClock,
                 db: Database) -> AsyncIterator[Served]:
    for name, value in EXTRA.items():
        monkeypatch.setenv(name, value)
    async with serve(settings_from_env(), config, clock, db) as served:
        yield served


async def post(served: Served, body: Any, token: str = TOKEN) -> tuple[int, Any]:
    async with served.http.post(served.url + "/webchat/events", json=body,
                                headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status, await response.json()


async def test_a_sign_up_through_the_extra_platform(server: Served, db: Database) -> None:
    user = {"user": "w1", "name": "Wanda", "locale": "en"}
    status, shown = await post(server, {**user, "text": "signup"})
    assert status == 200 and shown["form"]["id"] == "survey"
    assert shown["form"]["title"] == "Tandem sign-up" and "topics" in shown["form"]["fields"]
    assert shown["hint"] == "Answer the questions, then send the form."  # its own catalogue

    status, invalid = await post(server, {**user, "form": "survey", "values": {
        **SURVEY, "topics": []}, "context": shown["form"]["context"]})
    assert status == 200 and "topics" in invalid["errors"]

    status, done = await post(server, {**user, "form": "survey", "values": SURVEY,
                                       "context": shown["form"]["context"]})
    assert status == 200 and "your answers are saved" in done["text"]
    assert await server.runtime.background.idle(60)
    [summary] = server.runtime.messengers["webchat"].inbox["w1"]  # type: ignore[attr-defined]
    assert "You are signed up" in summary
    async with db.session() as session:
        [row] = list(await session.scalars(select(Participant)))
    assert (row.platform, row.user_id, row.role) == ("webchat", "w1", "mentor")

    status, answer = await post(server, {**user, "text": "status"})
    assert status == 200 and "Your Tandem status" in answer["text"]


async def test_its_token_shape_and_body_limit_are_enforced(server: Served, db: Database
                                                          ) -> None:
    assert (await post(server, {"user": "w1", "text": "signup"}, token="wrong"))[0] == 401
    assert (await post(server, {"user": ["w1"], "text": "signup"}))[0] == 400
    assert (await post(server, {"user": "w1", "form": "survey", "values": {"role": 1}}))[0] \
        == 400
    status, refused = await post(server, {"user": "w1", "text": "x" * 20_000})
    assert status == 413 and refused["limit_bytes"] == 16 * 1024
    async with db.session() as session:
        assert list(await session.scalars(select(Participant))) == []


async def test_readyz_and_doctor_know_it(server: Served) -> None:
    async with server.http.get(server.url + "/readyz") as response:
        body = await response.json()
    assert body["checks"]["platforms"] == {"ok": True, "detail": "configured: Webchat"}
    out = io.StringIO()
    await diagnose(out)
    [line] = [line for line in out.getvalue().splitlines() if line.split()[1:2] == ["webchat"]]
    assert line.startswith("OK ") and TOKEN not in line


def test_its_packaging_command_is_a_tandem_command() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "webchat-snippet", "--url", "https://chat.example.com"],
        env={**os.environ, **EXTRA, "TANDEM_CONFIG": str(ROOT / "app.yaml")},
        capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ('<tandem-webchat endpoint="https://chat.example.com'
                                  '/webchat/events" title="Reverse Mentoring"></tandem-webchat>')
    missing = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check-config"],
        env={**os.environ, "TANDEM_ADAPTERS": "tests.no_such_adapter",
             "TANDEM_CONFIG": str(ROOT / "app.yaml")},
        capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert missing.returncode == 2 and "TANDEM_ADAPTERS" in missing.stderr
    assert "Traceback" not in missing.stderr
