"""The coordinator's matching flow on Microsoft Teams, end to end over HTTP.

Everything is asserted on what the fake Bot Connector received, as people in
Teams would see it: a non-coordinator is refused in their language and nothing
is posted; the coordinator gets an answer at once, then the proposal card and
the CSV offered as a file; ``match pin`` / ``match block`` give new proposals;
Confirm creates the tandems once; each partner gets one private introduction in
their own language (Teams has no group chats for bots) and the programme channel
one announcement without names.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.config import AppConfig
from bot.core.i18n import t
from storage.models import AuditEntry, Delivery, MatchProposal, Participant, Tandem
from tests.fakes.bot_connector import Call, TeamsWorld
from tests.helpers.teams import (
    CHANNEL,
    CLARA,
    CONFIRM,
    JAMAL,
    KATRIN,
    LENA,
    MEHMET,
    PARTICIPANTS,
    SARAH,
    bot_added_to_team,
    confirm_data,
    idle,
    sign_up,
)

FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return dataclasses.replace(
        config,
        coordinators={**config.coordinators, "teams": (CLARA.key,)},
        channels={**config.channels, "teams": (CHANNEL,)},
    )


async def sign_up_everyone(world: TeamsWorld) -> None:
    # Sarah signs up before Katrin: pairs are listed by the senior, so Jamal → Sarah is
    # pair 1 and Lena → Katrin pair 2.
    await sign_up(world, LENA, department="Marketing", topics="ai_tools,social_media",
                  languages="de,en")
    await sign_up(world, MEHMET, department="Sales", topics="ai_tools", languages="de")
    await sign_up(world, JAMAL, department="IT", topics="sustainability", languages="en")
    await sign_up(world, SARAH, role="mentee", department="Human Resources",
                  topics="sustainability", languages="en")
    await sign_up(world, KATRIN, role="mentee", department="Executive Board",
                  topics="ai_tools,social_media", languages="de")
    await idle(world)
    async with world.runtime.db.session() as session:
        assert await session.scalar(select(func.count(Participant.id))) == len(PARTICIPANTS)


async def count(world: TeamsWorld, model: Any) -> int:
    async with world.runtime.db.session() as session:
        return await session.scalar(select(func.count(model.id))) or 0


async def run(world: TeamsWorld, text: str) -> tuple[Call, Call, Call]:
    """The coordinator types a match command: answered in the turn, then the proposal
    and the CSV arrive in her personal chat, and nothing goes anywhere else."""
    before = len(world.connector.calls)
    assert await world.driver.say(CLARA, text) == 201
    answer = world.connector.calls[before]  # there when Teams got its HTTP response
    assert (answer.kind, answer.conversation_id) == ("reply", CLARA.chat)
    assert answer.all_text() == t("en", "match.working", count=len(PARTICIPANTS))
    await idle(world)
    calls = world.connector.calls[before:]
    assert [(c.kind, c.conversation_id) for c in calls] == [
        ("reply", CLARA.chat), ("send", CLARA.chat), ("send", CLARA.chat),
    ]
    _, proposal, offer = calls
    return answer, proposal, offer


async def proposal_id(world: TeamsWorld, number: int) -> str:
    async with world.runtime.db.session() as session:
        found = await session.scalar(
            select(MatchProposal.id).where(MatchProposal.number == number))
    return str(found)


async def test_non_coordinators_are_refused_and_nothing_happens(world: TeamsWorld) -> None:
    await sign_up_everyone(world)
    await bot_added_to_team(world, CLARA)
    world.connector.clear()
    summaries = await count(world, Delivery)  # the sign-up summaries, owed and sent

    refused = t("de", "error.not_allowed")
    assert "Koordinator" in refused
    for text in ("match", "match confirm", "match pin 1"):
        assert await world.driver.say(LENA, text) == 201
        assert world.connector.calls[-1].all_text() == refused
    # A Confirm button, as if Lena had got hold of one.
    assert await world.driver.submit(LENA, {"tandem_action": CONFIRM, "value": "1"}, None) == 201
    assert world.connector.calls[-1].all_text() == refused
    await idle(world)

    assert [(c.kind, c.conversation_id) for c in world.connector.calls] == [
        ("reply", LENA.chat)] * 4
    for model in (MatchProposal, Tandem, AuditEntry):
        assert await count(world, model) == 0
    assert await count(world, Delivery) == summaries


async def test_matching_on_teams(world: TeamsWorld) -> None:
    connector = world.connector
    await sign_up_everyone(world)
    await bot_added_to_team(world, CLARA)
    connector.clear()

    # 1. The first proposal: an answer at once, then the card and the CSV, privately.
    _, first, offer = await run(world, "match")
    text = first.all_text()
    assert "Matching proposal #1" in text
    assert "Tandems: \n2" in text and "People matched: \n4 of 5" in text
    assert "Average score: " in text and "Lowest score: " in text
    # Jamal meets only in English, so he takes Sarah; Lena shares both topics with Katrin.
    assert "1. Jamal Okafor → Sarah Miller" in text
    assert "2. Lena Weber → Katrin Vogel" in text
    assert "Not matched:\n• Mehmet Yilmaz" in text
    assert [a["title"] for a in first.card["actions"]] == ["Confirm 2 tandems", "Run again"]
    assert first.card["actions"][0]["type"] == "Action.Submit"
    assert confirm_data(first)["value"] == await proposal_id(world, 1)

    [_, consent] = offer.body["attachments"]
    assert "Proposal #1 as a spreadsheet (CSV)." in offer.all_text()
    assert consent["contentType"] == FILE_CONSENT
    assert consent["name"] == "tandem-2027-spring-proposal-1.csv"
    # Allowed: Teams gives an upload URL in her OneDrive, the bot uploads the CSV there.
    accept = world.driver.activity(
        CLARA, type="invoke", name="fileConsent/invoke",
        value={"type": "fileUpload", "action": "accept",
               "context": consent["content"]["acceptContext"],
               "uploadInfo": {"name": consent["name"], "fileType": "csv",
                              "uploadUrl": connector.url + "upload/" + consent["name"],
                              "contentUrl": "https://drive.example/proposal-1.csv",
                              "uniqueId": "u1"}},
    )
    assert (await world.driver.post(accept))[0] == 200
    content = connector.uploads[consent["name"]]
    assert consent["content"]["sizeInBytes"] == len(content)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Pair", "Junior (mentor)", "Senior (mentee)"]
    assert [r[:3] for r in rows[1:]] == [["1", "Jamal Okafor", "Sarah Miller"],
                                         ["2", "Lena Weber", "Katrin Vogel"],
                                         ["", "Mehmet Yilmaz", ""]]

    # 2. Pin pair 1, then block pair 2: each a new proposal that follows the rule.
    _, second, _ = await run(world, "match pin 1")
    text = second.all_text()
    assert "Matching proposal #2" in text
    assert "1. Jamal Okafor → Sarah Miller · 97 · Sustainability · pinned" in text
    assert "2. Lena Weber → Katrin Vogel" in text and text.count("pinned") == 1
    _, third, third_offer = await run(world, "match block 2")
    text = third.all_text()
    assert "Matching proposal #3" in text
    assert "1. Jamal Okafor → Sarah Miller · 97 · Sustainability · pinned" in text
    assert "2. Mehmet Yilmaz → Katrin Vogel" in text and "Lena Weber →" not in text
    assert "Not matched:\n• Lena Weber" in text
    assert third_offer.body["attachments"][1]["name"] == "tandem-2027-spring-proposal-3.csv"
    assert confirm_data(third)["value"] == await proposal_id(world, 3)
    assert await count(world, Tandem) == 0

    # 3. An outdated proposal cannot be confirmed: its card now says which one is current.
    before = len(connector.calls)
    assert await world.driver.submit(CLARA, confirm_data(first), first.activity_id) == 201
    [outdated] = connector.calls[before:]
    assert (outdated.kind, outdated.activity_id) == ("update", first.activity_id)
    assert outdated.all_text() == t("en", "match.outdated", number=3)
    assert await count(world, Tandem) == 0

    # 4. Confirm, pressed twice at once (an Action.Submit each, as Teams sends them):
    # one press wins; each answer replaces the card, so its buttons are gone.
    before = len(connector.calls)
    presses = await asyncio.gather(*(
        world.driver.submit(CLARA, confirm_data(third), third.activity_id) for _ in range(2)))
    assert presses == [201, 201]
    await idle(world)
    answers = [c for c in connector.calls[before:] if c.kind == "update"]
    assert {(c.kind, c.activity_id) for c in answers} == {("update", third.activity_id)}
    assert sorted(c.all_text() for c in answers) == sorted([
        t("en", "match.confirmed", count=2, round="2027-spring"),
        t("en", "match.already_confirmed", round="2027-spring", count=2),
    ])
    assert all("actions" not in c.card for c in answers)
    async with world.runtime.db.session() as session:
        people = {p.id: p.user_id for p in await session.scalars(select(Participant))}
        tandems = [(people[x.mentor_id], people[x.mentee_id])
                   for x in await session.scalars(select(Tandem))]
    assert sorted(tandems) == [(JAMAL.key, SARAH.key), (MEHMET.key, KATRIN.key)]

    # 5. Each partner got exactly one introduction, privately, in their own language.
    sent = [c for c in connector.calls[before:] if c.kind != "update"]
    assert all(c.kind == "send" for c in sent)
    guides = [c for c in sent if t("de", "mentors.guide.title") in c.all_text()
              or t("en", "mentors.guide.title") in c.all_text()]
    # The juniors also get a guide on mentoring a senior, privately, after it.
    assert {c.conversation_id for c in guides} == {MEHMET.chat, JAMAL.chat}
    sent = [c for c in sent if c not in guides]
    intros = {user: [c for c in sent if c.conversation_id == user.chat] for user in PARTICIPANTS}
    assert intros[LENA] == [] and len(sent) == 4 + 1  # four introductions, one announcement
    german, english = t("de", "intro.title"), t("en", "intro.title")
    for user in (MEHMET, JAMAL, KATRIN):  # de-DE, de-AT, de-DE
        [intro] = intros[user]
        assert german in intro.all_text() and english not in intro.all_text()
    [intro] = intros[SARAH]  # en-US
    assert english in intro.all_text() and german not in intro.all_text()
    assert "Jamal Okafor mentors, Sarah Miller learns" in intro.all_text()
    assert "Jamal Okafor offered Sustainability, which you asked for" in intro.all_text()
    # Jamal reads German although he meets Sarah in English.
    assert "Jamal Okafor ist Mentor*in, Sarah Miller lernt" in intros[JAMAL][0].all_text()
    assert "Mehmet Yilmaz ist Mentor*in, Katrin Vogel lernt" in intros[KATRIN][0].all_text()

    # 6. The channel got one announcement, in the programme's language, without names.
    [announcement] = [c for c in sent if c.conversation_id == CHANNEL]
    text = announcement.all_text()
    assert t("de", "announce.matching.title", round="2027-spring") in text
    assert "2 Tandems" in text and "Nachhaltigkeit" in text
    for user in (CLARA, *PARTICIPANTS):
        for name in user.name.split():
            assert name not in json.dumps(announcement.body, ensure_ascii=False)

    # 7. Confirming again later (the card, the outdated card, the command) says so
    # and changes nothing. (``match`` itself now matches whoever still waits: see
    # tests/test_running_round.py.)
    deliveries = await count(world, Delivery)
    already = t("en", "match.already_confirmed", round="2027-spring", count=2)
    before = len(connector.calls)
    assert await world.driver.submit(CLARA, confirm_data(third), third.activity_id) == 201
    assert await world.driver.submit(CLARA, confirm_data(first), first.activity_id) == 201
    assert await world.driver.say(CLARA, "match confirm") == 201
    await idle(world)
    again = connector.calls[before:]
    assert [(c.kind, c.conversation_id) for c in again] == [
        ("update", CLARA.chat), ("update", CLARA.chat), ("reply", CLARA.chat)]
    assert [c.all_text() for c in again] == [already] * 2 + [
        t("en", "match.nothing_to_confirm")]
    assert await count(world, Tandem) == 2
    assert await count(world, Delivery) == deliveries
