"""Teams end to end over real HTTP: activities in, the fake connector records what people see.

Every flow a participant has on Slack, typed in the personal chat with the bot,
in German and in English: sign-up through the survey card (wrong answers first),
status, pause, resume, leave with its confirm button, and help for unknown words.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.core.i18n import t
from storage.db import Database
from storage.models import Participant, Workspace
from tests.fakes.bot_connector import TENANT, Call, TeamsUser, TeamsWorld, teams_world
from tests.helpers.teams import action_data, submit_data

ANNA = TeamsUser("aad-anna", "Anna Jung", locale="de-DE")
BEN = TeamsUser("aad-ben", "Ben Senior", locale="en-US")
SURVEY_FIELDS = {
    "role", "department", "manager", "topics", "goals", "languages", "meeting_mode",
    "location", "capacity", "consent", "wishes", "intro",
}


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in card["body"] if e["type"].startswith("Input.")}


def errors_shown(card: dict[str, Any]) -> list[str]:
    return [
        run["text"] for block in card["body"] if block["type"] == "RichTextBlock"
        for run in block["inlines"] if run.get("color") == "Attention"
    ]


def last(world: TeamsWorld, *kinds: str) -> Call:
    return world.connector.of_kind(*kinds)[-1]


async def participants(world: TeamsWorld) -> list[Participant]:
    async with world.runtime.db.session() as s:
        return list(await s.scalars(select(Participant)))


@pytest.mark.parametrize(("user", "lang", "words"), [
    (ANNA, "de", {"signup": "anmelden", "status": "status", "pause": "pausieren",
                  "resume": "fortsetzen", "leave": "abmelden"}),
    (BEN, "en", {"signup": "signup", "status": "Status", "pause": "PAUSE",
                 "resume": "resume", "leave": "leave"}),
])
async def test_participant_journey(
    world: TeamsWorld, user: TeamsUser, lang: str, words: dict[str, str]
) -> None:
    driver, connector = world.driver, world.connector

    # 1. The survey opens as a card in the personal chat.
    assert await driver.say(user, words["signup"]) == 201
    form_call = last(world, "reply")
    assert form_call.conversation_id == user.chat
    form = form_call.card
    assert form is not None and form["version"] == "1.5"
    fields = inputs(form)
    assert set(fields) == SURVEY_FIELDS
    assert fields["topics"]["isMultiSelect"] is True
    assert fields["goals"]["isMultiline"] is True and fields["goals"]["maxLength"] == 500
    assert fields["manager"]["choices.data"]["dataset"] == "graph.microsoft.com/users"
    assert t(lang, "survey.title") in form_call.all_text()

    # 2. Wrong answers: the card comes back in place, errors shown, values kept, nothing stored.
    bad = {**submit_data(form), "role": "", "department": "IT", "topics": "",
           "goals": "x" * 501, "languages": "de,en", "consent": ""}
    assert await driver.submit(user, bad, form_call.activity_id) == 201
    update = last(world, "update")
    assert update.activity_id == form_call.activity_id
    again = update.card
    assert again is not None
    shown = errors_shown(again)
    assert t(lang, "survey.error.role") in shown
    assert t(lang, "survey.error.topics_none") in shown
    assert t(lang, "survey.error.consent") in shown
    assert t(lang, "survey.error.too_long", max=500, length=501) in shown
    kept = inputs(again)
    assert kept["department"]["value"] == "IT"
    assert kept["languages"]["value"] == "de,en"
    assert kept["goals"]["value"] == "x" * 501
    assert kept["role"]["errorMessage"] == t(lang, "survey.error.role")
    assert await participants(world) == []

    # 3. Good answers: stored, the card says so, the summary arrives as its own message.
    good = {**submit_data(again), "role": "mentor", "department": "IT", "manager": "aad-boss",
            "topics": "ai_tools,agile", "goals": "Learn *how* [teams](http://x) work",
            "languages": "de,en", "meeting_mode": "remote", "location": "",
            "capacity": "1", "consent": "yes"}
    before = len(connector.calls)
    assert await driver.submit(user, good, form_call.activity_id) == 201
    assert await world.runtime.background.idle(60)  # the summary follows the answer
    new_calls = connector.calls[before:]
    done = [c for c in new_calls if c.kind == "update"]
    assert done and done[-1].activity_id == form_call.activity_id
    assert t(lang, "signup.saved_inline") in done[-1].all_text()
    summary = [c for c in new_calls if c.kind == "send"]
    assert len(summary) == 1 and summary[0].conversation_id == user.chat
    assert t(lang, "signup.confirmed_title") in summary[0].all_text()
    # What people typed is shown as typed: a TextRun, never Markdown.
    goals_runs = [
        run for block in summary[0].card["body"] for item in block.get("items", [block])
        for run in item.get("inlines", []) if "teams" in run["text"]
    ]
    assert goals_runs and all(run["type"] == "TextRun" for run in goals_runs)
    [person] = await participants(world)
    assert (person.user_id, person.platform, person.display_name) == (user.key, "teams", user.name)
    assert person.topics == ["ai_tools", "agile"] and person.languages == ["de", "en"]
    assert person.manager_user_id == "aad-boss" and person.locale == lang
    assert person.timezone == "Europe/Berlin" and person.status == "active"
    async with world.runtime.db.session() as s:
        assert await s.scalar(select(Workspace.external_id)) == TENANT

    # 4. Status, pause and resume answer in the chat.
    await driver.say(user, words["status"])
    assert t(lang, "status.title") in last(world, "reply").all_text()
    await driver.say(user, words["pause"])
    assert t(lang, "membership.now_paused", cmd="") in last(world, "reply").all_text()
    await driver.say(user, words["resume"])
    assert t(lang, "membership.now_active") in last(world, "reply").all_text()

    # 5. Leave asks first; the answer replaces the question, so it cannot be pressed twice.
    await driver.say(user, words["leave"])
    question = last(world, "reply")
    assert t(lang, "membership.leave_question") in question.all_text()
    confirm = action_data(question.card, "leave.confirm")
    assert await driver.submit(user, confirm, question.activity_id) == 201
    answer = last(world, "update")
    assert answer.activity_id == question.activity_id
    assert t(lang, "membership.left", cmd="") in answer.all_text()
    assert answer.card.get("actions") is None
    [person] = await participants(world)
    assert person.status == "left"


async def test_unknown_word_gets_help_in_the_persons_language(world: TeamsWorld) -> None:
    await world.driver.say(ANNA, "tanzen")
    text = last(world, "reply").all_text()
    assert t("de", "help.unknown", command="tanzen") in text
    assert t("de", "help.title") in text
    await world.driver.say(BEN, "dance please")
    assert t("en", "help.unknown", command="dance") in last(world, "reply").all_text()


async def test_stay_and_cancel_change_nothing(world: TeamsWorld) -> None:
    await world.driver.say(BEN, "signup")
    form_call = last(world, "reply")
    cancel = next(a["data"] for a in form_call.card["actions"] if "tandem_cancel" in a["data"])
    await world.driver.submit(BEN, cancel, form_call.activity_id)
    assert t("en", "teams.form_cancelled") in last(world, "update").all_text()
    assert await participants(world) == []
    await world.driver.say(BEN, "leave")
    assert t("en", "membership.not_signed_up", cmd="") in last(world, "reply").all_text()


async def test_mention_in_a_channel_is_answered_privately(world: TeamsWorld) -> None:
    """@Tandem status in a team channel: the answer goes to the personal chat only."""
    channel = "19:general@thread.tacv2"
    activity = world.driver.activity(
        BEN,
        text="<at>Tandem</at> hilfe",
        conversation={"id": f"{channel};messageid=1", "conversationType": "channel",
                      "isGroup": True, "tenantId": TENANT},
        channelData={"tenant": {"id": TENANT}, "team": {"id": "19:team@thread.tacv2"},
                     "channel": {"id": channel}},
        entities=[{"type": "mention", "text": "<at>Tandem</at>",
                   "mentioned": {"id": "28:tandem-bot", "name": "Tandem"}}],
    )
    status, _ = await world.driver.post(activity)
    assert status == 201
    created = world.connector.of_kind("create")
    assert len(created) == 1 and created[0].body["members"][0]["id"] == BEN.bf_id
    private = [c for c in world.connector.messages() if c.conversation_id != activity[
        "conversation"]["id"]]
    assert len(private) == 1 and t("en", "help.title") in private[0].all_text()
    public = world.connector.messages(activity["conversation"]["id"])
    assert len(public) == 1
    assert public[0].all_text() == t("en", "teams.answered_privately")


async def test_personal_install_says_hello(world: TeamsWorld) -> None:
    update = world.driver.activity(
        ANNA, type="conversationUpdate",
        membersAdded=[{"id": "28:tandem-bot"}],
    )
    update.pop("text", None)
    assert (await world.driver.post(update))[0] == 201
    assert t("de", "help.title") in last(world, "send", "reply").all_text()


async def test_card_action_invoke_answers_with_a_card(world: TeamsWorld) -> None:
    """Action.Execute: the invoke's response body is the next card (serialised by us)."""
    await world.driver.say(BEN, "signup")
    form = last(world, "reply").card
    invoke = world.driver.activity(
        BEN, type="invoke", name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "submit",
                          "data": {**submit_data(form), "role": "nobody"}}},
    )
    status, body = await world.driver.post(invoke)
    assert status == 200
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert t("en", "survey.error.role") in errors_shown(body["value"])

    status, body = await world.driver.post(
        world.driver.activity(BEN, type="invoke", name="adaptiveCard/action",
                              value={"action": {"data": {"unrelated": 1}}})
    )
    assert status == 200 and body["statusCode"] == 400
    # An invoke Tandem does not offer: a 4xx (botbuilder's own answer is a 501).
    status, _ = await world.driver.post(world.driver.activity(BEN, type="invoke", name="x/y"))
    assert status == 400


async def test_coordinator_match_answers_at_once_then_sends_the_proposal(
    db: Database, config: AppConfig, clock: FixedClock
) -> None:
    """``match`` (slow work): the chat gets an answer in the turn, the proposal and
    its CSV (offered as a file) arrive afterwards as their own messages."""
    coordinators = {**config.coordinators, "teams": (BEN.key,)}
    config = dataclasses.replace(config, coordinators=coordinators)
    async with teams_world(db, config, clock) as world:
        assert await world.driver.say(BEN, "match") == 201
        first = world.connector.messages(BEN.chat)[0]
        assert first.kind == "reply"
        adapter = next(a for a in world.runtime.adapters if a.platform == "teams")
        assert await adapter.bot.idle(grace_seconds=60)
        later = world.connector.messages(BEN.chat)[1:]
        assert later and all(c.kind == "send" for c in later)
        attachments = [a["contentType"] for c in later for a in c.body["attachments"]]
        assert "application/vnd.microsoft.teams.card.file.consent" in attachments


async def test_the_summary_still_comes_when_the_answer_card_fails(
    world: TeamsWorld, db: Database
) -> None:
    """The answer to a survey card (replace it, or send a new one) fails at Teams;
    the answers are saved, so the summary DM that follows still goes out."""
    driver, connector = world.driver, world.connector
    await driver.say(BEN, "signup")
    form = last(world, "reply")
    assert form.card is not None
    good = {**submit_data(form.card), "role": "mentor", "department": "IT", "manager": "",
            "topics": "ai_tools", "goals": "", "languages": "en", "meeting_mode": "remote",
            "location": "", "capacity": "1", "consent": "yes"}
    before = len(connector.calls)
    connector.fail_next(403, times=2)  # the card update, then the new card instead
    await driver.submit(BEN, good, form.activity_id)
    assert await world.runtime.background.idle(60)
    sent = [c for c in connector.calls[before:] if c.kind == "send"]
    assert [c.conversation_id for c in sent] == [BEN.chat]
    assert t("en", "signup.confirmed_title") in sent[0].all_text()
    async with db.session() as session:
        assert (await session.scalars(select(Participant.user_id))).all() == [BEN.key]
