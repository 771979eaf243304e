"""Slack steps the round-life tests share: sign up, run a matching, press Confirm."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.bot_connector import TeamsWorld
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import (
    GOOD,
    block_action,
    slash_command,
    survey_state,
    view_submission,
)
from tests.helpers.teams import CLARA, KATRIN, MEHMET, confirm_data, idle, sign_up

#: app.yaml's Slack coordinator.
COORDINATOR = "U0COORD01"


def clara_anna_katrin() -> list[FakeUser]:
    """Clara (the coordinator, English), Anna (a junior, German), Katrin (a senior, English)."""
    return [FakeUser(COORDINATOR, "Clara", locale="en-US"),
            FakeUser("U0ANNA", "Anna", locale="de-DE"),
            FakeUser("U0KATRIN", "Katrin", locale="en-US")]


def blocks(call: dict[str, Any]) -> list[dict[str, Any]]:
    found = call.get("blocks") or []
    return found if isinstance(found, list) else json.loads(found)


def text_of(call: dict[str, Any]) -> str:
    return json.dumps(blocks(call), ensure_ascii=False) + call.get("text", "")


def confirms(call: dict[str, Any]) -> list[str]:
    return [e["value"] for b in blocks(call) if b["type"] == "actions"
            for e in b["elements"] if e["action_id"] == "match.confirm"]


async def slack_sign_up(server: Served, user: str, **answers: object) -> None:
    body = view_submission(user, "survey", survey_state(**{**GOOD, "manager": None, **answers}))
    assert (await post(server, body))[0] == 200
    assert await server.runtime.background.idle(60)


async def press_confirm(server: Served, slack: FakeSlack, user: str, value: str) -> str:
    """Press a proposal's Confirm as ``user``; the answer's text."""
    before = len(slack.of("response_url"))
    status, _ = await post(server, block_action(user, "match.confirm", value,
                                                response_url=slack.response_url()))
    assert status == 200
    answer = (await slack.wait_for("response_url", before + 1))[-1]
    assert await server.runtime.background.idle(60)
    return str(answer["text"])


async def press_button(server: Served, slack: FakeSlack, user: str, action: str, value: str
                       ) -> str:
    """Press a button as ``user``; the text of the bot's answer, once its work is done."""
    before = len(slack.of("response_url"))
    status, _ = await post(server, block_action(user, action, value,
                                                response_url=slack.response_url()))
    assert status == 200
    answer = (await slack.wait_for("response_url", before + 1))[-1]
    assert await server.runtime.background.idle(60)
    return str(answer["text"])


def button_value(call: dict[str, Any], action: str) -> str:
    """The value of the ``action`` button in a Slack message."""
    return next(str(e["value"]) for b in blocks(call) if b["type"] == "actions"
                for e in b["elements"] if e["action_id"] == action)


async def my_data(server: Served, slack: FakeSlack, user: str) -> tuple[dict[str, Any], str]:
    """``my-data`` as ``user``: the export's JSON, and its text as uploaded."""
    before, sent = len(slack.uploads), len(slack.of("files.completeUploadExternal"))
    status, _ = await post(server, slash_command(user, "my-data"))
    assert status == 200
    await slack.wait_for("files.completeUploadExternal", sent + 1)
    content = list(slack.uploads.values())[before].decode()
    return json.loads(content), content


async def forget_me(server: Served, slack: FakeSlack, user: str) -> None:
    """``forget-me`` as ``user``, confirmed."""
    before = len(slack.of("response_url"))
    await post(server, slash_command(user, "forget-me"))
    status, _ = await post(server, block_action(user, "forget.confirm",
                                                response_url=slack.response_url()))
    assert status == 200
    await slack.wait_for("response_url", before + 1)
    assert await server.runtime.background.idle(60)


async def proposal(server: Served, slack: FakeSlack, coordinator: str, text: str
                   ) -> dict[str, Any]:
    """Type a match command as the coordinator; the proposal that arrives."""
    before = len(slack.of("files.completeUploadExternal"))
    status, body = await post(server, slash_command(coordinator, text))
    assert status == 200, body
    await slack.wait_for("files.completeUploadExternal", before + 1)
    return [c for c in slack.of("chat.postMessage")
            if c["channel"] == coordinator and "Matching proposal" in text_of(c)][-1]


async def confirm_first_matching(server: Served, slack: FakeSlack, coordinator: str) -> str:
    """Run the matching and confirm it; the Confirm button's value."""
    [value] = confirms(await proposal(server, slack, coordinator, "match"))
    assert "Confirmed" in await press_confirm(server, slack, coordinator, value)
    return value


async def slack_first_tandem(server: Served, slack: FakeSlack) -> None:
    """Anna (junior, Marketing) and Katrin (senior, Finance) sign up on Slack, both for
    AI tools; the coordinator matches and confirms them (their group DM: GANNATRIN)."""
    await slack_sign_up(server, "U0ANNA", department="Marketing", topics=["ai_tools"],
                        languages=["de", "en"])
    await slack_sign_up(server, "U0KATRIN", role="mentee", department="Finance",
                        topics=["ai_tools"], languages=["en"], capacity="1")
    await confirm_first_matching(server, slack, COORDINATOR)


async def teams_first_tandem(world: TeamsWorld) -> None:
    """Mehmet (junior) and Katrin (senior) sign up on Teams; Clara matches and confirms."""
    for user, answers in ((MEHMET, {"department": "Sales"}),
                          (KATRIN, {"role": "mentee", "department": "Executive Board"})):
        await sign_up(world, user, topics="ai_tools", languages="de", **answers)
        await idle(world)
    assert await world.driver.say(CLARA, "match") == 201
    await idle(world)
    first = world.connector.calls[-2]
    assert await world.driver.submit(CLARA, confirm_data(first), first.activity_id) == 201
    await idle(world)
