"""Introduction lines end to end on Slack and on Teams (both databases), German and
English: each person writes one or two sentences about themselves in the survey
(juniors what they can teach, seniors what they would like to learn; at most
``INTRO_MAX`` characters), and the introduction shows each partner's line to the
other, as plain text: a mention, a link or formatting typed into it never becomes
one. A line that is too long keeps the form open and stores nothing."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import select

from bot.core.config import AppConfig
from bot.core.i18n import t
from conversations.survey import INTRO_MAX
from storage.db import Database
from storage.models import Participant
from tests.fakes.bot_connector import TeamsWorld
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.roundlife import (
    blocks,
    clara_anna_katrin,
    confirm_first_matching,
    slack_sign_up,
)
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import GOOD, survey_state, view_submission
from tests.helpers.teams import CLARA, KATRIN, MEHMET, confirm_data, idle, sign_up

COORDINATOR = "U0COORD01"
ANNA_LINE = "Ich zeige dir <!channel> TikTok & *KI* <https://evil.example|hier>"
KATRIN_LINE = "I'd like to learn how <@U0COORD01> uses AI & why _everyone_ posts"


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return clara_anna_katrin()


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return dataclasses.replace(config, coordinators={**config.coordinators,
                                                     "teams": (CLARA.key,)})


async def _intros(db: Database) -> dict[str, str | None]:
    async with db.session() as session:
        return {p.user_id: p.intro for p in await session.scalars(select(Participant))}


async def test_each_partner_reads_the_others_line_as_typed_on_slack(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    anna = {"department": "Marketing", "topics": ["ai_tools"], "languages": ["de", "en"]}
    too_long = "x" * (INTRO_MAX + 1)
    status, answer = await post(server, view_submission("U0ANNA", "survey", survey_state(
        **{**GOOD, "manager": None, **anna, "intro": too_long})))
    assert status == 200 and answer["response_action"] == "errors"
    assert answer["errors"] == {"intro": t("de", "survey.error.too_long", max=INTRO_MAX,
                                            length=INTRO_MAX + 1)}
    assert await _intros(db) == {}
    await slack_sign_up(server, "U0ANNA", **anna, intro=ANNA_LINE)
    await slack_sign_up(server, "U0KATRIN", role="mentee", department="Finance",
                        topics=["ai_tools"], languages=["de", "en"], capacity="1",
                        intro=KATRIN_LINE)
    assert await _intros(db) == {"U0ANNA": ANNA_LINE, "U0KATRIN": KATRIN_LINE}
    await confirm_first_matching(server, slack, COORDINATOR)

    [intro] = [c for c in slack.of("chat.postMessage") if c["channel"] == "GANNATRIN"
               and t("en", "intro.title") in json.dumps(blocks(c), ensure_ascii=False)]
    texts = [b["text"] for b in blocks(intro) if b["type"] == "section"]
    # In both languages (Anna reads German, Katrin English), each line as typed,
    # in plain text that Slack never reads as a mention, a link or formatting.
    for language in ("de", "en"):
        for role, name, line in (("mentor", "Anna", ANNA_LINE),
                                 ("mentee", "Katrin", KATRIN_LINE)):
            shown = t(language, f"intro.line.{role}", name=name, line=line)
            assert {"type": "plain_text", "text": shown, "emoji": True} in texts
    assert "<!channel>" not in intro["text"] and "&lt;!channel&gt;" in intro["text"]
    assert "<@U0COORD01>" not in intro["text"]


async def test_each_partner_reads_the_others_line_on_teams(
    world: TeamsWorld, db: Database
) -> None:
    connector = world.connector
    # The survey asks a new person about themselves; a senior editing it, what
    # they would like to learn.
    assert await world.driver.say(KATRIN, "signup") == 201
    form = connector.of_kind("reply")[-1]
    assert form.card is not None
    [field] = [e for e in form.card["body"] if e.get("id") == "intro"]
    assert field["label"] == t("de", "survey.intro_line.label.new")
    assert field["maxLength"] == INTRO_MAX and field["isMultiline"]
    await sign_up(world, KATRIN, role="mentee", department="Executive Board",
                  topics="ai_tools", languages="de", intro=KATRIN_LINE)
    await idle(world)
    assert await world.driver.say(KATRIN, "signup") == 201
    form = connector.of_kind("reply")[-1]
    assert form.card is not None
    [field] = [e for e in form.card["body"] if e.get("id") == "intro"]
    assert field["label"] == t("de", "survey.intro_line.label.mentee")
    assert field["value"] == KATRIN_LINE
    await sign_up(world, MEHMET, department="Sales", topics="ai_tools", languages="de",
                  intro=ANNA_LINE)
    await idle(world)

    assert await world.driver.say(CLARA, "match") == 201
    await idle(world)
    proposal = connector.calls[-2]
    before = len(connector.calls)
    assert await world.driver.submit(CLARA, confirm_data(proposal), proposal.activity_id) == 201
    await idle(world)
    told = {c.conversation_id: c for c in connector.calls[before:]
            if c.card is not None and t("de", "intro.title") in c.all_text()}
    for reader in (MEHMET, KATRIN):
        text = told[reader.chat].all_text()
        assert t("de", "intro.line.mentor", name=MEHMET.name, line=ANNA_LINE) in text
        assert t("de", "intro.line.mentee", name=KATRIN.name, line=KATRIN_LINE) in text
    # Adaptive Cards get the line as a TextRun, which Teams never reads as Markdown.
    runs = [i for e in told[KATRIN.chat].card["body"] if e["type"] == "RichTextBlock"
            for i in e["inlines"]]
    assert {"type": "TextRun", "text": t("de", "intro.line.mentor", name=MEHMET.name,
                                         line=ANNA_LINE)} in runs
