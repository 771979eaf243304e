"""The survey's working-time question on Slack and Teams, over signed HTTP to the real
server: the fields render as each platform's inputs (all optional), and what is
typed or picked lands on the participant: hours, days, country and region; a zone
only when the platform tells none."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.config import AppConfig
from storage.db import Database
from storage.models import Participant
from tests.fakes.bot_connector import TeamsUser, TeamsWorld
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import GOOD, slash_command, survey_state, view_submission
from tests.helpers.teams import submit_data

FIELDS = ("work_hours", "work_days", "timezone", "country")


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return replace(config, survey=replace(
        config.survey, questions=(*config.survey.questions, "working_time")))


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [FakeUser("U0ANNA", "Anna", locale="en-US")]


async def the_participant(db: Database) -> Participant:
    async with db.session() as session:
        [found] = await session.scalars(select(Participant))
    return found


def text_state(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


async def test_slack_renders_and_stores_the_working_time(
        server: Served, slack: FakeSlack, db: Database) -> None:
    await post(server, slash_command("U0ANNA", "signup"))
    view = (await slack.wait_for("views.open"))[0]["view"]
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert all(blocks[f].get("optional") is True for f in FIELDS)
    days = blocks["work_days"]["element"]
    assert days["type"] == "multi_static_select" and len(days["options"]) == 7
    assert blocks["work_hours"]["element"]["type"] == "plain_text_input"

    state = {**survey_state(**GOOD), "work_hours": text_state("7:30-15:30"),
             "work_days": {"type": "multi_static_select", "selected_options": [
                 {"value": d, "text": {"type": "plain_text", "text": d}}
                 for d in ("monday", "wednesday")]},
             "timezone": text_state("Asia/Tokyo"), "country": text_state("Atlantis")}
    status, body = await post(server, view_submission("U0ANNA", "survey", state))
    assert status == 200 and body["response_action"] == "errors"
    assert set(body["errors"]) == {"country"}

    state["country"] = text_state("de-by")
    status, body = await post(server, view_submission("U0ANNA", "survey", state))
    assert status == 200 and body["response_action"] == "update"
    anna = await the_participant(db)
    assert (anna.work_start, anna.work_end, anna.work_days) == ("07:30", "15:30", [0, 2])
    assert (anna.country, anna.region) == ("DE", "BY")
    # Slack tells Anna's zone: the typed one is not taken.
    assert anna.timezone != "Asia/Tokyo"


async def test_teams_renders_and_stores_the_working_time(world: TeamsWorld,
                                                         db: Database) -> None:
    user = TeamsUser("aad-anna", "Anna Jung", locale="en-US")
    assert await world.driver.say(user, "signup") == 201
    form = world.connector.of_kind("reply")[-1]
    assert form.card is not None
    inputs = {e["id"]: e for e in form.card["body"] if e["type"].startswith("Input.")}
    assert all(inputs[f].get("isRequired") is not True for f in FIELDS)
    assert inputs["work_days"]["isMultiSelect"] is True
    assert len(inputs["work_days"]["choices"]) == 7

    data = {**submit_data(form.card), "role": "mentor", "department": "IT",
            "topics": "ai_tools", "languages": "de", "meeting_mode": "remote",
            "capacity": "1", "consent": "yes", "work_hours": "9-13",
            "work_days": "tuesday,thursday", "timezone": "America/New_York",
            "country": "United States"}
    assert await world.driver.submit(user, data, form.activity_id) == 201
    anna = await the_participant(db)
    assert (anna.work_start, anna.work_end, anna.work_days) == ("09:00", "13:00", [1, 3])
    assert (anna.country, anna.region) == ("US", None)
