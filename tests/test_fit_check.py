"""The fit check on Slack and on Teams (both databases): a few days after the first
meeting each partner is asked privately whether the pairing works; a "no" goes to
the coordinators only, whose one click ends the tandem kindly for both (each told
privately, in the same words) and puts both back in the pool, never to be paired
with each other again. The partner never learns who said no. Forged and stale
buttons change nothing."""

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
from conversations import figures
from conversations.rhythm import run_due
from storage.db import Database
from storage.models import Round, Tandem
from tests.fakes.bot_connector import Call, TeamsWorld
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.roundlife import button_value as _value
from tests.helpers.roundlife import (
    clara_anna_katrin,
    proposal,
    slack_first_tandem,
    teams_first_tandem,
    text_of,
)
from tests.helpers.roundlife import press_button as _press
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import slash_command
from tests.helpers.teams import CLARA, KATRIN, MEHMET

COORDINATOR = "U0COORD01"
#: Tuesday 9 February 2027, 10:30 in Berlin: the first nudge is out.
FIRST_NUDGE = datetime(2027, 2, 9, 9, 30, tzinfo=UTC)
TWO_DAYS_LATER = datetime(2027, 2, 11, 9, 30, tzinfo=UTC)
THREE_DAYS_LATER = datetime(2027, 2, 12, 9, 30, tzinfo=UTC)


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return clara_anna_katrin()


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    # The example app.yaml leaves the fit check off; this programme asks.
    rhythm = dataclasses.replace(config.rhythm, enabled=config.rhythm.enabled | {"fit_check"})
    return dataclasses.replace(config, rhythm=rhythm, coordinators={**config.coordinators,
                                                                     "teams": (CLARA.key,)})


def _to(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [c for c in slack.of("chat.postMessage") if slack.channel_of(c["channel"]) == channel]


async def _round(db: Database) -> Round:
    async with db.session() as session:
        found = await session.scalar(select(Round))
    assert found is not None
    return found


async def _statuses(db: Database) -> list[str]:
    async with db.session() as session:
        return [t.status for t in await session.scalars(select(Tandem).order_by(Tandem.id))]


async def test_a_no_leads_to_a_rematch_of_both_on_slack(
    server: Served, slack: FakeSlack, clock: FixedClock, db: Database
) -> None:
    ctx = server.runtime.ctx
    await slack_first_tandem(server, slack)

    clock.set(FIRST_NUDGE)
    await run_due(ctx)
    [nudge] = [c for c in _to(slack, "GANNATRIN") if "checkin.met" in text_of(c)]
    assert "Danke" not in await _press(server, slack, "U0KATRIN", "checkin.met",
                                       _value(nudge, "checkin.met"))
    clock.set(TWO_DAYS_LATER)
    await run_due(ctx)
    assert not [c for c in _to(slack, "D0ANNA") if "fit.no" in text_of(c)]
    clock.set(THREE_DAYS_LATER)
    await run_due(ctx)
    await run_due(ctx)
    [asked_anna] = [c for c in _to(slack, "D0ANNA") if "fit.no" in text_of(c)]
    [asked_katrin] = [c for c in _to(slack, "D0KATRIN") if "fit.no" in text_of(c)]
    assert t("de", "fit.question") in text_of(asked_anna)
    assert t("en", "fit.question") in text_of(asked_katrin)
    tandem = _value(asked_anna, "fit.no")

    # Forged and misplaced presses change nothing.
    assert await _press(server, slack, "U0ANNA", "fit.no", "99999") == t("de", "error.stale_button")
    assert await _press(server, slack, COORDINATOR, "fit.no", tandem) == t(
        "en", "checkin.not_yours")
    assert await _press(server, slack, "U0ANNA", "fit.rematch", tandem) == t(
        "de", "error.not_allowed")

    katrin_before = len(_to(slack, "D0KATRIN"))
    assert await _press(server, slack, "U0ANNA", "fit.no", tandem) == t("de", "fit.thanks.no")
    assert await _press(server, slack, "U0KATRIN", "fit.yes", tandem) == t("en", "fit.thanks.yes")
    [alert] = [c for c in _to(slack, "D0COORD01") if "fit.rematch" in text_of(c)]
    assert t("en", "fit.no_alert", name="Anna", partner="Katrin") in text_of(alert)
    assert len(_to(slack, "D0KATRIN")) == katrin_before  # Katrin hears nothing of it

    answer = await _press(server, slack, COORDINATOR, "fit.rematch", _value(alert, "fit.rematch"))
    assert answer == t("en", "fit.rematched", cmd="/tandem ")
    assert await _press(server, slack, COORDINATOR, "fit.rematch", tandem) == t(
        "en", "fit.already_rematched")
    assert await _statuses(db) == ["ended"]
    assert _to(slack, "D0ANNA")[-1]["text"] == t("de", "fit.ended_kindly")
    assert _to(slack, "D0KATRIN")[-1]["text"] == t("en", "fit.ended_kindly")
    katrin_saw = " ".join(text_of(c) for c in _to(slack, "D0KATRIN") + _to(slack, "GANNATRIN"))
    for said in (t("en", "fit.thanks.no"), t("de", "fit.thanks.no"), "does not work",
                 "passt nicht"):
        assert said not in katrin_saw
    # A fit answer on the ended tandem is out of date.
    assert await _press(server, slack, "U0KATRIN", "fit.no", tandem) == t(
        "en", "error.stale_button")

    # The report counts the answers, and with fewer than five people shows no split.
    status, body = await post(server, slash_command(COORDINATOR, "report"))
    report = json.dumps(body, ensure_ascii=False)
    assert status == 200 and t("en", "fit.report", count=2) in report
    assert "1 / 0 / 1" not in report
    data = await figures.load(db, await _round(db))
    loose = dataclasses.replace(ctx.config, report=dataclasses.replace(
        ctx.config.report, min_group_size=2))
    assert figures.programme(loose, data, clock.now()).fit.counts == (1, 0, 1)
    for secret in ("Anna", "Katrin"):
        assert secret not in report.split(t("en", "figures.evaluation_title"))[-1]

    # Both wait again, and are never paired with each other again.
    again = text_of(await proposal(server, slack, COORDINATOR, "match"))
    assert "Anna" in again and "Katrin" in again and "Anna → Katrin" not in again
    await run_due(ctx)
    assert len([c for c in _to(slack, "D0ANNA") if "fit.no" in text_of(c)]) == 1


def _action(call: Call, action: str) -> dict[str, Any]:
    assert call.card is not None
    return next(a["data"] for a in call.card.get("actions", [])
                if a["data"].get("tandem_action") == action)


async def test_a_no_leads_to_a_rematch_of_both_on_teams(
    world: TeamsWorld, clock: FixedClock, db: Database
) -> None:
    connector = world.connector
    await teams_first_tandem(world)
    clock.set(FIRST_NUDGE)
    before = len(connector.calls)
    await run_due(world.runtime.ctx)
    nudge = next(c for c in connector.calls[before:] if c.conversation_id == KATRIN.chat)
    assert await world.driver.submit(KATRIN, _action(nudge, "checkin.met"), nudge.activity_id
                                     ) == 201
    clock.set(THREE_DAYS_LATER)
    before = len(connector.calls)
    await run_due(world.runtime.ctx)
    asked = {c.conversation_id: c for c in connector.calls[before:]}
    assert set(asked) == {MEHMET.chat, KATRIN.chat}
    assert t("de", "fit.question") in asked[MEHMET.chat].all_text()

    before = len(connector.calls)
    no = _action(asked[MEHMET.chat], "fit.no")
    assert await world.driver.submit(MEHMET, no, asked[MEHMET.chat].activity_id) == 201
    [thanks] = [c for c in connector.calls[before:] if c.conversation_id == MEHMET.chat]
    assert thanks.all_text() == t("de", "fit.thanks.no")
    [alert] = [c for c in connector.calls[before:] if c.conversation_id == CLARA.chat]
    assert t("en", "fit.no_alert", name=MEHMET.name, partner=KATRIN.name) in alert.all_text()
    assert KATRIN.chat not in {c.conversation_id for c in connector.calls[before:]}

    forged = {**_action(alert, "fit.rematch"), "value": "²"}
    assert await world.driver.submit(CLARA, forged, alert.activity_id) == 201
    assert connector.calls[-1].all_text() == t("en", "error.stale_button")
    assert await _statuses(db) == ["active"]

    before = len(connector.calls)
    assert await world.driver.submit(CLARA, _action(alert, "fit.rematch"), alert.activity_id
                                     ) == 201
    told = {c.conversation_id: c.all_text() for c in connector.calls[before:]}
    assert told[MEHMET.chat] == t("de", "fit.ended_kindly")
    assert told[KATRIN.chat] == t("de", "fit.ended_kindly")
    assert await _statuses(db) == ["ended"]
