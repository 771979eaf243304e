"""Find a time on Slack, over HTTP: introduction -> Find a time -> pick -> accept
-> the invite file reaches both DMs (files upload v2 against the fake Slack) ->
the month's nudge is skipped -> the check-in arrives the working day after."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from sqlalchemy import select

from bot.core.clock import FixedClock
from conversations.rhythm import run_due
from storage.db import Database
from storage.models import Meeting, MeetingStatus
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.meetings_slack import (
    buttons_in,
    cast,
    introduced,
    posted,
    press,
)
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import (
    block_action,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return cast()


async def test_find_a_time_to_invite_on_slack(
        server: Served, slack: FakeSlack, clock: FixedClock, db: Database) -> None:
    ctx = server.runtime.ctx
    group = await introduced(server, slack, clock)

    # 1. The introduction's Find a time: three slots in Anna's zone, Katrin's time beside.
    [find] = buttons_in(posted(slack, group), "meeting.find")
    offer = await press(server, slack, "U0ANNA", "meeting.find", find)
    picks = buttons_in([offer], "meeting.pick")
    assert len(picks) == 3
    assert "Katrin:" in json.dumps(offer["blocks"], ensure_ascii=False)
    # 2. Anna takes the first; Katrin is asked in her DM, in English, in her time.
    picked = await press(server, slack, "U0ANNA", "meeting.pick", picks[0])
    assert "Katrin" in picked["text"]
    await slack.wait_for("chat.postMessage", 6)
    [accept] = buttons_in(posted(slack, "D0KATRIN"), "meeting.accept")
    proposal = json.dumps(posted(slack, "D0KATRIN")[-1]["blocks"])
    assert "Anna proposes" in proposal
    # Katrin reads the time in New York's zone, Anna read it in Berlin's.
    start = datetime.fromtimestamp(int(picks[0].rsplit(":", 1)[1]) * 60, UTC)
    assert f"{start.astimezone(ZoneInfo('America/New_York')):%H:%M}" in proposal
    assert f"{start.astimezone(BERLIN):%H:%M}" in json.dumps(offer["blocks"])
    # 3. Katrin accepts: both get the invite in their DM as a file (upload v2).
    accepted = await press(server, slack, "U0KATRIN", "meeting.accept", accept)
    assert "Done" in accepted["text"]
    completed = await slack.wait_for("files.completeUploadExternal", 3)
    invites = completed[1:]
    assert sorted(c["channel_id"] for c in invites) == ["D0ANNA", "D0KATRIN"]
    starts = set()
    for call in invites:
        files = call["files"] if isinstance(call["files"], list) else json.loads(call["files"])
        content = slack.uploads[files[0]["id"]]
        calendar = icalendar.Calendar.from_ical(content)
        assert calendar["METHOD"] == "REQUEST"
        parsed = vobject.readOne(content.decode("utf-8"))
        assert parsed.vevent.uid.value == str(calendar.walk("VEVENT")[0]["UID"])
        starts.add(parsed.vevent.dtstart.value.astimezone(UTC))
    [start] = starts
    new_york = start.astimezone(ZoneInfo("America/New_York"))
    assert 9 <= new_york.hour and (new_york + timedelta(hours=1)).hour <= 17
    assert 9 <= start.astimezone(BERLIN).hour < 17
    assert any("outlook.office.com" in c["text"] for c in posted(slack, "D0ANNA"))

    # 4. and 5. The check-in comes the working day after, in the later of the two mornings.
    day = start.astimezone(BERLIN).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    morning = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(
        "America/New_York")).replace(hour=10)
    clock.set(morning - timedelta(minutes=5))
    await run_due(ctx)
    assert not buttons_in(posted(slack, group), "checkin.met")
    clock.set(morning)
    await run_due(ctx)
    [met] = buttons_in(posted(slack, group), "checkin.met")
    # 6. The first month's nudge is skipped: the meeting covers it.
    clock.set(datetime(2027, 2, 9, 16, 0, tzinfo=UTC))
    await run_due(ctx)
    assert not any("Zeit für Treffen 1" in c["text"] or "time for meeting 1" in c["text"]
                   for c in posted(slack, group))
    assert buttons_in(posted(slack, group), "checkin.met") == [met]
    answer = await press(server, slack, "U0KATRIN", "checkin.met", met)
    assert "recorded" in answer["text"]


async def test_bad_input_on_slack_gets_a_kind_answer_and_one_meeting(
        server: Served, slack: FakeSlack, clock: FixedClock, db: Database) -> None:
    group = await introduced(server, slack, clock)
    [find] = buttons_in(posted(slack, group), "meeting.find")
    picks = buttons_in([await press(server, slack, "U0ANNA", "meeting.find", find)],
                       "meeting.pick")
    meeting_id, version, minutes = picks[0].split(":")
    # Forged or stale slot buttons: a kind answer in the presser's language.
    for forged in (f"{meeting_id}:{version}:{int(minutes) + 1}",
                   f"{int(meeting_id) + 1}:{version}:{minutes}", "x:y:z"):
        answer = await press(server, slack, "U0ANNA", "meeting.pick", forged)
        assert "nicht mehr verwendet" in answer["text"], forged
    # Both partners pick at once from the same offer: one pick stands.
    theirs = await press(server, slack, "U0KATRIN", "meeting.find", find)
    assert buttons_in([theirs], "meeting.pick") == picks
    before, sent = len(slack.of("response_url")), len(slack.of("chat.postMessage"))
    statuses = await asyncio.gather(*(post(server, block_action(
        user, "meeting.pick", value, response_url=slack.response_url()))
        for user, value in (("U0ANNA", picks[0]), ("U0KATRIN", picks[1]))))
    assert [status for status, _ in statuses] == [200, 200]
    answers = [c["text"] for c in (await slack.wait_for("response_url", before + 2))[before:]]
    assert sum("hat gerade" in a or "has just proposed" in a for a in answers) == 1, answers
    await slack.wait_for("chat.postMessage", sent + 1)  # the one proposal
    async with db.session() as session:
        [meeting] = list(await session.scalars(select(Meeting)))
    assert meeting.picked_at is not None
    other = "D0KATRIN" if buttons_in(posted(slack, "D0KATRIN"), "meeting.accept") else "D0ANNA"
    [accept] = buttons_in(posted(slack, other), "meeting.accept")
    # The slot passes before the partner accepts: a kind answer, no meeting, no invite.
    clock.set(meeting.picked_at + timedelta(minutes=1))
    late = await press(server, slack, "U0" + other[2:], "meeting.accept", accept)
    assert "vorbei" in late["text"] or "has passed" in late["text"]
    async with db.session() as session:
        [meeting] = list(await session.scalars(select(Meeting)))
    assert meeting.status == MeetingStatus.OPEN
    assert not [c for c in posted(slack, "D0ANNA") + posted(slack, "D0KATRIN")
                if buttons_in([c], "meeting.cancel")]


async def test_a_pressed_answer_replaces_its_buttons_and_an_offer_leaves_them(
        server: Served, slack: FakeSlack, clock: FixedClock, db: Database) -> None:
    """Taking a slot, declining, accepting and cancelling replace the message that was
    pressed (its buttons are used up); an offer arrives beside the message with Find a
    time, which stays for later."""
    group = await introduced(server, slack, clock)
    [find] = buttons_in(posted(slack, group), "meeting.find")
    offer = await press(server, slack, "U0ANNA", "meeting.find", find)
    assert not offer.get("replace_original")
    picks = buttons_in([offer], "meeting.pick")
    picked = await press(server, slack, "U0ANNA", "meeting.pick", picks[0])
    assert picked["replace_original"] is True
    await slack.wait_for("chat.postMessage", 6)
    [proposal] = buttons_in(posted(slack, "D0KATRIN"), "meeting.decline")
    declined = await press(server, slack, "U0KATRIN", "meeting.decline", proposal)
    assert declined["replace_original"] is True
    offer = await press(server, slack, "U0ANNA", "meeting.find", find)
    await press(server, slack, "U0ANNA", "meeting.pick", buttons_in([offer], "meeting.pick")[1])
    await slack.wait_for("chat.postMessage", 8)
    accept = buttons_in(posted(slack, "D0KATRIN"), "meeting.accept")[-1]
    accepted = await press(server, slack, "U0KATRIN", "meeting.accept", accept)
    assert accepted["replace_original"] is True
    await slack.wait_for("files.completeUploadExternal", 3)
    [cancel] = buttons_in(posted(slack, "D0ANNA"), "meeting.cancel")
    cancelled = await press(server, slack, "U0ANNA", "meeting.cancel", cancel)
    assert cancelled["replace_original"] is True
    async with db.session() as session:
        [meeting] = list(await session.scalars(select(Meeting)))
    assert meeting.status == MeetingStatus.CANCELLED
