"""Private wishes end to end on Slack and on Teams (both databases).

Anna (a junior, German) privately wishes not to be paired with Katrin (a senior),
in the survey and again with ``wishes``. Without the wish, Anna and Katrin share
their topic and would be paired (the best total score); with it, the matching
pairs them with others, and the proposal says only "a private wish of a
participant". Nobody but Anna ever sees the wish: not Katrin, not the
coordinator, not in a CSV, the report or a log line. ``my-data`` shows Anna her
wish (and Katrin nothing of it); ``forget-me`` erases the wishes a person made
and those that name them. Forged ids, unknown ids and oneself are refused kindly,
and change nothing.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.config import AppConfig
from bot.core.i18n import t
from storage.db import Database
from storage.models import PrivateWish
from tests.fakes.bot_connector import Call, TeamsWorld
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.roundlife import forget_me, my_data, proposal, slack_sign_up, text_of
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import (
    GOOD,
    slash_command,
    survey_state,
    view_submission,
)
from tests.helpers.teams import CLARA, KATRIN, LENA, MEHMET, SARAH, idle, sign_up

COORDINATOR = "U0COORD01"
WISH_WORDS = ("wish", "Wunsch", "Wünsch")


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [FakeUser(COORDINATOR, "Clara", locale="en-US"),
            FakeUser("U0ANNA", "Anna", locale="de-DE"),
            FakeUser("U0BEN", "Ben", locale="en-US"),
            FakeUser("U0KATRIN", "Katrin", locale="en-US"),
            FakeUser("U0OTTO", "Otto", locale="de-DE")]


async def _wishes(db: Database) -> list[tuple[int, str]]:
    async with db.session() as session:
        return [(w.participant_id, w.user_id) for w in await session.scalars(
            select(PrivateWish).order_by(PrivateWish.id))]


def _survey(user: str, **answers: Any) -> str:
    return view_submission(user, "survey", survey_state(**{**GOOD, "manager": None,
                                                           **answers}))


async def _refused(server: Served, body: str) -> dict[str, Any]:
    status, answer = await post(server, body)
    assert status == 200 and answer["response_action"] == "errors", answer
    return dict(answer["errors"])


def _wishy(text: str) -> bool:
    return any(word.lower() in text.lower() for word in WISH_WORDS)


async def test_a_private_wish_costs_the_best_total_and_nobody_sees_it_on_slack(
    server: Served, slack: FakeSlack, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    anna = {"department": "Marketing", "topics": ["ai_tools"], "languages": ["de", "en"]}
    # Forged, unknown and her own id are refused in the form; nothing is stored.
    for forged, key in ((["U0NOBODY"], "wishes.error.unknown"),
                        (["<@U0KATRIN>"], "wishes.error.unknown"),
                        (["U0ANNA"], "wishes.error.self"),
                        ([f"U0X{n}" for n in range(11)], "wishes.error.too_many")):
        errors = await _refused(server, _survey("U0ANNA", **anna, wishes=forged))
        assert errors == {"wishes": t("de", key, most=10)}
    assert await _wishes(db) == []
    # Katrin has not signed up yet: Slack knows her, so Anna may name her.
    await slack_sign_up(server, "U0ANNA", **anna, wishes=["U0KATRIN"])
    [(anna_id, named)] = await _wishes(db)
    assert named == "U0KATRIN"
    await slack_sign_up(server, "U0BEN", department="IT", topics=["social_media"],
                        languages=["de", "en"])
    await slack_sign_up(server, "U0KATRIN", role="mentee", department="Finance",
                        topics=["ai_tools"], languages=["de", "en"], capacity="1")
    await slack_sign_up(server, "U0OTTO", role="mentee", department="Sales",
                        topics=["social_media"], languages=["de", "en"], capacity="1")
    summaries = [c for c in slack.of("chat.postMessage") if c["channel"] == "U0ANNA"]
    assert summaries and not any("Katrin" in text_of(c) for c in summaries)

    # The wishes command shows her list (to her alone), and a forged value there
    # changes nothing either.
    status, _ = await post(server, slash_command("U0ANNA", "wünsche"))
    assert status == 200
    [opened] = await slack.wait_for("views.open")
    view = json.loads(opened["view"]) if isinstance(opened["view"], str) else opened["view"]
    [picker] = [b["element"] for b in view["blocks"] if b.get("block_id") == "wishes"]
    assert (picker["type"], picker["initial_users"]) == ("multi_users_select", ["U0KATRIN"])
    forged = view_submission("U0ANNA", "wishes", {"wishes": {
        "type": "multi_users_select", "selected_users": ["U0KATRIN", "U0GHOST"]}})
    assert await _refused(server, forged) == {"wishes": t("de", "wishes.error.unknown")}
    assert await _wishes(db) == [(anna_id, "U0KATRIN")]
    again = view_submission("U0ANNA", "wishes", {"wishes": {
        "type": "multi_users_select", "selected_users": ["U0KATRIN"]}})
    status, _ = await post(server, again)
    assert status == 200 and await _wishes(db) == [(anna_id, "U0KATRIN")]

    # The matching honours the wish although it costs the best total score.
    shown = text_of(await proposal(server, slack, COORDINATOR, "match"))
    assert t("en", "matching.warning.private_wish") in shown
    assert "Anna → Otto" in shown and "Ben → Katrin" in shown
    assert "Anna → Katrin" not in shown
    [csv_file] = slack.uploads.values()
    assert not _wishy(csv_file.decode("utf-8-sig"))
    # Without the wish the same people pair Anna with Katrin.
    assert await _wishes_erased_for_a_moment_pairs_anna_with_katrin(server, slack, db)

    status, report = await post(server, slash_command(COORDINATOR, "report"))
    assert status == 200 and not _wishy(json.dumps(report, ensure_ascii=False))
    for call in slack.of("chat.postMessage"):
        text = text_of(call)
        if call["channel"] == COORDINATOR:
            text = text.replace(t("en", "matching.warning.private_wish"), "")
        assert not _wishy(text), text
        assert "U0KATRIN" not in text
    # Every log line but the fake Slack's own access log (its URLs carry user ids).
    logged = "\n".join(r.getMessage() for r in caplog.records
                       if r.name != "aiohttp.access" or "/slack/events" in r.getMessage())
    assert not _wishy(logged) and "U0KATRIN" not in logged

    # my-data: Anna sees her wish; Katrin sees nothing of it.
    assert await _my_data(server, slack, "U0ANNA") == [{"user_id": "U0KATRIN"}]
    assert await _my_data(server, slack, "U0KATRIN") == []

    # forget-me: Katrin's erasure takes the wish that names her too.
    await _forget(server, slack, "U0KATRIN")
    assert await _wishes(db) == []


async def _wishes_erased_for_a_moment_pairs_anna_with_katrin(
    server: Served, slack: FakeSlack, db: Database
) -> bool:
    """Anna empties her list, the coordinator runs the matching again, and Anna names
    Katrin again."""
    for chosen in ([], ["U0KATRIN"]):
        status, _ = await post(server, view_submission("U0ANNA", "wishes", {"wishes": {
            "type": "multi_users_select", "selected_users": chosen}}))
        assert status == 200
        if not chosen:
            assert await _wishes(db) == []
            shown = text_of(await proposal(server, slack, COORDINATOR, "match"))
    return "Anna → Katrin" in shown and t("en", "matching.warning.private_wish") not in shown


async def _my_data(server: Served, slack: FakeSlack, user: str) -> list[dict[str, Any]]:
    data, content = await my_data(server, slack, user)
    if user != "U0ANNA":
        assert "U0ANNA" not in content
    return [{"user_id": w["user_id"]} for w in data["tables"].get("private_wishes", [])]


async def _forget(server: Served, slack: FakeSlack, user: str) -> None:
    await forget_me(server, slack, user)


def _card_text(call: Call) -> str:
    return json.dumps(call.card or {}, ensure_ascii=False) + call.all_text()


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return dataclasses.replace(config, coordinators={**config.coordinators,
                                                     "teams": (CLARA.key,)})


async def test_a_private_wish_on_teams_with_forged_ids_refused(
    world: TeamsWorld, db: Database
) -> None:
    connector = world.connector
    await sign_up(world, KATRIN, role="mentee", department="Executive Board",
                  topics="ai_tools", languages="de,en")
    await idle(world)
    # A forged id and her own are refused on the card; nothing is stored.
    for forged, key in (("aad-nobody", "wishes.error.unknown"),
                        ("aad-katrin,aad-mehmet", "wishes.error.self")):
        await sign_up(world, MEHMET, department="Sales", topics="ai_tools",
                      languages="de,en", wishes=forged)
        assert t("de", key) in _card_text(connector.calls[-1])
    assert await _wishes(db) == []
    await sign_up(world, MEHMET, department="Sales", topics="ai_tools", languages="de,en",
                  wishes="aad-katrin")
    await idle(world)
    assert [w for _, w in await _wishes(db)] == ["aad-katrin"]
    # The wishes command shows the people picker with her choice.
    assert await world.driver.say(MEHMET, "wünsche") == 201
    form = connector.of_kind("reply")[-1]
    assert form.card is not None
    [picker] = [e for e in form.card["body"] if e.get("id") == "wishes"]
    assert picker["isMultiSelect"] and picker["value"] == "aad-katrin"
    assert picker["choices.data"]["dataset"] == "graph.microsoft.com/users"
    await sign_up(world, LENA, department="IT", topics="social_media", languages="de,en")
    await sign_up(world, SARAH, role="mentee", department="Finance", topics="social_media",
                  languages="de,en")
    await idle(world)

    before = len(connector.calls)
    assert await world.driver.say(CLARA, "match") == 201
    await idle(world)
    shown = " ".join(_card_text(c) for c in connector.calls[before:])
    assert t("en", "matching.warning.private_wish") in shown
    assert f"{MEHMET.name} → {SARAH.name}" in shown and f"{LENA.name} → {KATRIN.name}" in shown
    for call in connector.calls:
        own_form = any("tandem_form" in a.get("data", {})
                       for a in (call.card or {}).get("actions", []))
        if call.conversation_id == MEHMET.chat or own_form:
            continue
        text = _card_text(call).replace(t("en", "matching.warning.private_wish"), "")
        assert not _wishy(text) and "aad-katrin" not in text.replace(KATRIN.chat, "")
