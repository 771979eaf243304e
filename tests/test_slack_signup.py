"""Sign-up on Slack, end to end: signed HTTP requests in, the fake Slack Web API out."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.clock import FixedClock
from storage.db import Database
from storage.models import Participant
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.servers import FORM, Served, post
from tests.helpers.slack_requests import (
    GOOD,
    block_action,
    sign,
    slash_command,
    survey_state,
    view_submission,
)


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [
        FakeUser("U0ANNA", "Anna", locale="de-DE"),
        FakeUser("U0BEN", "Ben", locale="en-US", tz="America/New_York"),
    ]


async def participants(db: Database) -> list[Participant]:
    async with db.session() as session:
        return list(await session.scalars(select(Participant).order_by(Participant.id)))


async def test_signup_opens_modal_stores_answers_and_sends_dm(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    status, _ = await post(server, slash_command("U0ANNA", "signup"))
    assert status == 200
    views = await slack.wait_for("views.open")
    view = views[0]["view"]
    assert view["callback_id"] == "survey"
    assert view["title"]["text"] == "Tandem-Anmeldung"  # Anna's Slack locale is German
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    topics = blocks["topics"]["element"]
    assert topics["type"] == "multi_static_select"
    assert {o["value"] for o in topics["options"]} >= {"ai_tools", "sustainability"}
    assert blocks["goals"]["element"]["max_length"] == 500

    status, body = await post(server, view_submission("U0ANNA", "survey", survey_state(**GOOD)))
    assert status == 200
    assert body["response_action"] == "update"  # a "saved" notice replaces the form

    [anna] = await participants(db)
    assert (anna.user_id, anna.role, anna.department) == ("U0ANNA", "mentor", "Marketing")
    assert anna.topics == ["social_media", "ai_tools"]  # in app.yaml's order
    assert anna.languages == ["de", "en"] and anna.locale == "de"
    assert anna.manager_user_id == "U0BOSS" and anna.timezone == "Europe/Berlin"
    assert anna.consent_at is not None and anna.status == "active"

    [dm] = await slack.wait_for("chat.postMessage")
    assert dm["channel"] == "U0ANNA"
    assert "Du bist angemeldet" in json.dumps(dm["blocks"], ensure_ascii=False)
    # What Anna typed reaches Slack as plain text, never as a channel ping.
    assert "&lt;!channel&gt;" in dm["text"] and "<!channel>" not in dm["text"]
    goal_blocks = [b for b in dm["blocks"] if b["type"] == "section" and "fields" in b]
    assert any(f["type"] == "plain_text" and "<!channel>" in f["text"]
               for b in goal_blocks for f in b["fields"])


async def test_signup_again_opens_prefilled_form_and_updates(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    await post(server, view_submission("U0BEN", "survey", survey_state(**GOOD)))
    await post(server, slash_command("U0BEN", "signup"))
    view = (await slack.wait_for("views.open"))[0]["view"]
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert view["title"]["text"] == "Tandem sign-up"
    assert [o["value"] for o in blocks["topics"]["element"]["initial_options"]] == [
        "social_media", "ai_tools"]
    assert blocks["role"]["element"]["initial_option"]["value"] == "mentor"

    changed = {**GOOD, "role": "mentee", "capacity": "3", "topics": ["sustainability"]}
    await post(server, view_submission("U0BEN", "survey", survey_state(**changed)))
    [ben] = await participants(db)
    assert (ben.role, ben.capacity, ben.topics) == ("mentee", 3, ["sustainability"])
    dms = await slack.wait_for("chat.postMessage", 2)
    assert "updated" in dms[1]["text"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"goals": "x" * 501}, "goals", "500 characters"),
        ({"topics": []}, "topics", "at least one topic"),
        ({"department": "Marketing; DROP TABLE"}, "department", "from the list"),
        ({"manager": "U0BEN"}, "manager", "your own manager"),
        ({"consent": []}, "consent", "voluntarily"),
        ({"capacity": "99", "role": "mentee"}, "capacity", "between 1 and 4"),
    ],
)
async def test_bad_answers_get_in_modal_errors_and_store_nothing(
    server: Served, db: Database, change: dict[str, Any], field: str, words: str
) -> None:
    answers = {**GOOD, **change}
    status, body = await post(server, view_submission("U0BEN", "survey", survey_state(**answers)))
    assert status == 200
    assert body["response_action"] == "errors"
    assert words in body["errors"][field]
    assert await participants(db) == []


async def test_errors_speak_the_users_language(server: Served, db: Database) -> None:
    answers = {**GOOD, "topics": []}
    _, body = await post(server, view_submission("U0ANNA", "survey", survey_state(**answers)))
    assert body["errors"]["topics"] == "Bitte wähle mindestens ein Thema."


async def test_wrong_signature_and_old_timestamp_get_401_and_store_nothing(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    body = view_submission("U0BEN", "survey", survey_state(**GOOD))
    status, _ = await post(server, body, headers=sign(body, secret="not-the-secret"))
    assert status == 401
    status, _ = await post(server, body, headers=sign(body, timestamp=int(time.time()) - 301))
    assert status == 401
    status, _ = await post(server, body, headers={})
    assert status == 401
    assert await participants(db) == []
    assert slack.of("chat.postMessage") == [] and slack.of("users.info") == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("payload=%7Bnot-json", FORM),
        ("text=signup", FORM),
        ("{\"no\": \"type\"}", "application/json"),
        ("[1, 2", "application/json"),
        ("[1, 2]", "application/json"),
        ("payload=%5B%5D", FORM),
    ],
)
async def test_malformed_body_gets_400(
    server: Served, db: Database, body: str, content_type: str
) -> None:
    status, _ = await post(server, body, content_type=content_type)
    assert status == 400
    assert await participants(db) == []


async def test_slack_ssl_check_is_answered(server: Served, slack: FakeSlack) -> None:
    status, _ = await post(server, "ssl_check=1&token=deprecated")
    assert status == 200
    assert slack.calls == []


async def test_user_not_in_workspace_is_told_kindly(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    status, body = await post(server, slash_command("U0GHOST", "signup"))
    assert status == 200
    assert "nicht finden" in body["text"]  # app.yaml's default language is German
    assert slack.of("views.open") == []
    status, body = await post(
        server, view_submission("U0GHOST", "survey", survey_state(**GOOD))
    )
    assert status == 200
    assert await participants(db) == []


async def test_concurrent_submissions_leave_one_participant(
    server: Served, db: Database
) -> None:
    bodies = [
        view_submission("U0BEN", "survey", survey_state(**{**GOOD, "goals": f"try {i}"}))
        for i in range(5)
    ]
    results = await asyncio.gather(*(post(server, b) for b in bodies))
    assert all(status == 200 for status, _ in results)
    rows = await participants(db)
    assert len(rows) == 1 and rows[0].goals.startswith("try ")


async def test_signup_outside_the_window_gets_a_clear_answer(
    server: Served, slack: FakeSlack, clock: FixedClock, db: Database
) -> None:
    clock.set(clock.now().replace(year=2026, month=10, day=1))
    _, body = await post(server, slash_command("U0BEN", "signup"))
    assert "opens on 01 Nov 2026" in body["text"]
    clock.set(clock.now().replace(year=2027, month=1, day=20))
    _, body = await post(server, slash_command("U0BEN", "signup"))
    assert "closed on 15 Jan 2027" in body["text"]
    assert slack.of("views.open") == []
    _, body = await post(server, view_submission("U0BEN", "survey", survey_state(**GOOD)))
    assert await participants(db) == []


async def test_status_pause_resume_leave_over_http(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    _, body = await post(server, slash_command("U0BEN", "status"))
    assert "not signed up yet" in body["text"]
    await post(server, view_submission("U0BEN", "survey", survey_state(**GOOD)))
    _, body = await post(server, slash_command("U0BEN", "status"))
    assert body["response_type"] == "ephemeral"
    assert "not matched yet" in json.dumps(body["blocks"])
    _, body = await post(server, slash_command("U0BEN", "pause"))
    assert "on a break" in body["text"]
    _, body = await post(server, slash_command("U0BEN", "resume"))
    assert "Welcome back" in body["text"]
    _, body = await post(server, slash_command("U0BEN", "leave"))
    buttons = next(b for b in body["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["leave.confirm", "leave.cancel"]
    status, _ = await post(
        server, block_action("U0BEN", "leave.confirm", response_url=slack.response_url())
    )
    assert status == 200
    [answer] = await slack.wait_for("response_url")
    assert answer["replace_original"] is True and "You have left" in answer["text"]
    [ben] = await participants(db)
    assert ben.status == "left" and ben.left_at is not None


async def test_a_command_that_says_payload_is_still_a_command(server: Served) -> None:
    _, body = await post(server, slash_command("U0BEN", "payload"))
    assert "I don't know the command" in json.dumps(body["blocks"])


async def test_unknown_subcommand_gets_help(server: Served) -> None:
    _, body = await post(server, slash_command("U0BEN", "dance"))
    text = json.dumps(body["blocks"])
    assert "I don't know the command" in text and "/tandem signup" in text
