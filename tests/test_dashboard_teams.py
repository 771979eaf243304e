"""``report`` / ``bericht`` and ``dashboard`` on Microsoft Teams, end to end over HTTP."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.core.i18n import t
from storage.db import Database
from storage.models import AuditEntry
from tests.fakes.bot_connector import TENANT, TeamsUser, TeamsWorld
from tests.helpers.seed import (
    EVALUATION_TEXT,
    MID_ROUND,
    PARTNER,
    PRIVATE,
    SHARED,
    seed_programme,
)
from tests.helpers.teams import CLARA

MENTOR = TeamsUser("UJ00001", "Mentor 1", locale="de-DE")  # a participant


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return dataclasses.replace(config, coordinators={**config.coordinators, "teams": (CLARA.key,)})


@pytest.fixture(autouse=True)
async def programme(config: AppConfig, clock: FixedClock, db: Database) -> None:
    """A seeded round on Teams, half-way through when the server starts."""
    await seed_programme(db, config, platform="teams", workspace=TENANT)
    clock.set(MID_ROUND)


async def audits(world: TeamsWorld) -> list[tuple[str, str]]:
    async with world.runtime.db.session() as session:
        return [(a.user_id, a.action) for a in await session.scalars(
            select(AuditEntry).order_by(AuditEntry.id))]


async def test_non_coordinators_are_refused_and_nothing_happens(world: TeamsWorld) -> None:
    for text in ("report", "bericht", "dashboard"):
        assert await world.driver.say(MENTOR, text) == 201
        assert world.connector.calls[-1].all_text() == t("de", "error.not_allowed")
    assert [(c.kind, c.conversation_id) for c in world.connector.calls] == [
        ("reply", MENTOR.chat)] * 3
    assert await audits(world) == []


async def test_report_and_dashboard_for_the_coordinator(world: TeamsWorld) -> None:
    connector = world.connector
    assert await world.driver.say(CLARA, "bericht") == 201
    [report] = connector.calls
    assert (report.kind, report.conversation_id) == ("reply", CLARA.chat)
    text = report.all_text()
    assert "Programme figures: round 2027-spring" in text
    assert "14 (7 juniors, 7 seniors)" in text and "Meetings held" in text
    assert SHARED not in text and "Mentor 3" not in text

    assert await world.driver.say(CLARA, "dashboard") == 201
    dashboard = connector.calls[-1]
    assert (dashboard.kind, dashboard.conversation_id) == ("reply", CLARA.chat)
    text = dashboard.all_text()
    assert "Reverse Mentoring: your overview" in text
    assert "only coordinators see this part" in text
    assert "Mentor 4 → Mentee 4" in text and SHARED in text

    everything = json.dumps([c.body for c in connector.calls], ensure_ascii=False)
    for secret in (PRIVATE, PARTNER, EVALUATION_TEXT):
        assert secret not in everything
    assert len(connector.calls) == 2
    assert await audits(world) == [(CLARA.key, "report"), (CLARA.key, "dashboard")]
