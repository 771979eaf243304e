"""Coordinator commands end to end over HTTP, on Slack and on Teams.

A non-coordinator trying any coordinator command or button is refused, nothing
changes and nothing is posted; an announcement with mentions, links and markup
arrives inert (Slack plain_text with escaped fallback, Teams TextRun); a Slack
user group makes its members coordinators.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import func, select

from adapters.slack.options import SlackOptions
from bot.core.config import AppConfig
from storage.db import Database
from storage.models import AuditEntry, CoordinatorAction, Delivery, Round
from tests.fakes.bot_connector import TeamsWorld
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import block_action, interactive, slash_command
from tests.helpers.teams import CHANNEL as TEAMS_CHANNEL
from tests.helpers.teams import CLARA, LENA, action_data, bot_added_to_team, idle, submit_data

COORDINATOR = "U0COORD01"
SLACK_CHANNEL = "C0PROGRAM1"
EVIL = "<!channel> <@U123> <https://evil.example|click> *bold*"
COORDINATOR_COMMANDS = ("match", "announce", "round", "round open 2027-01-30", "round close",
                        "round extend 2", "round end",
                        "round next 2027-autumn 2027-08-31 2027-09-15", "report")


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [
        FakeUser(COORDINATOR, "Clara", locale="en-US"),
        FakeUser("U0HR01", "Hanna", locale="en-US"),
        FakeUser("U0LENA", "Lena", locale="de-DE"),
    ]


@pytest.fixture(autouse=True)
def hr_group(slack: FakeSlack) -> None:
    """The Slack workspace has one user group for the coordinators, @hr-mentoring."""
    slack.user_groups = {"S0OTHER": ("everyone", ()),
                         "S0HR": ("hr-mentoring", ("U0HR01", "U0HR02"))}


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    """Coordinators: the @hr-mentoring group on Slack, Clara on Teams."""
    return dataclasses.replace(
        config, platform_options={"slack": SlackOptions(coordinator_usergroup="@hr-mentoring")},
        coordinators={**config.coordinators, "teams": (CLARA.key,)},
        channels={**config.channels, "teams": (TEAMS_CHANNEL,)})


_triggers = iter(range(1, 10**6))


def fresh(body: str) -> str:
    """The same interaction with its own trigger id (each press is a new interaction)."""
    payload = json.loads(parse_qs(body)["payload"][0])
    payload["trigger_id"] = f"trigger-{next(_triggers)}"
    return interactive(payload)


def press(user: str, action_id: str, value: str, url: str) -> str:
    return fresh(block_action(user, action_id, value, response_url=url))


def announce_submission(user: str, text: str, private_metadata: str = "") -> str:
    values = {
        "channel": {"type": "static_select", "selected_option": {
            "value": SLACK_CHANNEL, "text": {"type": "plain_text", "text": SLACK_CHANNEL}}},
        "text": {"type": "plain_text_input", "value": text},
        "signup_button": {"type": "checkboxes", "selected_options": [
            {"value": "yes", "text": {"type": "plain_text", "text": "yes"}}]},
    }
    from tests.helpers.slack_requests import view_submission

    return fresh(view_submission(user, "announce", values, private_metadata=private_metadata))


async def snapshot(db: Database) -> tuple[Any, ...]:
    async with db.session() as session:
        rounds = [(r.name, r.signup_opens_at, r.signup_closes_at, r.length_months, r.status,
                   r.overrides, r.followed_by) for r in await session.scalars(select(Round))]
        actions = [(a.id, a.status, json.dumps(a.payload, sort_keys=True))
                   for a in await session.scalars(select(CoordinatorAction))]
        audits = await session.scalar(select(func.count(AuditEntry.id)))
        deliveries = await session.scalar(select(func.count(Delivery.id)))
    return rounds, actions, audits, deliveries


def button_value(message: dict[str, Any], action_id: str) -> str:
    return next(e["value"] for b in message["blocks"] if b["type"] == "actions"
                for e in b["elements"] if e["action_id"] == action_id)


async def slack_preview(server: Served, slack: FakeSlack, user: str, text: str
                        ) -> dict[str, Any]:
    status, _ = await post(server, slash_command(user, "announce"))
    assert status == 200
    [opened] = await slack.wait_for("views.open")
    assert json.loads(opened["view"])["callback_id"] == "announce" if isinstance(
        opened["view"], str) else opened["view"]["callback_id"] == "announce"
    before = len(slack.of("chat.postMessage"))
    status, _ = await post(server, announce_submission(user, text))
    assert status == 200
    dms = await slack.wait_for("chat.postMessage", before + 1)
    assert dms[-1]["channel"] == user
    return dms[-1]


async def test_slack_non_coordinator_is_refused_everything(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    preview = await slack_preview(server, slack, COORDINATOR, "Hello")
    draft = button_value(preview, "announce.post")
    status, body = await post(server, slash_command(COORDINATOR, "round extend 1"))
    round_action = button_value(body, "round.confirm")
    before = await snapshot(db)
    posts = len(slack.of("chat.postMessage"))
    for text in COORDINATOR_COMMANDS:
        status, body = await post(server, slash_command("U0LENA", text))
        assert status == 200 and "Koordinator" in body["text"], text
    assert not slack.of("views.open")[1:]  # no compose form for Lena
    status, _ = await post(server, announce_submission("U0LENA", "hi", draft))
    assert status == 200
    for number, (action_id, value) in enumerate((
            ("announce.post", draft), ("announce.edit", draft), ("announce.cancel", draft),
            ("round.confirm", round_action), ("round.cancel", round_action),
            ("match.confirm", "1"), ("command:announce", ""), ("command:round", ""))):
        url = slack.response_url(f"lena-{number}")
        status, _ = await post(server, press("U0LENA", action_id, value, url))
        assert status == 200
        answers = await slack.wait_for("response_url", number + 1)
        assert "Koordinator" in answers[-1]["text"], action_id
    assert await snapshot(db) == before
    assert len(slack.of("chat.postMessage")) == posts
    assert not [c for c in slack.of("chat.postMessage") if c["channel"] == SLACK_CHANNEL]


async def test_slack_announcement_arrives_inert_and_once(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    preview = await slack_preview(server, slack, COORDINATOR, EVIL)
    assert "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt;" in preview["text"]
    draft = button_value(preview, "announce.post")
    for name in ("1", "2"):
        status, _ = await post(server, press(COORDINATOR, "announce.post", draft,
                                             slack.response_url(name)))
        assert status == 200
    answers = sorted(a["text"] for a in await slack.wait_for("response_url", 2))
    assert answers[0].startswith("Posted") and ("already" in answers[1] or "being" in answers[1])
    [posted] = [c for c in slack.of("chat.postMessage") if c["channel"] == SLACK_CHANNEL]
    blocks = json.loads(posted["blocks"]) if isinstance(posted["blocks"], str) \
        else posted["blocks"]
    [section] = [b for b in blocks if b["type"] == "section"]
    assert section["text"] == {"type": "plain_text", "text": EVIL, "emoji": True}
    assert not any(b.get("text", {}).get("type") == "mrkdwn" for b in blocks)
    assert "<" not in posted["text"] and ">" not in posted["text"]
    assert "&lt;!channel&gt;" in posted["text"]
    [signup] = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert signup["action_id"] == "command:signup"
    # Whoever presses "Sign up" in the channel gets the sign-up form.
    status, _ = await post(server, press("U0LENA", "command:signup", "command:signup",
                                         slack.response_url("3")))
    opened = await slack.wait_for("views.open", 2)
    view = opened[-1]["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "survey"
    async with db.session() as session:
        audits = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert audits == ["announce.draft", "announce.post"]


async def test_slack_user_group_members_are_coordinators(
    server: Served, slack: FakeSlack
) -> None:
    assert slack.of("usergroups.list") and slack.of("usergroups.users.list")
    assert server.runtime.config.is_coordinator("slack", "U0HR01")
    assert not server.runtime.config.is_coordinator("slack", "U0LENA")
    status, body = await post(server, slash_command("U0HR01", "round"))
    assert status == 200 and "Round 2027-spring" in body["text"]
    assert "U0HR01" in server.runtime.config.coordinator_ids("slack")


async def test_teams_non_coordinator_is_refused_everything(
    world: TeamsWorld, db: Database
) -> None:
    await bot_added_to_team(world, CLARA)
    assert await world.driver.say(CLARA, "round extend 1") == 201
    asked = world.connector.messages(CLARA.chat)[-1]
    round_action = action_data(asked.card or {}, "round.confirm")["value"]
    before = await snapshot(db)
    calls = len(world.connector.calls)
    for text in (*COORDINATOR_COMMANDS, "ankündigen", "runde"):
        assert await world.driver.say(LENA, text) == 201
        answer = world.connector.calls[-1]
        assert answer.conversation_id == LENA.chat
        assert "Koordinator" in answer.all_text(), text
    for action_id, value in (("round.confirm", round_action), ("round.cancel", round_action),
                             ("announce.post", "1"), ("match.confirm", "1")):
        data = {"tandem_action": action_id, "value": value}
        assert await world.driver.submit(LENA, data, None) == 201
        assert "Koordinator" in world.connector.calls[-1].all_text(), action_id
    data = {"tandem_form": "announce", "tandem_context": "", "channel": TEAMS_CHANNEL,
            "text": "hi", "signup_button": "yes"}
    assert await world.driver.submit(LENA, data, None) == 201
    assert "Koordinator" in world.connector.calls[-1].all_text()
    await idle(world)
    assert await snapshot(db) == before
    assert all(c.conversation_id == LENA.chat for c in world.connector.calls[calls:])
    assert not world.connector.messages(TEAMS_CHANNEL)


async def test_teams_announcement_arrives_inert_and_once(world: TeamsWorld, db: Database
                                                         ) -> None:
    await bot_added_to_team(world, CLARA)
    assert await world.driver.say(CLARA, "announce") == 201
    form = world.connector.messages(CLARA.chat)[-1]
    assert form.card is not None
    data = {**submit_data(form.card), "channel": TEAMS_CHANNEL, "text": EVIL,
            "signup_button": "yes"}
    assert await world.driver.submit(CLARA, data, form.activity_id) == 201
    await idle(world)
    preview = world.connector.messages(CLARA.chat)[-1]
    assert EVIL in preview.texts()
    post_data = action_data(preview.card or {}, "announce.post")
    for _ in range(2):
        assert await world.driver.submit(CLARA, post_data, preview.activity_id) == 201
    await idle(world)
    [posted] = world.connector.messages(TEAMS_CHANNEL)
    card = posted.card
    assert card is not None
    runs = [inline for block in card["body"] if block["type"] == "RichTextBlock"
            for inline in block["inlines"]]
    assert {"type": "TextRun", "text": EVIL} in runs
    assert not [b for b in card["body"] if b["type"] == "TextBlock"]  # never Markdown
    assert posted.body.get("textFormat") in (None, "plain")
    [signup] = card["actions"]
    assert signup["data"]["tandem_action"] == "command:signup"
    async with db.session() as session:
        assert await session.scalar(
            select(func.count(Delivery.id)).where(Delivery.kind == "announcement")) == 1
