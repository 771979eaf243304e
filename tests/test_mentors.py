"""Support for the young mentors on Slack and on Teams (both databases, German and
English): the junior gets a private "how to mentor a senior" guide with the
introduction, is invited to the mentors' channel at kick-off exactly once (Slack:
conversations.invite; Teams: the channel's link, as Teams bots cannot add people),
and gets a tip with each month's nudge. The seniors get none of these."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig, parse_config
from bot.core.i18n import t
from conversations.rhythm import run_due
from storage.db import Database
from storage.models import Participant
from tests.fakes.bot_connector import TeamsWorld
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.roundlife import (
    confirm_first_matching,
    slack_sign_up,
    teams_first_tandem,
    text_of,
)
from tests.helpers.servers import Served
from tests.helpers.teams import CLARA, KATRIN, MEHMET

COORDINATOR = "U0COORD01"
MENTORS_SLACK = "C0MENTORS1"
MENTORS_TEAMS = "https://teams.microsoft.com/l/channel/19%3Amentors%40thread.tacv2/Mentors"
KICKOFF = datetime(2027, 2, 1, 12, tzinfo=UTC)
#: Kick-off twice and a day later (nothing twice), then the Tuesdays of two months.
STEPS = [KICKOFF, KICKOFF, KICKOFF + timedelta(days=1),
         *[datetime(2027, 2, 2, 12, tzinfo=UTC) + timedelta(weeks=n) for n in range(9)]]


@pytest.fixture
def config() -> AppConfig:
    raw = yaml.safe_load((Path(__file__).parents[1] / "app.yaml").read_text(encoding="utf-8"))
    raw["rhythm"]["messages"]["mentor_tip"] = True
    return parse_config("app.yaml", {
        **raw, "coordinators": {**raw["coordinators"], "teams": [CLARA.key]},
        "mentors_channel": {"slack": MENTORS_SLACK, "teams": MENTORS_TEAMS}})


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [FakeUser(COORDINATOR, "Clara", locale="en-US"),
            FakeUser("U0ANNA", "Anna", locale="de-DE"),
            FakeUser("U0KATRIN", "Katrin", locale="de-DE"),
            FakeUser("U0BEN", "Ben", locale="en-US"),
            FakeUser("U0SARAH", "Sarah", locale="en-US")]


def _dm(slack: FakeSlack, user: str) -> list[str]:
    return [text_of(c) for c in slack.of("chat.postMessage")
            if slack.channel_of(c["channel"]) == slack.channel_of(user)]


def _count(texts: list[str], wanted: str) -> int:
    return sum(wanted in text for text in texts)


async def test_juniors_get_a_guide_the_channel_and_tips_on_slack(
    server: Served, slack: FakeSlack, clock: FixedClock
) -> None:
    ctx = server.runtime.ctx
    await slack_sign_up(server, "U0ANNA", department="Marketing", topics=["ai_tools"],
                        languages=["de"])
    await slack_sign_up(server, "U0BEN", department="IT", topics=["sustainability"],
                        languages=["en"])
    await slack_sign_up(server, "U0KATRIN", role="mentee", department="Finance",
                        topics=["ai_tools"], languages=["de"], capacity="1")
    await slack_sign_up(server, "U0SARAH", role="mentee", department="Sales",
                        topics=["sustainability"], languages=["en"], capacity="1")
    await confirm_first_matching(server, slack, COORDINATOR)
    for junior, language in (("U0ANNA", "de"), ("U0BEN", "en")):
        assert _count(_dm(slack, junior), t(language, "mentors.guide.title")) == 1
    assert not slack.of("conversations.invite")  # not before kick-off

    for step in STEPS:
        clock.set(step)
        await run_due(ctx)

    invites = [(c["channel"], c["users"]) for c in slack.of("conversations.invite")]
    assert sorted(invites) == [(MENTORS_SLACK, "U0ANNA"), (MENTORS_SLACK, "U0BEN")]
    for junior, language in (("U0ANNA", "de"), ("U0BEN", "en")):
        texts = _dm(slack, junior)
        assert _count(texts, t(language, "mentors.guide.title")) == 1
        for month in (1, 2):
            assert _count(texts, t(language, "mentors.tip.title", month=month)) == 1
        assert _count(texts, t(language, "mentors.tip.1")) == 1
    for senior, language in (("U0KATRIN", "de"), ("U0SARAH", "en")):
        texts = " ".join(_dm(slack, senior))
        for key in ("mentors.guide.title", "mentors.tip.1"):
            assert t(language, key) not in texts
    seen_by_both = " ".join(text_of(c) for c in slack.of("chat.postMessage")
                            if c["channel"].startswith("G"))
    assert t("de", "mentors.guide.title") not in seen_by_both


async def test_a_channel_already_joined_counts_as_invited_on_slack(
    server: Served, slack: FakeSlack, clock: FixedClock
) -> None:
    await slack_sign_up(server, "U0ANNA", department="Marketing", topics=["ai_tools"],
                        languages=["de"])
    await slack_sign_up(server, "U0KATRIN", role="mentee", department="Finance",
                        topics=["ai_tools"], languages=["de"], capacity="1")
    await confirm_first_matching(server, slack, COORDINATOR)
    slack.errors["conversations.invite"] = "already_in_channel"
    clock.set(KICKOFF)
    report = await run_due(server.runtime.ctx)
    assert report.outcomes()["mentors_channel"] == {"sent": 1}
    await run_due(server.runtime.ctx)
    assert len(slack.of("conversations.invite")) == 1


async def test_a_channel_the_bot_cannot_add_to_is_given_up_not_the_junior(
    server: Served, slack: FakeSlack, clock: FixedClock, db: Database
) -> None:
    await slack_sign_up(server, "U0ANNA", department="Marketing", topics=["ai_tools"],
                        languages=["de"])
    await slack_sign_up(server, "U0KATRIN", role="mentee", department="Finance",
                        topics=["ai_tools"], languages=["de"], capacity="1")
    await confirm_first_matching(server, slack, COORDINATOR)
    slack.errors["conversations.invite"] = "not_in_channel"
    clock.set(KICKOFF)
    report = await run_due(server.runtime.ctx)
    assert report.outcomes()["mentors_channel"] == {"unreachable": 1}
    await run_due(server.runtime.ctx)
    assert len(slack.of("conversations.invite")) == 1  # given up, not retried
    async with db.session() as session:
        anna = await session.scalar(select(Participant).where(Participant.user_id == "U0ANNA"))
    assert anna is not None and anna.unreachable_at is None  # Anna is still reached
    told = [c["text"] for c in slack.of("chat.postMessage") if c["channel"] == COORDINATOR]
    assert t("en", "rhythm.unreachable", name="Anna") not in told


async def test_the_junior_gets_the_channels_link_on_teams(
    world: TeamsWorld, clock: FixedClock
) -> None:
    await teams_first_tandem(world)  # Mehmet (junior) and Katrin (senior), German

    def said(user: Any, key: str, **params: Any) -> int:
        return sum(t("de", key, **params) in c.all_text() for c in world.connector.calls
                   if c.conversation_id == user.chat)

    assert said(MEHMET, "mentors.guide.title") == 1 and said(KATRIN, "mentors.guide.title") == 0
    for step in STEPS:
        clock.set(step)
        await run_due(world.runtime.ctx)
    assert said(MEHMET, "mentors.channel.invited", link=MENTORS_TEAMS) == 1
    assert said(KATRIN, "mentors.channel.invited", link=MENTORS_TEAMS) == 0
    for month in (1, 2):
        assert said(MEHMET, "mentors.tip.title", month=month) == 1
        assert said(KATRIN, "mentors.tip.title", month=month) == 0
