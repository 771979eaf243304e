"""A whole six-month round on Slack, over HTTP, on a fake clock.

Everything a person sees arrives through the fake Slack Web API; everything
they do is a signed request to the real server. The scheduler's job is done by
calling ``run_due`` at each step, as APScheduler does in production.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.clock import FixedClock
from conversations.rhythm import run_due
from storage.db import Database
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
CHANNEL = "C0PROGRAM1"


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [
        FakeUser(COORDINATOR, "Clara", locale="en-US"),
        FakeUser("U0ANNA", "Anna", locale="de-DE", tz="Europe/Berlin"),
        FakeUser("U0KATRIN", "Katrin", locale="de-DE", tz="Europe/Berlin"),
        FakeUser("U0BEN", "Ben", locale="en-US", tz="America/New_York"),
        FakeUser("U0SARAH", "Sarah", locale="en-US", tz="Asia/Tokyo"),
    ]


def titles(slack: FakeSlack, channel: str) -> list[str]:
    """Message titles (the header block) in a channel, oldest first."""
    found = []
    for call in slack.of("chat.postMessage"):
        if slack.channel_of(call["channel"]) == channel:
            blocks = call["blocks"] if isinstance(call["blocks"], list) else json.loads(
                call["blocks"])
            found.append(next((b["text"]["text"] for b in blocks if b["type"] == "header"),
                              call["text"][:40]))
    return found


def buttons(slack: FakeSlack, channel: str, action: str) -> list[str]:
    values = []
    for call in slack.of("chat.postMessage"):
        if slack.channel_of(call["channel"]) != channel:
            continue
        blocks = call["blocks"] if isinstance(call["blocks"], list) else json.loads(
            call["blocks"])
        values += [e["value"] for b in blocks if b["type"] == "actions"
                   for e in b["elements"] if e["action_id"] == action]
    return values


async def press(server: Served, slack: FakeSlack, user: str, action: str, value: str
                ) -> dict[str, Any]:
    before = len(slack.of("response_url"))
    status, _ = await post(server, block_action(user, action, value,
                                                response_url=slack.response_url()))
    assert status == 200
    return (await slack.wait_for("response_url", before + 1))[-1]


async def test_a_six_month_round_on_slack(
    server: Served, slack: FakeSlack, clock: FixedClock, db: Database
) -> None:
    ctx = server.runtime.ctx
    clock.set(datetime(2026, 11, 1, 9, 30, tzinfo=UTC))
    await run_due(ctx)  # sign-up opens: the channel hears about it
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    for user, answers in (
        ("U0ANNA", {"department": "Marketing", "topics": ["ai_tools"], "languages": ["de"]}),
        ("U0BEN", {"department": "IT", "topics": ["sustainability"], "languages": ["en"]}),
        ("U0KATRIN", {"role": "mentee", "department": "Finance",
                      "topics": ["ai_tools", "agile"], "languages": ["de"], "capacity": "1"}),
        ("U0SARAH", {"role": "mentee", "department": "Sales", "topics": ["sustainability"],
                     "languages": ["en"], "capacity": "1"}),
    ):
        body = view_submission(user, "survey", survey_state(**{**GOOD, "manager": None,
                                                                **answers}))
        assert (await post(server, body))[0] == 200
    clock.set(datetime(2027, 1, 13, 9, 30, tzinfo=UTC))
    await run_due(ctx)  # three days before sign-up closes: a reminder
    clock.set(datetime(2027, 1, 16, 9, 30, tzinfo=UTC))
    await run_due(ctx)  # sign-up closed: the coordinator is asked to match
    await post(server, slash_command(COORDINATOR, "match"))
    proposal = (await slack.wait_for("files.completeUploadExternal"))[0]
    assert proposal
    [confirm] = buttons(slack, "D0COORD01", "match.confirm")
    await press(server, slack, COORDINATOR, "match.confirm", confirm)
    anna_katrin = slack.channel_of("G" + "ANNA" + "TRIN")
    ben_sarah = "G" + "0BEN" + "ARAH"
    await slack.wait_for("chat.postMessage", 10)

    step = datetime(2027, 1, 17, 0, 0, tzinfo=UTC)
    answered: set[str] = set()
    reminded = False
    while step <= datetime(2027, 8, 4, tzinfo=UTC):
        clock.set(step)
        await run_due(ctx)
        for value in buttons(slack, anna_katrin, "checkin.met"):
            if value in answered:
                continue
            answered.add(value)
            answer = await press(server, slack, "U0KATRIN", "checkin.met", value)
            assert "vermerkt" in answer["text"]
            [reflect] = buttons(slack, "D0ANNA", "reflect.open")[-1:]
            await post(server, block_action("U0ANNA", "reflect.open", reflect))
            await slack.wait_for("views.open", len(answered))
            state = {"learned": {"type": "plain_text_input", "value": "Prompting"},
                     "try_next": {"type": "plain_text_input", "value": None},
                     "usefulness": {"type": "radio_buttons",
                                    "selected_option": {"value": "5"}},
                     "visibility": {"type": "radio_buttons",
                                    "selected_option": {"value": "private"}}}
            status, body = await post(server, view_submission(
                "U0ANNA", "reflection", state, private_metadata=reflect))
            assert status == 200 and body["response_action"] == "update"
        later = buttons(slack, ben_sarah, "checkin.later")
        if later and not reminded:
            reminded = True
            answer = await press(server, slack, "U0BEN", "checkin.later", later[0])
            assert "remind you on" in answer["text"]
        step += timedelta(days=1)

    assert titles(slack, anna_katrin) == [
        "Lernt euch kennen: euer Tandem", "Heute startet euer Tandem",
        *[f"Tandem: Zeit für Treffen {m}" for m in range(1, 7)],
    ]
    assert titles(slack, ben_sarah) == [
        "Meet your tandem partner", "Your tandem starts today",
        "Tandem: time for meeting 1", "Reminder: meeting 1",
        *[f"Tandem: time for meeting {m}" for m in range(2, 7)],
    ]
    assert titles(slack, "D0ANNA") == [
        # Anna is the junior: with the introduction, a guide on mentoring a senior.
        "Du bist angemeldet", "So mentorierst du eine erfahrene Kollegin oder einen "
        "erfahrenen Kollegen", *[f"Eine kurze Reflexion zu Treffen {m}" for m in range(1, 4)],
        "Halbzeit: Wie läuft euer Tandem?",  # 1 May, before the fourth meeting
        *[f"Eine kurze Reflexion zu Treffen {m}" for m in range(4, 7)],
        "Die Runde 2027-spring ist vorbei: Wie war es?",
    ]
    assert titles(slack, "D0SARAH") == [
        "You are signed up", "Half-way: how is your tandem going?",
        "Round 2027-spring is over: how was it?",
    ]
    coordinator = [c["text"] for c in slack.of("chat.postMessage")
                   if c["channel"] == COORDINATOR]
    # The coordinator reads them in her own language (users.info: en-US), not app.yaml's de.
    assert sum("Sign-up for round 2027-spring has closed" in x for x in coordinator) == 1
    assert sum("has not met for 2 months" in x for x in coordinator) == 1
    assert titles(slack, CHANNEL) == [
        "Reverse Mentoring: Die Anmeldung für die Runde 2027-spring ist offen",
        "Nur noch wenige Tage: Anmeldung für die Runde 2027-spring",
        "Die Tandems der Runde 2027-spring stehen",
        "Die Runde 2027-spring ist abgeschlossen",
    ]
    channel_text = json.dumps([c for c in slack.of("chat.postMessage")
                               if c["channel"] == CHANNEL], ensure_ascii=False)
    for private in ("Anna", "Katrin", "Ben", "Sarah", "Prompting"):
        assert private not in channel_text

    total = len(slack.of("chat.postMessage"))
    step = datetime(2026, 11, 1, tzinfo=UTC)
    while step <= datetime(2027, 8, 4, tzinfo=UTC):
        clock.set(step)
        await run_due(ctx)
        step += timedelta(days=5)
    assert len(slack.of("chat.postMessage")) == total
