"""Redeliveries: Slack's retries (X-Slack-Retry-Num) and Teams' repeated activities
have one effect, however often they arrive."""

from __future__ import annotations

import json
import time

import pytest

from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.servers import Served
from tests.helpers.slack_requests import sign

JSON = "application/json"


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [
        FakeUser("U0BEN", "Ben"),
    ]


def dm_event(text: str, event_id: str) -> str:
    return json.dumps({
        "token": "deprecated", "team_id": "T1", "api_app_id": "A0TANDEM",
        "event": {"type": "message", "channel": "D0BEN", "channel_type": "im",
                  "user": "U0BEN", "text": text, "ts": "1700000000.000100", "team": "T1"},
        "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
        "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
    })


async def deliver(server: Served, body: str, content_type: str, retry: int | None) -> int:
    headers = {"Content-Type": content_type, **sign(body)}
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    async with server.http.post(server.url + "/slack/events", data=body,
                                headers=headers) as response:
        return response.status


async def test_the_same_slack_event_three_times_has_one_effect(
    server: Served, slack: FakeSlack
) -> None:
    body = dm_event("help", "Ev0001")
    statuses = [await deliver(server, body, JSON, retry) for retry in (None, 1, 2)]
    assert statuses == [200, 200, 200]
    await slack.wait_for("chat.postMessage")
    other = dm_event("hilfe", "Ev0002")  # a different event is still answered
    assert await deliver(server, other, JSON, None) == 200
    answers = await slack.wait_for("chat.postMessage", 2)
    assert len(answers) == 2 and [a["channel"] for a in answers] == ["D0BEN", "D0BEN"]
