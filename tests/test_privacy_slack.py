"""my-data and forget-me on Slack, end to end: signed HTTP in, the fake Slack Web API out."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.core.i18n import t
from storage.db import Database
from storage.models import Base, Participant
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.privacy import everything, leaks
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import (
    block_action,
    slash_command,
    survey_state,
    view_submission,
)

ANSWERS = {
    "role": "mentor", "department": "Legal", "manager": "U0BOSS",
    "topics": ["ai_tools"], "goals": "MARKER-slack my goal", "languages": ["de"],
    "meeting_mode": "remote", "location": None, "capacity": None, "consent": ["yes"],
}


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [
        FakeUser("U0ANNEGRET", "Annegret Quist", locale="de-DE"),
    ]


async def test_my_data_file_then_forget_me_over_http(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    await post(server, view_submission("U0ANNEGRET", "survey", survey_state(**ANSWERS)))

    # 1. my-data: an ephemeral answer, and the JSON file uploaded into her DM.
    status, body = await post(server, slash_command("U0ANNEGRET", "meine-daten"))
    assert status == 200 and body["text"] == t("de", "privacy.my_data_sent")
    [upload] = await slack.wait_for("files.getUploadURLExternal")
    assert upload["filename"].startswith("tandem-my-data-")
    [complete] = await slack.wait_for("files.completeUploadExternal")
    assert complete["channel_id"] == slack.channel_of("U0ANNEGRET")
    assert "Stand" in complete.get("initial_comment", "")
    [content] = slack.uploads.values()
    data = json.loads(content)
    [me] = data["tables"]["participants"]
    assert (me["user_id"], me["department"], me["goals"]) == (
        "U0ANNEGRET", "Legal", "MARKER-slack my goal")

    # 2. forget-me asks first, with buttons; "Yes" erases, the answer replaces the question.
    _, body = await post(server, slash_command("U0ANNEGRET", "vergessen"))
    buttons = next(b for b in body["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["forget.confirm", "forget.cancel"]
    status, _ = await post(server, block_action("U0ANNEGRET", "forget.confirm",
                                                response_url=slack.response_url()))
    assert status == 200
    [answer] = await slack.wait_for("response_url")
    assert answer["replace_original"] is True
    assert answer["text"] == t("de", "privacy.forgotten", cmd="/tandem ")
    tables = await everything(db)
    assert set(tables) == set(Base.metadata.tables)
    assert leaks(tables, ["U0ANNEGRET", "Annegret", "Legal", "MARKER-slack", "U0BOSS"]) == []
    async with db.session() as session:
        [gone] = list(await session.scalars(select(Participant)))
    assert gone.status == "forgotten" and gone.user_id.startswith("forgotten-")

    # 3. Afterwards she is a stranger to the bot.
    _, body = await post(server, slash_command("U0ANNEGRET", "my-data"))
    assert body["text"] == t("de", "privacy.nothing_stored")
