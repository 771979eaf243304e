"""Matching into a running round, end to end on Slack and on Teams (both databases).

Two late sign-ups wait after the round was confirmed; the coordinators are told
once (not again within the week); ``match`` proposes a tandem for the two of them
only, with the same review; Confirm (once, however often pressed) introduces the
new tandem, leaves the running tandems alone and posts nothing in the channel; the
new tandem's first nudge, the next day, is meeting 1 of what is left of the round.
Forged, outdated and already used Confirm buttons are refused kindly.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.core.i18n import t
from conversations.rhythm import run_due
from storage.db import Database
from storage.models import MatchProposal, Tandem
from tests.fakes.bot_connector import TeamsUser, TeamsWorld
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.roundlife import (
    blocks,
    confirms,
    press_confirm,
    proposal,
    slack_sign_up,
    teams_first_tandem,
    text_of,
)
from tests.helpers.servers import Served
from tests.helpers.teams import (
    CLARA,
    JAMAL,
    LENA,
    MEHMET,
    SARAH,
    confirm_data,
    idle,
    sign_up,
)

COORDINATOR = "U0COORD01"
CHANNEL = "C0PROGRAM1"
#: After the matching, before the round: the two late sign-ups.
LATE_SIGNUP = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
#: Month 2 of the round (it starts on 1 Feb 2027): its nudge went out on Tuesday 9 March.
IN_MONTH_TWO = datetime(2027, 3, 10, 9, 30, tzinfo=UTC)
NEXT_DAY = datetime(2027, 3, 11, 9, 30, tzinfo=UTC)
IN_THE_WEEK = datetime(2027, 3, 15, 9, 30, tzinfo=UTC)


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [
        FakeUser(COORDINATOR, "Clara", locale="en-US"),
        FakeUser("U0ANNA", "Anna", locale="de-DE"),
        FakeUser("U0KATRIN", "Katrin", locale="de-DE"),
        FakeUser("U0BEN", "Ben", locale="en-US"),
        FakeUser("U0SARAH", "Sarah", locale="en-US"),
        FakeUser("U0LEO", "Leo", locale="en-US"),
        FakeUser("U0MARIA", "Maria", locale="en-US"),
    ]


_blocks, _text, _confirms = blocks, text_of, confirms
_sign_up = slack_sign_up


async def _press(server: Served, slack: FakeSlack, user: str, value: str) -> str:
    return await press_confirm(server, slack, user, value)


async def _proposal(server: Served, slack: FakeSlack, text: str) -> dict[str, Any]:
    return await proposal(server, slack, COORDINATOR, text)


async def _tandems(db: Database) -> list[tuple[int, int, int, str, float, int | None]]:
    async with db.session() as session:
        return [(t.id, t.mentor_id, t.mentee_id, t.status, t.score, t.joined_period)
                for t in await session.scalars(select(Tandem).order_by(Tandem.id))]


def _to(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [c for c in slack.of("chat.postMessage") if slack.channel_of(c["channel"]) == channel]


async def test_late_sign_ups_are_matched_into_the_running_round_on_slack(
    server: Served, slack: FakeSlack, clock: FixedClock, db: Database
) -> None:
    ctx = server.runtime.ctx
    await _sign_up(server, "U0ANNA", department="Marketing", topics=["ai_tools"],
                   languages=["de"])
    await _sign_up(server, "U0BEN", department="IT", topics=["sustainability"],
                   languages=["en"])
    await _sign_up(server, "U0KATRIN", role="mentee", department="Finance",
                   topics=["ai_tools"], languages=["de"], capacity="1")
    await _sign_up(server, "U0SARAH", role="mentee", department="Sales",
                   topics=["sustainability"], languages=["en"], capacity="1")
    first = await _proposal(server, slack, "match")
    [first_confirm] = _confirms(first)
    assert "Confirmed: 2 tandems" in await _press(server, slack, COORDINATOR, first_confirm)
    running = await _tandems(db)
    assert len(running) == 2

    # Two people sign up after the matching.
    clock.set(LATE_SIGNUP)
    await _sign_up(server, "U0LEO", department="IT", topics=["social_media"], languages=["en"])
    await _sign_up(server, "U0MARIA", role="mentee", department="Legal",
                   topics=["social_media"], languages=["en"], capacity="1")

    # In month two the coordinator hears that two people wait: once, not again that week.
    clock.set(IN_MONTH_TWO)
    await run_due(ctx)
    await run_due(ctx)
    clock.set(IN_THE_WEEK)
    await run_due(ctx)
    waiting = [c for c in _to(slack, "D0COORD01") if "waiting for a tandem" in c["text"]]
    assert [c["text"] for c in waiting] == [t("en", "running.waiting", count=2,
                                              round="2027-spring", cmd="/tandem ")]
    clock.set(IN_MONTH_TWO)

    # ``match`` now looks at the two of them only, with the same review.
    proposal = await _proposal(server, slack, "match")
    text = _text(proposal)
    assert "Matching into the running round" in text and "Leo → Maria" in text
    for busy in ("Anna", "Katrin", "Ben", "Sarah"):
        assert busy not in text
    pinned = await _proposal(server, slack, "match pin 1")
    assert "pinned" in _text(pinned)
    [outdated] = _confirms(proposal)
    [current] = _confirms(pinned)

    # Forged, outdated and used buttons change nothing.
    assert await _press(server, slack, COORDINATOR, "99999") == t("en", "error.stale_button")
    assert await _press(server, slack, COORDINATOR, "x1") == t("en", "error.stale_button")
    assert "not the latest proposal" in await _press(server, slack, COORDINATOR, outdated)
    assert "already confirmed" in await _press(server, slack, COORDINATOR, first_confirm)
    assert await _press(server, slack, "U0LEO", current) == t("en", "error.not_allowed")
    assert await _tandems(db) == running

    channel_posts = len(_to(slack, CHANNEL))
    answer = await _press(server, slack, COORDINATOR, current)
    assert answer == t("en", "running.confirmed", count=1, round="2027-spring")
    assert "already confirmed" in await _press(server, slack, COORDINATOR, current)
    after = await _tandems(db)
    assert after[:2] == running  # the running tandems are untouched
    [(_, _, _, status, _, joined)] = after[2:]
    assert (status, joined) == ("active", 2)
    group = "G0LEOARIA"
    [intro] = _to(slack, group)
    assert "Meet your tandem partner" in _text(intro) and "Leo mentors, Maria learns" in _text(
        intro)
    assert t("en", "running.intro_guide") in _text(intro)
    assert len(_to(slack, CHANNEL)) == channel_posts  # no second announcement

    # The next day the new tandem gets its first nudge: meeting 1 of the 5 left.
    clock.set(NEXT_DAY)
    nudges_before = {g: len(_to(slack, g)) for g in ("GANNATRIN", "G0BENARAH")}
    await run_due(ctx)
    [_, nudge] = _to(slack, group)
    assert "Tandem: time for meeting 1" in _text(nudge)
    assert t("en", "nudge.body", month=1, total=5) in _text(nudge)
    checkin = next(e["value"] for b in _blocks(nudge) if b["type"] == "actions"
                   for e in b["elements"] if e["action_id"] == "checkin.met")
    assert checkin == f"{after[2][0]}:2"  # the round's second month
    assert {g: len(_to(slack, g)) for g in nudges_before} == nudges_before
    await run_due(ctx)
    assert len(_to(slack, group)) == 2
    clock.set(IN_THE_WEEK)
    await run_due(ctx)  # nobody waits any more
    assert len([c for c in _to(slack, "D0COORD01") if "waiting for a tandem" in c["text"]]) == 1


# -- Teams -------------------------------------------------------------------------------

TEAMS_CHANNEL = "19:programme-general@thread.tacv2"


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return dataclasses.replace(
        config, coordinators={**config.coordinators, "teams": (CLARA.key,)},
        channels={**config.channels, "teams": (TEAMS_CHANNEL,)})


async def _teams_sign_up(world: TeamsWorld, user: TeamsUser, **answers: str) -> None:
    await sign_up(world, user, **answers)
    await idle(world)


async def test_a_late_sign_up_is_matched_into_the_running_round_on_teams(
    world: TeamsWorld, clock: FixedClock, db: Database
) -> None:
    connector = world.connector
    await teams_first_tandem(world)
    running = await _tandems(db)
    assert len(running) == 1

    clock.set(LATE_SIGNUP)
    await _teams_sign_up(world, LENA, department="Marketing", topics="social_media",
                         languages="de,en")
    await _teams_sign_up(world, SARAH, role="mentee", department="Human Resources",
                         topics="social_media", languages="en")
    await _teams_sign_up(world, JAMAL, department="IT", topics="sustainability",
                         languages="en")
    # Jamal leaves before he is matched: he no longer waits.
    assert await world.driver.say(JAMAL, "leave") == 201
    leave = connector.calls[-1]
    assert leave.card is not None
    yes = next(a["data"] for a in leave.card["actions"]
               if a["data"].get("tandem_action") == "leave.confirm")
    assert await world.driver.submit(JAMAL, yes, leave.activity_id) == 201

    clock.set(IN_MONTH_TWO)
    before = len(connector.calls)
    await run_due(world.runtime.ctx)
    [notice] = [c for c in connector.calls[before:] if c.conversation_id == CLARA.chat]
    assert notice.all_text() == t("en", "running.waiting", count=2, round="2027-spring",
                                  cmd="")

    before = len(connector.calls)
    assert await world.driver.say(CLARA, "match") == 201
    assert connector.calls[before].all_text() == t("en", "match.working", count=2)
    await idle(world)
    proposal = connector.calls[-2]
    text = proposal.all_text()
    assert "Lena Weber → Sarah Miller" in text and "Mehmet" not in text and "Jamal" not in text
    # A forged value on the card is refused, and changes nothing.
    forged = {**confirm_data(proposal), "value": "12345678901"}
    assert await world.driver.submit(CLARA, forged, proposal.activity_id) == 201
    assert connector.calls[-1].all_text() == t("en", "error.stale_button")
    assert await _tandems(db) == running

    before = len(connector.calls)
    assert await world.driver.submit(CLARA, confirm_data(proposal), proposal.activity_id) == 201
    await idle(world)
    assert connector.calls[before].all_text() == t("en", "running.confirmed", count=1,
                                                   round="2027-spring")
    intros = {c.conversation_id: c.all_text() for c in connector.calls[before + 1:]
              if t("de", "mentors.guide.title") not in c.all_text()}  # Lena's guide
    assert set(intros) == {LENA.chat, SARAH.chat}  # privately, nothing in the channel
    assert t("de", "running.intro_guide") in intros[LENA.chat]
    assert t("en", "running.intro_guide") in intros[SARAH.chat]
    after = await _tandems(db)
    assert after[:1] == running and after[1][5] == 2

    clock.set(NEXT_DAY)
    before = len(connector.calls)
    await run_due(world.runtime.ctx)
    nudges = {c.conversation_id: c.all_text() for c in connector.calls[before:]}
    assert t("en", "nudge.body", month=1, total=5) in nudges[SARAH.chat]
    assert t("de", "nudge.body", month=1, total=5) in nudges[LENA.chat]
    assert MEHMET.chat not in nudges  # the running tandem had its nudge already

    async with db.session() as session:
        confirmed = list(await session.scalars(
            select(MatchProposal.number).where(MatchProposal.status == "confirmed")))
    assert len(confirmed) == 2
