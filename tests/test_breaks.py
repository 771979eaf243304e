"""A break with an end, on Slack and on Teams (both databases): ``pause`` asks until
when (one month ahead by default), Tandem resumes the person on that day and tells
them and their partner, exactly once across a restart; ``pause`` without a date
still works; a date in the past or nonsense is refused in the form and changes
nothing; a paused person is never matched."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.core.i18n import t
from conversations.rhythm import run_due
from storage.db import Database
from storage.models import Participant
from tests.fakes.bot_connector import TeamsWorld
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.roundlife import (
    proposal,
    slack_first_tandem,
    slack_sign_up,
    teams_first_tandem,
    text_of,
)
from tests.helpers.servers import Served, post, serve, slack_settings
from tests.helpers.slack_requests import block_action, slash_command, view_submission
from tests.helpers.teams import CLARA, KATRIN, MEHMET, submit_data

COORDINATOR = "U0COORD01"
#: Mid-round; one month later is 20 March.
PAUSING = datetime(2027, 2, 20, 9, 0, tzinfo=UTC)
#: 20 March, 09:00 in Berlin: the lifecycle time (10:00) has not come yet.
MORNING = datetime(2027, 3, 20, 8, 0, tzinfo=UTC)
#: 20 March, 10:30 in Berlin.
RESUMING = datetime(2027, 3, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [FakeUser(COORDINATOR, "Clara", locale="en-US"),
            FakeUser("U0ANNA", "Anna", locale="de-DE"),
            FakeUser("U0KATRIN", "Katrin", locale="en-US"),
            FakeUser("U0LEO", "Leo", locale="en-US"),
            FakeUser("U0MARIA", "Maria", locale="en-US")]


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return dataclasses.replace(config, coordinators={**config.coordinators,
                                                     "teams": (CLARA.key,)})


def _date(value: str | None) -> dict[str, dict[str, Any]]:
    return {"until": {"type": "datepicker", "selected_date": value}}


async def _status(db: Database, user: str) -> tuple[str, datetime | None]:
    async with db.session() as session:
        person = await session.scalar(select(Participant).where(Participant.user_id == user))
    assert person is not None
    return person.status, person.paused_until


async def _ask_until(server: Served, slack: FakeSlack, user: str) -> dict[str, Any]:
    """``pause``, answered at once with "Until when?"; the button opens the date picker."""
    status, body = await post(server, slash_command(user, "pause"))
    assert status == 200
    [value] = [e["value"] for b in body["blocks"] if b["type"] == "actions"
               for e in b["elements"] if e["action_id"] == "pause.until"]
    opened = len(slack.of("views.open"))
    assert (await post(server, block_action(user, "pause.until", value)))[0] == 200
    found = (await slack.wait_for("views.open", opened + 1))[-1]
    view = found["view"]
    return view if isinstance(view, dict) else json.loads(view)


def _texts(slack: FakeSlack, channel: str) -> list[str]:
    return [c["text"] for c in slack.of("chat.postMessage")
            if slack.channel_of(c["channel"]) == channel]


async def test_a_break_ends_on_its_day_on_slack(
    server: Served, slack: FakeSlack, clock: FixedClock, db: Database
) -> None:
    await slack_first_tandem(server, slack)

    # A paused person is never matched: Maria, a late sign-up on a break, waits.
    await slack_sign_up(server, "U0LEO", department="IT", topics=["ai_tools"],
                        languages=["en"])
    await slack_sign_up(server, "U0MARIA", role="mentee", department="Legal",
                        topics=["ai_tools"], languages=["en"], capacity="1")
    assert (await post(server, slash_command("U0MARIA", "pause")))[0] == 200
    late = text_of(await proposal(server, slack, COORDINATOR, "match"))
    assert "Leo" in late and "Maria: You are paused" in late and "→" not in late

    clock.set(PAUSING)
    view = await _ask_until(server, slack, "U0ANNA")
    [picker] = [b["element"] for b in view["blocks"] if b["type"] == "input"]
    assert picker == {"type": "datepicker", "action_id": "until", "initial_date": "2027-03-20"}

    for wrong in ("2027-02-19", "2027-02-20", "2027-13-01", "20.03.2027", "2029-01-01"):
        status, body = await post(server, view_submission("U0ANNA", "pause", _date(wrong)))
        assert status == 200 and body["response_action"] == "errors", wrong
        assert body["errors"] == {"until": t("de", "pause.bad_date")}
        assert await _status(db, "U0ANNA") == ("paused", None)

    status, body = await post(server, view_submission("U0ANNA", "pause", _date("2027-03-20")))
    assert status == 200 and body["response_action"] == "update"
    assert t("de", "pause.now_paused_until", day="20.03.2027", cmd="/tandem ") in json.dumps(
        body["view"], ensure_ascii=False)
    assert await _status(db, "U0ANNA") == ("paused", datetime(2027, 3, 20, 9, 0, tzinfo=UTC))

    # Not yet at 09:00 in Berlin; at 10:30 Anna is back, and both are told, once.
    ctx = server.runtime.ctx
    clock.set(MORNING)
    await run_due(ctx)
    assert (await _status(db, "U0ANNA"))[0] == "paused"
    clock.set(RESUMING)
    await run_due(ctx)
    assert await _status(db, "U0ANNA") == ("active", None)
    assert _texts(slack, "D0ANNA")[-1] == t("de", "pause.over")
    assert _texts(slack, "D0KATRIN")[-1] == t("en", "pause.partner_back", name="Anna")
    sent = len(slack.of("chat.postMessage"))

    # A restart on that day: a new server over the same database sends nothing again.
    async with serve(slack_settings(slack), server.runtime.config, clock, db) as again:
        await run_due(again.runtime.ctx)
    await run_due(ctx)
    assert len(slack.of("chat.postMessage")) == sent
    assert _texts(slack, "D0KATRIN").count(t("en", "pause.partner_back", name="Anna")) == 1

    # ``pause`` without a date: a break until ``resume``, untouched by the rhythm; an
    # empty date in the form is the same.
    await _ask_until(server, slack, "U0KATRIN")
    status, body = await post(server, view_submission("U0KATRIN", "pause", _date(None)))
    assert status == 200 and body["response_action"] == "update"
    assert await _status(db, "U0KATRIN") == ("paused", None)
    clock.set(datetime(2027, 6, 1, 9, 30, tzinfo=UTC))
    await run_due(ctx)
    assert (await _status(db, "U0KATRIN"))[0] == "paused"
    # After ``resume`` the button and the form of that break are out of date.
    assert (await post(server, slash_command("U0KATRIN", "resume")))[0] == 200
    before = len(slack.of("response_url"))
    await post(server, block_action("U0KATRIN", "pause.until", "pause.until",
                                    response_url=slack.response_url()))
    [stale] = (await slack.wait_for("response_url", before + 1))[before:]
    assert stale["text"] == t("en", "error.stale_button")
    status, body = await post(server, view_submission("U0KATRIN", "pause", _date("2027-07-01")))
    assert await _status(db, "U0KATRIN") == ("active", None)
    # Already on a break: said so.
    status, body = await post(server, slash_command("U0MARIA", "pause"))
    assert status == 200 and "already on a break" in json.dumps(body)


async def test_a_break_ends_on_its_day_on_teams(
    world: TeamsWorld, clock: FixedClock, db: Database
) -> None:
    connector = world.connector
    await teams_first_tandem(world)

    clock.set(PAUSING)
    assert await world.driver.say(MEHMET, "pausieren") == 201
    asked = connector.calls[-1]
    assert asked.card is not None and t("de", "membership.now_paused", cmd="") in asked.all_text()
    assert (await _status(db, MEHMET.key))[0] == "paused"
    until = next(a["data"] for a in asked.card["actions"]
                 if a["data"].get("tandem_action") == "pause.until")
    assert await world.driver.submit(MEHMET, until, asked.activity_id) == 201
    form = connector.calls[-1]
    assert form.card is not None
    [picker] = [e for e in form.card["body"] if e.get("type") == "Input.Date"]
    assert picker["value"] == "2027-03-20"
    data = submit_data(form.card)
    assert await world.driver.submit(MEHMET, {**data, "until": "1999-01-01"},
                                     form.activity_id) == 201
    assert t("de", "pause.bad_date") in connector.calls[-1].all_text()
    assert await _status(db, MEHMET.key) == ("paused", None)
    assert await world.driver.submit(MEHMET, {**data, "until": "2027-03-20"},
                                     form.activity_id) == 201
    assert t("de", "pause.now_paused_until", day="20.03.2027", cmd="") in connector.calls[
        -1].all_text()
    assert (await _status(db, MEHMET.key))[0] == "paused"

    clock.set(RESUMING)
    before = len(connector.calls)
    await run_due(world.runtime.ctx)
    await run_due(world.runtime.ctx)
    notes = {c.conversation_id: c.all_text() for c in connector.calls[before:]}
    assert len(connector.calls[before:]) == 2
    assert notes[MEHMET.chat] == t("de", "pause.over")
    assert notes[KATRIN.chat] == t("de", "pause.partner_back", name=MEHMET.name)
    assert await _status(db, MEHMET.key) == ("active", None)
