"""The chat report and the App Home on Slack: signed HTTP in, the fake Web API out."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.core.i18n import t
from storage.db import Database
from storage.models import AuditEntry
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.seed import (
    EVALUATION_TEXT,
    MID_ROUND,
    PARTNER,
    PRIVATE,
    SHARED,
    seed_programme,
)
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import sign, slash_command

COORDINATOR = "U0COORD01"
MENTOR = "UJ00001"  # Mentor 1, in a tandem with Mentee 1; German
SECRETS = (PRIVATE, PARTNER, EVALUATION_TEXT)


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [
        FakeUser(COORDINATOR, "Clara", locale="en-US"),
        FakeUser(MENTOR, "Mentor 1", locale="de-DE"),
    ]


@pytest.fixture(autouse=True)
async def programme(config: AppConfig, clock: FixedClock, db: Database) -> None:
    """A seeded round, half-way through when the server starts."""
    await seed_programme(db, config)
    clock.set(MID_ROUND)


def home_opened(user_id: str, event_id: str) -> str:
    return json.dumps({
        "token": "deprecated", "team_id": "T1", "api_app_id": "A0TANDEM",
        "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": user_id, "channel": "D0HOME",
                  "tab": "home", "event_ts": f"{time.time():.6f}"},
        "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
    })


async def open_home(server: Served, slack: FakeSlack, user_id: str, event_id: str
                    ) -> dict[str, Any]:
    before = len(slack.of("views.publish"))
    body = home_opened(user_id, event_id)
    status, _ = await post(server, body, headers=sign(body), content_type="application/json")
    assert status == 200
    published = (await slack.wait_for("views.publish", before + 1))[-1]
    assert published["user_id"] == user_id
    view = published["view"]
    return json.loads(view) if isinstance(view, str) else view


def text_of(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


async def audits(db: Database) -> list[tuple[str, str]]:
    async with db.session() as session:
        return [(a.user_id, a.action) for a in await session.scalars(
            select(AuditEntry).order_by(AuditEntry.id))]


async def test_non_coordinators_are_refused_and_nothing_happens(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    for text in ("report", "dashboard", "bericht", "übersicht"):
        status, body = await post(server, slash_command(MENTOR, text))
        assert status == 200 and body["text"] == t("de", "error.not_allowed")
    assert slack.of("chat.postMessage") == [] and slack.of("views.publish") == []
    assert await audits(db) == []


async def test_the_coordinator_gets_the_figures_privately(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    status, body = await post(server, slash_command(COORDINATOR, "report"))
    assert status == 200 and body["response_type"] == "ephemeral"
    text = text_of(body["blocks"])
    assert "Programme figures: round 2027-spring" in text
    assert "As of 20 May 2027: 3 of 6 months finished." in text
    assert "14 (7 juniors, 7 seniors)" in text
    assert "4 of 6 (67%)" in text and "not yet" in text
    assert "chosen by fewer than 5 · discussed in fewer than 5 meetings" in text  # agile
    for secret in (*SECRETS, SHARED, "Mentor 3", "Mentee 4"):
        assert secret not in text
    assert slack.of("chat.postMessage") == []
    assert await audits(db) == [(COORDINATOR, "report")]


async def test_app_home_for_a_participant_and_for_a_coordinator(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    view = await open_home(server, slack, MENTOR, "Ev0HOME1")
    assert view["type"] == "home"
    text = text_of(view["blocks"])
    assert view["blocks"][0]["text"]["text"] == "Reverse Mentoring: deine Übersicht"
    assert "Mentee 1" in text  # the partner
    # The fifth nudge: Tuesday 8 June, 10:00 in Berlin.
    assert "08.06.2027 10:00" in text
    assert "Treffen 1" in text and "getroffen" in text and "Treffen 5" not in text
    assert "Programm auf einen Blick" not in text and "Mentor 3" not in text
    assert SHARED not in text  # his own shared reflection is no figure of his
    assert await audits(db) == []

    view = await open_home(server, slack, COORDINATOR, "Ev0HOME2")
    text = text_of(view["blocks"])
    assert "only coordinators see this part" in text
    assert "Mentor 3 → Mentee 3" in text and "Mentor 4 → Mentee 4" in text  # stalled
    assert "Mentee 4" in text  # unreachable, by name, for the coordinator only
    assert SHARED in text and "Mentor 1, month 1, usefulness 4/5" in text
    for secret in SECRETS:
        assert secret not in text
    assert "not signed up" in text  # the coordinator takes no part herself
    assert len(view["blocks"]) <= 100
    assert await audits(db) == [(COORDINATOR, "dashboard")]
    async with db.session() as session:
        assert await session.scalar(select(func.count(AuditEntry.id))) == 1
