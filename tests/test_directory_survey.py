"""The survey asks less (issue #13, item 4), through the real server on Slack (signed
requests, the fake Web API) and Teams (the fake Bot Connector), on both databases:
what the company directory says about a person is shown instead of asked, "this is
wrong" reaches the coordinators once and nobody else, people the directory does not
know are asked as before, and a long department list becomes a type-ahead search
that only takes known departments."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from conversations import owed
from storage.db import Database
from storage.models import Delivery, MatchProposal, Participant, ProcessedEvent
from tests.fakes.bot_connector import TeamsUser, TeamsWorld, teams_world
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.directory_people import employee, load_directory
from tests.helpers.servers import Served, post, serve, slack_settings
from tests.helpers.slack_requests import (
    GOOD,
    interactive,
    slash_command,
    survey_state,
    view_submission,
)
from tests.helpers.teams import CLARA, LENA, SARAH, idle, submit_data

COORDINATOR = "U0COORD01"  # app.yaml's Slack coordinator
JANE = employee("slack", "U0JANE", "Jane <!channel> Doe", "Board")
ANNA = dataclasses.replace(employee("slack", "U0ANNA", "Anna", "Marketing", JANE.key),
                           location="Berlin")
NOTE = "<!here> I moved to Sales in May"
MANY = tuple(f"Department {n:03d}" for n in range(1, 151))


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [FakeUser("U0ANNA", "Anna", locale="de-DE"), FakeUser("U0BEN", "Ben", locale="en-US"),
            FakeUser(COORDINATOR, "Clara", locale="en-US")]


async def stored(db: Database) -> list[Participant]:
    async with db.session() as session:
        return list(await session.scalars(select(Participant).order_by(Participant.id)))


async def owed_count(db: Database, prefix: str) -> int:
    async with db.session() as session:
        return int(await session.scalar(
            select(func.count()).where(Delivery.key.like(f"{prefix}%"))) or 0)


async def processed_count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0)


async def open_survey(server: Served, slack: FakeSlack, user: str) -> dict[str, dict[str, Any]]:
    """``/tandem signup``: the survey modal's blocks by block id."""
    before = len(slack.of("views.open"))
    assert (await post(server, slash_command(user, "signup")))[0] == 200
    view = (await slack.wait_for("views.open", before + 1))[-1]["view"]
    return {b.get("block_id", ""): b for b in view["blocks"]}


def flagged_state(note: str) -> dict[str, dict[str, Any]]:
    """The survey without department and manager, "this is wrong" ticked, a note."""
    state = {k: v for k, v in survey_state(**GOOD).items() if k not in ("department", "manager")}
    state["directory_wrong"] = {"type": "checkboxes", "selected_options": [
        {"value": "wrong", "text": {"type": "plain_text", "text": "x"}}]}
    state["directory_note"] = {"type": "plain_text_input", "value": note}
    return state


def posted_to(slack: FakeSlack, text: str) -> set[str]:
    return {m["channel"] for m in slack.of("chat.postMessage")
            if text in json.dumps(m, ensure_ascii=False)}


async def test_slack_directory_facts_are_shown_not_asked_and_a_flag_reaches_coordinators_once(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    await load_directory(db, [JANE, ANNA])
    blocks = await open_survey(server, slack, "U0ANNA")
    assert not {"department", "manager", "location"} & set(blocks)
    assert "topics" in blocks and "goals" in blocks  # what the directory cannot know
    flag = blocks["directory_wrong"]
    # In Anna's language; the manager's name as plain text, never a mention.
    assert flag["label"] == {"type": "plain_text", "emoji": True, "text":
                             "Laut Firmenverzeichnis: Marketing, Führungskraft Jane <!channel> "
                             "Doe, Standort Berlin"}
    assert flag["element"]["type"] == "checkboxes" and flag["optional"] is True
    assert blocks["directory_note"]["element"]["max_length"] == 200

    submission = view_submission("U0ANNA", "survey", flagged_state(NOTE))
    for _ in range(2):  # the same submission twice: a retry
        status, body = await post(server, submission)
        assert status == 200 and body["response_action"] == "update"
    await server.runtime.background.idle(10)
    await owed.run_owed(server.runtime.ctx, server.runtime.clock.now())

    [anna] = await stored(db)
    # Nothing typed about the org: the directory's facts are the ones, unchanged.
    assert (anna.department, anna.manager_user_id, anna.location, anna.role) == (
        None, None, None, "mentor")
    assert await owed_count(db, "directory_flag:") == 1
    assert posted_to(slack, "I moved to Sales") == {COORDINATOR}
    [notice] = [m for m in slack.of("chat.postMessage") if m["channel"] == COORDINATOR]
    # In the coordinator's language; what Anna typed cannot ping anyone.
    assert "says the company directory is wrong" in notice["text"]
    assert "&lt;!here&gt; I moved to Sales" in notice["text"] and "<!here>" not in notice["text"]
    assert "Marketing, manager Jane &lt;!channel&gt; Doe, office Berlin" in notice["text"]
    # Anna's own confirmation says what the directory holds, in her language.
    summaries = [m for m in slack.of("chat.postMessage") if m["channel"] == "U0ANNA"]
    assert summaries and all("Laut Firmenverzeichnis: Marketing, Führungskraft Jane "
                             "&lt;!channel&gt; Doe, Standort Berlin" in m["text"]
                             for m in summaries)


async def test_slack_a_flag_shows_in_the_proposal_and_never_reaches_the_partner(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    await load_directory(db, [JANE, ANNA])
    anna = flagged_state(NOTE)
    anna["meeting_mode"]["selected_option"]["value"] = "in_person"
    assert (await post(server, view_submission("U0ANNA", "survey", anna)))[0] == 200
    # Ben (not in the directory) types his office: Anna's is the directory's.
    ben = survey_state(**{**GOOD, "role": "mentee", "department": "IT", "manager": None,
                          "capacity": "1", "meeting_mode": "in_person", "location": "Berlin"})
    assert (await post(server, view_submission("U0BEN", "survey", ben)))[0] == 200
    await server.runtime.background.idle(10)
    # Editing the survey: the flag is still ticked, with the note, and owed no second time.
    blocks = await open_survey(server, slack, "U0ANNA")
    assert [o["value"] for o in blocks["directory_wrong"]["element"]["initial_options"]] \
        == ["wrong"]
    assert blocks["directory_note"]["element"]["initial_value"] == NOTE

    before = len(slack.of("chat.postMessage"))
    assert (await post(server, slash_command(COORDINATOR, "match")))[0] == 200
    proposal = (await slack.wait_for("chat.postMessage", before + 1))[-1]
    assert proposal["channel"] == COORDINATOR
    assert "Anna says the directory is wrong about them" in proposal["text"]
    assert "&lt;!here&gt; I moved to Sales" in proposal["text"]
    await server.runtime.background.idle(10)
    assert posted_to(slack, "I moved to Sales") == {COORDINATOR}
    assert await owed_count(db, "directory_flag:") == 1
    async with db.session() as session:
        [stored_proposal] = await session.scalars(select(MatchProposal))
    [pair] = stored_proposal.result["pairs"]
    assert (pair["mentor_name"], pair["mentee_name"]) == ("Anna", "Ben")
    assert pair["explanation"]["same_location"] is True  # the directory's office


async def test_slack_no_flag_no_notice_and_forged_org_answers_are_ignored(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    await load_directory(db, [JANE, ANNA])
    forged = survey_state(**{**GOOD, "department": "Sales", "manager": "U0BEN"})
    status, _ = await post(server, view_submission("U0ANNA", "survey", forged))
    assert status == 200
    await server.runtime.background.idle(10)
    [anna] = await stored(db)
    assert (anna.department, anna.manager_user_id) == (None, None)
    assert await owed_count(db, "directory_flag:") == 0
    assert COORDINATOR not in {m["channel"] for m in slack.of("chat.postMessage")}


async def test_slack_person_the_directory_does_not_know_is_asked_as_before(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    await load_directory(db, [JANE, ANNA])
    blocks = await open_survey(server, slack, "U0BEN")
    assert blocks["department"]["element"]["type"] == "static_select"
    assert blocks["manager"]["element"]["type"] == "users_select"
    assert "directory_wrong" not in blocks
    assert (await post(server, view_submission("U0BEN", "survey", survey_state(**GOOD))))[0] == 200
    [ben] = await stored(db)
    assert (ben.department, ben.manager_user_id) == ("Marketing", "U0BOSS")


def many_departments(config: AppConfig) -> AppConfig:
    return dataclasses.replace(config, survey=dataclasses.replace(config.survey,
                                                                  departments=MANY))


def suggestion(user: str, typed: str) -> str:
    """What Slack sends as someone types into an external_select (signed by ``post``)."""
    return interactive({
        "type": "block_suggestion", "user": {"id": user, "team_id": "T1"},
        "team": {"id": "T1", "domain": "acme"}, "api_app_id": "A0TANDEM",
        "token": "deprecated", "action_id": "department", "block_id": "department",
        "value": typed, "container": {"type": "view", "view_id": "V0SURVEY"},
        "view": {"id": "V0SURVEY", "type": "modal", "callback_id": "survey",
                 "private_metadata": ""}})


@pytest.fixture
async def many_server(slack: FakeSlack, config: AppConfig, clock: FixedClock, db: Database
                      ) -> AsyncIterator[Served]:
    async with serve(slack_settings(slack), many_departments(config), clock, db) as served:
        yield served


async def test_slack_150_departments_become_a_search_that_takes_only_known_ones(
    many_server: Served, slack: FakeSlack, db: Database
) -> None:
    blocks = await open_survey(many_server, slack, "U0BEN")
    element = blocks["department"]["element"]
    assert element["type"] == "external_select" and "options" not in element

    status, body = await post(many_server, suggestion("U0BEN", "department 14"))
    assert status == 200
    assert [o["value"] for o in body["options"]] == [f"Department {n}" for n in range(140, 150)]
    status, body = await post(many_server, suggestion("U0BEN", "Department"))
    assert len(body["options"]) == 100  # at most what one select shows

    state = survey_state(**GOOD)
    state["department"] = {"type": "external_select",
                           "selected_option": {"value": "Department 042",
                                               "text": {"type": "plain_text", "text": "x"}}}
    forged = dict(state, department={"type": "external_select", "selected_option": {
        "value": "Hackers <!channel>", "text": {"type": "plain_text", "text": "x"}}})
    status, body = await post(many_server, view_submission("U0BEN", "survey", forged))
    assert status == 200 and body["response_action"] == "errors"
    assert body["errors"] == {"department": "Please choose a department from the list."}
    assert await stored(db) == []

    status, _ = await post(many_server, view_submission("U0BEN", "survey", state))
    assert status == 200
    [ben] = await stored(db)
    assert ben.department == "Department 042"


# -- Teams ------------------------------------------------------------------------------

TEAMS_JANE = employee("teams", "aad-jane", "Jane Doe", "Board")
TEAMS_LENA = employee("teams", LENA.key, LENA.name, "IT", TEAMS_JANE.key)


def with_coordinator(config: AppConfig) -> AppConfig:
    return dataclasses.replace(config, coordinators={**config.coordinators,
                                                     "teams": (CLARA.key,)})


async def survey_card(world: TeamsWorld, user: TeamsUser) -> tuple[dict[str, Any], str | None]:
    assert await world.driver.say(user, "signup") == 201
    form = world.connector.of_kind("reply")[-1]
    assert form.card is not None
    return form.card, form.activity_id


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in card["body"] if "id" in e}


ANSWERS = {"role": "mentee", "topics": "ai_tools", "languages": "de", "goals": "",
           "meeting_mode": "remote", "location": "", "capacity": "1", "consent": "yes"}


async def test_teams_directory_facts_are_shown_not_asked_and_a_flag_reaches_coordinators_once(
    db: Database, config: AppConfig, clock: FixedClock
) -> None:
    await load_directory(db, [TEAMS_JANE, TEAMS_LENA])
    async with teams_world(db, with_coordinator(config), clock) as world:
        assert await world.driver.say(CLARA, "help") == 201  # the bot knows her chat
        card, card_id = await survey_card(world, LENA)
        fields = inputs(card)
        assert "department" not in fields and "manager" not in fields
        assert fields["directory_wrong"]["label"] == \
            "Laut Firmenverzeichnis: IT, Führungskraft Jane Doe"
        assert fields["directory_wrong"]["isRequired"] is False
        data = {**submit_data(card), **ANSWERS, "directory_wrong": "wrong",
                "directory_note": "Ich bin seit Mai in <b>Sales</b>"}
        for _ in range(2):  # a retried submission (a new activity each time)
            assert await world.driver.submit(LENA, data, card_id) == 201
        await idle(world)
        await owed.run_owed(world.runtime.ctx, clock.now())
        [lena] = await stored(db)
        assert (lena.department, lena.manager_user_id, lena.role) == (None, None, "mentee")
        assert await owed_count(db, "directory_flag:") == 1
        told = [c for c in world.connector.of_kind("send")
                if "seit Mai" in c.all_text()]
        assert len(told) == 1 and told[0].conversation_id != LENA.chat
        text = told[0].all_text()
        assert "says the company directory is wrong" in text and "IT, manager Jane Doe" in text
        # Shown as typed, in a TextRun: never read as markup.
        assert any(run.get("type") == "TextRun" and "<b>Sales</b>" in run["text"]
                   for block in (told[0].card or {})["body"] for run in block.get("inlines", []))
        assert all("seit Mai" not in c.all_text()
                   for c in world.connector.messages(LENA.chat))


async def test_teams_person_the_directory_does_not_know_is_asked_as_before(
    db: Database, config: AppConfig, clock: FixedClock
) -> None:
    await load_directory(db, [TEAMS_JANE, TEAMS_LENA])
    async with teams_world(db, config, clock) as world:
        card, _ = await survey_card(world, SARAH)
        fields = inputs(card)
        assert fields["department"]["type"] == "Input.ChoiceSet"
        assert fields["department"]["style"] == "compact"
        assert "manager" in fields and "directory_wrong" not in fields


async def test_teams_150_departments_become_a_search_that_takes_only_known_ones(
    db: Database, config: AppConfig, clock: FixedClock
) -> None:
    async with teams_world(db, many_departments(config), clock) as world:
        card, card_id = await survey_card(world, SARAH)
        department = inputs(card)["department"]
        assert department["style"] == "filtered" and department["choices"] == []
        assert department["choices.data"] == {"type": "Data.Query",
                                              "dataset": "tandem.departments"}

        seen = await processed_count(db)
        search = world.driver.activity(
            SARAH, type="invoke", name="application/search",
            value={"dataset": "tandem.departments", "queryText": "ment 14",
                   "queryOptions": {"skip": 0, "top": 15}})
        for _ in range(2):  # the same search again (a redelivery) is answered again
            status, body = await world.driver.post(search)
            assert status == 200
            assert body["type"] == "application/vnd.microsoft.search.searchResponse"
            assert [r["value"] for r in body["value"]["results"]] == \
                [f"Department {n}" for n in range(140, 150)]
        assert await processed_count(db) == seen  # a search writes nothing
        status, _ = await world.driver.post(world.driver.activity(
            SARAH, type="invoke", name="application/search",
            value={"dataset": "somebody.else", "queryText": "x"}))
        assert status == 400

        data = {**submit_data(card), **ANSWERS, "manager": "", "role": "mentor",
                "department": "Hackers"}
        assert await world.driver.submit(SARAH, data, card_id) == 201
        [answer] = [c for c in world.connector.of_kind("update", "reply")
                    if c.card and "Hackers" in json.dumps(c.card)]
        errors = inputs(answer.card or {})["department"]
        assert errors["errorMessage"] == "Please choose a department from the list."
        assert await stored(db) == []

        assert await world.driver.submit(
            SARAH, {**data, "department": "Department 042"}, card_id) == 201
        await idle(world)
        [sarah] = await stored(db)
        assert sarah.department == "Department 042"
