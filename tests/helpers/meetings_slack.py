"""Slack's side of Find a time, shared by the meeting tests: the buttons in what the
fake Slack received, pressing one as a person, and a tandem introduced on Slack."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.core.clock import FixedClock
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import (
    GOOD,
    block_action,
    slash_command,
    survey_state,
    view_submission,
)

COORDINATOR = "U0COORD01"


def cast() -> list[FakeUser]:
    """Clara coordinates; Anna (Berlin, German) and Katrin (New York, English) meet."""
    return [
        FakeUser(COORDINATOR, "Clara", locale="en-US"),
        FakeUser("U0ANNA", "Anna", locale="de-DE", tz="Europe/Berlin"),
        FakeUser("U0KATRIN", "Katrin", locale="en-US", tz="America/New_York"),
    ]


def blocks_of(call: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = call.get("blocks") or []
    return blocks if isinstance(blocks, list) else json.loads(blocks)


def buttons_in(calls: list[dict[str, Any]], action: str) -> list[str]:
    return [e["value"] for call in calls for b in blocks_of(call) if b["type"] == "actions"
            for e in b["elements"] if e["action_id"] == action]


def posted(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [c for c in slack.of("chat.postMessage") if slack.channel_of(c["channel"]) == channel]


async def press(server: Served, slack: FakeSlack, user: str, action: str, value: str
                ) -> dict[str, Any]:
    before = len(slack.of("response_url"))
    status, _ = await post(server, block_action(user, action, value,
                                                response_url=slack.response_url()))
    assert status == 200
    return (await slack.wait_for("response_url", before + 1))[-1]


async def introduced(server: Served, slack: FakeSlack, clock: FixedClock) -> str:
    """Anna and Katrin sign up, are matched and introduced; their group DM's id."""
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    for user, answers in (
        ("U0ANNA", {"department": "Marketing", "topics": ["ai_tools"], "languages": ["de",
                                                                                  "en"]}),
        ("U0KATRIN", {"role": "mentee", "department": "Finance", "topics": ["ai_tools"],
                      "languages": ["de", "en"], "capacity": "1"}),
    ):
        body = view_submission(user, "survey", survey_state(**{**GOOD, "manager": None,
                                                                **answers}))
        assert (await post(server, body))[0] == 200
    clock.set(datetime(2027, 1, 16, 9, 30, tzinfo=UTC))
    await post(server, slash_command(COORDINATOR, "match"))
    await slack.wait_for("files.completeUploadExternal")
    [confirm] = buttons_in(posted(slack, "D0COORD01"), "match.confirm")
    await press(server, slack, COORDINATOR, "match.confirm", confirm)
    group = "G" + "ANNA" + "TRIN"
    await slack.wait_for("chat.postMessage", 5)  # the introduction and the announcement
    return group
