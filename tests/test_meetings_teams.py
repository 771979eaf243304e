"""Find a time on Teams, over HTTP against the fake Bot Connector: introduction ->
Find a time -> pick -> accept -> the invite is offered to both as a file (consent
card; on "Allow" it is uploaded) -> the month's nudge is skipped -> the check-in
arrives the working day after, in each partner's own morning."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from conversations.rhythm import run_due
from storage.db import Database
from storage.models import Meeting, MeetingStatus
from tests.fakes.bot_connector import TeamsWorld
from tests.helpers.meetings_teams import (
    CLARA,
    CONSENT,
    LENA,
    SARAH,
    actions,
    introduced,
    newest,
    post,
    press,
)
from tests.helpers.teams import idle


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return dataclasses.replace(config, coordinators={**config.coordinators,
                                                     "teams": (CLARA.key,)})


async def test_find_a_time_to_invite_on_teams(world: TeamsWorld, clock: FixedClock) -> None:
    ctx = world.runtime.ctx
    await introduced(world, clock)

    # The introduction (each privately on Teams) carries Find a time.
    intro, find = newest(world, SARAH, "meeting.find")
    offer = await press(world, SARAH, intro, find)
    picks = actions(offer, "meeting.pick")
    assert len(picks) == 3 and "Lena Weber" in offer.all_text()
    await press(world, SARAH, offer, picks[0])
    proposal_card, accept = newest(world, LENA, "meeting.accept")
    assert "Sarah Miller" in proposal_card.all_text()
    # Each reads the time in their own zone and language: Sarah in New York's and
    # English, Lena in Berlin's and German.
    start = datetime.fromtimestamp(int(picks[0]["value"].rsplit(":", 1)[1]) * 60, UTC)
    assert f"{start.astimezone(ZoneInfo('America/New_York')):%H:%M}" in offer.all_text()
    assert f"{start.astimezone(ZoneInfo('Europe/Berlin')):%H:%M}" in proposal_card.all_text()
    assert "schlägt" in proposal_card.all_text() and "Free" in offer.all_text()
    accepted = await press(world, LENA, proposal_card, accept)
    assert "Erledigt" in accepted.all_text()
    await idle(world)

    # Both are offered the invite as a file; Lena allows it and it is uploaded.
    consents = {}
    for user in (LENA, SARAH):
        [card] = [c for c in world.connector.messages(user.chat)
                  if any(a.get("contentType") == CONSENT
                         for a in c.body.get("attachments", []))]
        consents[user.key] = next(a for a in card.body["attachments"]
                                  if a["contentType"] == CONSENT)
        assert consents[user.key]["name"].endswith(".ics")
    consent = consents[LENA.key]
    answer = world.driver.activity(
        LENA, type="invoke", name="fileConsent/invoke",
        value={"type": "fileUpload", "action": "accept",
               "context": consent["content"]["acceptContext"],
               "uploadInfo": {"name": consent["name"], "fileType": "ics",
                              "uploadUrl": world.connector.url + "upload/" + consent["name"],
                              "contentUrl": "https://drive.example/invite.ics",
                              "uniqueId": "u1"}})
    assert (await world.driver.post(answer))[0] == 200
    calendar = icalendar.Calendar.from_ical(world.connector.uploads[consent["name"]])
    assert calendar["METHOD"] == "REQUEST"
    start = calendar.walk("VEVENT")[0].decoded("DTSTART").astimezone(UTC)
    new_york = ZoneInfo("America/New_York")
    assert 9 <= start.astimezone(new_york).hour < 17
    assert 9 <= start.astimezone(ZoneInfo("Europe/Berlin")).hour < 17

    # The check-in: Lena at 10:00 Berlin, Sarah at 10:00 New York, the working day after.
    day = start.astimezone(new_york).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    berlin_morning = datetime.combine(day, datetime.min.time(),
                                      tzinfo=ZoneInfo("Europe/Berlin")).replace(hour=10)
    clock.set(berlin_morning)
    await run_due(ctx)
    card, _ = newest(world, LENA, "checkin.met")
    assert "stattgefunden" in card.all_text()
    card, _ = newest(world, SARAH, "checkin.met")  # the confirmation's "We met" only
    assert "take place" not in card.all_text()
    clock.set(datetime.combine(day, datetime.min.time(), tzinfo=new_york).replace(hour=10))
    await run_due(ctx)
    card, met = newest(world, SARAH, "checkin.met")
    assert "take place" in card.all_text()

    # The first month's nudge never comes: the meeting covers it.
    clock.set(datetime(2027, 2, 9, 16, 0, tzinfo=UTC))
    await run_due(ctx)
    assert not any("time for meeting 1" in c.all_text() for c in
                   world.connector.messages(SARAH.chat))
    answered = await press(world, SARAH, card, met)
    assert "recorded" in answered.all_text()


async def test_bad_input_on_teams_gets_a_kind_answer_and_one_meeting(
        world: TeamsWorld, clock: FixedClock, db: Database) -> None:
    await introduced(world, clock)
    intro, find = newest(world, LENA, "meeting.find")
    offer = await press(world, LENA, intro, find)
    picks = actions(offer, "meeting.pick")
    meeting_id, version, minutes = picks[0]["value"].split(":")
    # Forged or stale slot buttons: a kind answer in the presser's language.
    for forged in (f"{meeting_id}:{version}:{int(minutes) + 1}",
                   f"{int(meeting_id) + 1}:{version}:{minutes}", "x:y:z"):
        answer = await press(world, LENA, offer, {**picks[0], "value": forged})
        assert "nicht mehr verwendet" in answer.all_text(), forged
    # Both partners pick at once, each from their own (identical) offer: one pick stands.
    intro, find = newest(world, SARAH, "meeting.find")
    theirs = await press(world, SARAH, intro, find)
    assert actions(theirs, "meeting.pick") == picks
    before = len(world.connector.calls)
    await asyncio.gather(post(world, LENA, value=picks[0], replyToId=offer.activity_id),
                         post(world, SARAH, value=picks[1], replyToId=theirs.activity_id))
    await idle(world)
    answers = [c.all_text() for c in world.connector.calls[before:]
               if c.kind in ("update", "reply")]
    assert sum("hat gerade" in a or "has just proposed" in a for a in answers) == 1, answers
    proposals = [c for c in world.connector.calls[before:] if actions(c, "meeting.accept")]
    assert len(proposals) == 1
    [proposal] = proposals
    other = LENA if proposal.conversation_id == LENA.chat else SARAH
    [accept] = actions(proposal, "meeting.accept")
    # The slot passes before the partner accepts: a kind answer, no meeting, no invite.
    async with db.session() as session:
        [meeting] = list(await session.scalars(select(Meeting)))
    assert meeting.picked_at is not None
    clock.set(meeting.picked_at + timedelta(minutes=1))
    late = await press(world, other, proposal, accept)
    assert "vorbei" in late.all_text() or "has passed" in late.all_text()
    async with db.session() as session:
        [meeting] = list(await session.scalars(select(Meeting)))
    assert meeting.status == MeetingStatus.OPEN
    assert not [c for user in (LENA, SARAH) for c in world.connector.messages(user.chat)
                if actions(c, "meeting.cancel")]
