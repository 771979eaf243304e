"""The coordinator's matching flow on Slack, end to end over HTTP."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from storage.db import Database
from storage.models import Tandem
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import (
    GOOD,
    block_action,
    sign,
    slash_command,
    survey_state,
    view_submission,
)

COORDINATOR = "U0COORD01"  # app.yaml's coordinator
CHANNEL = "C0PROGRAM1"


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [
        FakeUser(COORDINATOR, "Clara", locale="en-US"),
        FakeUser("U0LENA", "Lena <@U0CEO>", locale="de-DE"),
        FakeUser("U0JAMAL", "Jamal", locale="de-AT"),
        FakeUser("U0KATRIN", "Katrin", locale="de-DE"),
        FakeUser("U0SARAH", "Sarah", locale="en-US"),
    ]


async def sign_up(server: Served, user: str, **answers: object) -> None:
    body = view_submission(user, "survey", survey_state(**{**GOOD, "manager": None, **answers}))
    status, _ = await post(server, body)
    assert status == 200
    assert await server.runtime.background.idle(60)  # the confirmation DM follows the answer


async def test_matching_on_slack(server: Served, slack: FakeSlack, db: Database) -> None:
    await sign_up(server, "U0LENA", department="Marketing", topics=["ai_tools"],
                  languages=["de", "en"])
    await sign_up(server, "U0JAMAL", department="IT", topics=["sustainability"],
                  languages=["en"])
    await sign_up(server, "U0KATRIN", role="mentee", department="Finance",
                  topics=["sustainability"], languages=["de"], capacity="1")
    await sign_up(server, "U0SARAH", role="mentee", department="Sales",
                  topics=["ai_tools"], languages=["en"], capacity="1")
    signup_dms = len(slack.of("chat.postMessage"))

    status, body = await post(server, slash_command("U0LENA", "match"))
    assert status == 200 and "Koordinator" in body["text"]
    assert len(slack.of("chat.postMessage")) == signup_dms

    status, body = await post(server, slash_command(COORDINATOR, "match"))
    assert status == 200 and "Matching 4 people" in body["text"]
    dms = await slack.wait_for("chat.postMessage", signup_dms + 1)
    proposal = dms[-1]
    assert proposal["channel"] == COORDINATOR
    text = json.dumps(proposal["blocks"], ensure_ascii=False)
    # Jamal meets only in English and Katrin only in German: Lena must take Katrin,
    # so that nobody is left out, although Lena and Sarah share a topic.
    assert "Lena <@U0CEO> → Katrin" in text and "Jamal → Sarah" in text
    assert "&lt;@U0CEO&gt;" in proposal["text"]  # a name never becomes a mention
    [upload] = (await slack.wait_for("files.completeUploadExternal"))
    [content] = slack.uploads.values()
    assert content.decode("utf-8-sig").startswith("Pair,")
    assert upload["channel_id"] == "D0COORD01"  # the DM with the coordinator

    confirm = next(e for b in proposal["blocks"] if b["type"] == "actions"
                   for e in b["elements"] if e["action_id"] == "match.confirm")
    press = block_action(COORDINATOR, "match.confirm", confirm["value"],
                         response_url=slack.response_url())
    status, _ = await post(server, press)
    assert status == 200
    [answer] = await slack.wait_for("response_url")
    assert "Confirmed: 2 tandems" in answer["text"]
    # Two group introductions, each junior's guide on mentoring a senior, the announcement.
    posts = await slack.wait_for("chat.postMessage", signup_dms + 6)
    guides = [p for p in posts if "mentors.guide" in p.get("text", "")
              or "mentorierst" in json.dumps(p["blocks"], ensure_ascii=False)
              or "How to mentor" in json.dumps(p["blocks"], ensure_ascii=False)]
    assert sorted(p["channel"] for p in guides) == ["U0JAMAL", "U0LENA"]
    posts = [p for p in posts if p not in guides]
    groups = [set(g["users"].split(",")) for g in slack.of("conversations.open")[-2:]]
    assert groups == [{"U0LENA", "U0KATRIN"}, {"U0JAMAL", "U0SARAH"}]
    german, mixed = (json.dumps(p["blocks"], ensure_ascii=False) for p in posts[-3:-1])
    assert posts[-3]["channel"].startswith("G")
    assert "Lernt euch kennen" in german and "Meet your tandem" not in german
    # Jamal reads German, Sarah English: their shared chat has both.
    assert "Meet your tandem partner" in mixed and "Lernt euch kennen" in mixed
    announcement = posts[-1]
    assert announcement["channel"] == CHANNEL
    assert "2 Tandems" in json.dumps(announcement["blocks"], ensure_ascii=False)
    assert "Lena" not in json.dumps(announcement) and "Katrin" not in json.dumps(announcement)

    status, _ = await post(server, block_action(COORDINATOR, "match.confirm", confirm["value"],
                                                response_url=slack.response_url("2")))
    answers = await slack.wait_for("response_url", 2)
    assert "already confirmed" in answers[-1]["text"]
    async with db.session() as session:
        assert await session.scalar(select(func.count(Tandem.id))) == 2
    assert len(slack.of("chat.postMessage")) == signup_dms + 6  # nothing more the second time


async def test_non_coordinator_button_press_is_refused(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    body = block_action("U0LENA", "match.confirm", "1", response_url=slack.response_url())
    status, _ = await post(server, body, headers=sign(body))
    assert status == 200
    [answer] = await slack.wait_for("response_url")
    assert "Koordinator" in answer["text"]
    async with db.session() as session:
        assert await session.scalar(select(func.count(Tandem.id))) == 0
