"""Visible outcomes, by consent, on Slack and on Teams (both databases), German and
English: in the closing evaluation a person offers one sentence for the programme's
channel and says whether their name may be shown; each coordinator reviews it
privately (Approve / Skip); two weeks after the round the wrap-up's highlights go
to the channel: only approved ones, names only with consent, as plain text. Forged
and stale review buttons (another round, an old revision, twice, after the post)
change nothing; ``my-data`` exports a highlight and ``forget-me`` erases it."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.core.i18n import t
from conversations.highlights import HIGHLIGHT_MAX
from conversations.rhythm import run_due
from storage.db import Database
from storage.models import Highlight
from tests.fakes.bot_connector import Call, TeamsWorld
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.evaluation import (
    slack_evaluate,
    slack_open,
    slack_posts,
    teams_evaluate,
    teams_open,
)
from tests.helpers.meetings_teams import actions
from tests.helpers.meetings_teams import press as teams_press
from tests.helpers.privacy import everything, leaks
from tests.helpers.roundlife import (
    COORDINATOR,
    button_value,
    clara_anna_katrin,
    forget_me,
    my_data,
    press_button,
    slack_first_tandem,
    teams_first_tandem,
    text_of,
)
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import slash_command
from tests.helpers.teams import CHANNEL, CLARA, KATRIN, MEHMET, bot_added_to_team

PROGRAMME = "C0PROGRAM1"
#: The round (app.yaml) ends on 1 August 2027; its wrap-up is at 10:00 in Berlin.
WRAP_UP = datetime(2027, 8, 1, 9, 0, tzinfo=UTC)
#: The highlights go out two weeks later, at the same hour.
BEFORE_POST = datetime(2027, 8, 15, 7, 0, tzinfo=UTC)
POST = datetime(2027, 8, 15, 9, 0, tzinfo=UTC)
ANNA_SAYS = "Ich erkläre jetzt <!channel> *KI* ohne Angst <https://evil.example|hier>"
KATRIN_SAYS = "I learned more about TikTok in six hours than in six years"


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return clara_anna_katrin()


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return dataclasses.replace(
        config, coordinators={**config.coordinators, "teams": (CLARA.key,)},
        channels={**config.channels, "teams": (CHANNEL,)})


async def _stored(db: Database) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count(Highlight.id))) or 0


async def test_approved_highlights_are_posted_with_consent_on_slack(
    server: Served, slack: FakeSlack, clock: FixedClock, db: Database
) -> None:
    ctx = server.runtime.ctx
    await slack_first_tandem(server, slack)
    clock.set(WRAP_UP)
    await run_due(ctx)
    [invite] = slack_posts(slack, "D0ANNA", "evaluation.open")
    round_id = button_value(invite, "evaluation.open")

    # The form offers the highlight; the name is not shown unless the person says so.
    view = await slack_open(server, slack, "U0ANNA", round_id)
    [name_field] = [b for b in view["blocks"] if b.get("block_id") == "highlight_name"]
    assert name_field["element"]["initial_option"]["value"] == "no"
    assert t("de", "highlight.field") in json.dumps(view, ensure_ascii=False)

    # Too long: the form stays open with a kind message, nothing is stored or sent.
    reviews = len(slack_posts(slack, "D0COORD01"))
    answer = await slack_evaluate(server, "U0ANNA", round_id,
                                  highlight="x" * (HIGHLIGHT_MAX + 1), highlight_name="yes")
    assert answer["errors"] == {"highlight": t("de", "highlight.too_long", max=HIGHLIGHT_MAX,
                                               length=HIGHLIGHT_MAX + 1)}
    assert await _stored(db) == 0 and len(slack_posts(slack, "D0COORD01")) == reviews

    await slack_evaluate(server, "U0ANNA", round_id, highlight=ANNA_SAYS, highlight_name="yes")
    await slack_evaluate(server, "U0KATRIN", round_id, highlight=KATRIN_SAYS,
                         highlight_name="no")
    [anna_review] = slack_posts(slack, "D0COORD01", t("en", "highlight.review.named",
                                                      name="Anna"))
    [katrin_review] = slack_posts(slack, "D0COORD01", t("en", "highlight.review.anonymous"))
    assert "Katrin" not in text_of(katrin_review)  # she did not agree to be named
    assert "<!channel>" not in anna_review["text"] and "&lt;!channel&gt;" in anna_review["text"]
    anna, katrin = (button_value(r, "highlight.approve") for r in (anna_review, katrin_review))
    assert slack_posts(slack, PROGRAMME, t("de", "highlight.post.title", round="2027-spring")
                       ) == []  # nothing is posted before the coordinators decide

    # Forged and misplaced presses change nothing.
    assert await press_button(server, slack, "U0ANNA", "highlight.approve", anna) == t(
        "de", "error.not_allowed")
    _round, anna_id, _revision = anna.split(":")
    for forged in (f"999:{anna_id}:1", f"{round_id}:{anna_id}", f"{round_id}:99999:1", "²:1:1"):
        assert await press_button(server, slack, COORDINATOR, "highlight.approve", forged) == t(
            "en", "error.stale_button")
    # Anna edits hers: the old buttons are stale, the new review has its own.
    await slack_evaluate(server, "U0ANNA", round_id, highlight=f"{ANNA_SAYS}!",
                         highlight_name="yes")
    assert await press_button(server, slack, COORDINATOR, "highlight.approve", anna) == t(
        "en", "highlight.edited")
    [edited] = slack_posts(slack, "D0COORD01", f"{ANNA_SAYS}!")
    anna = button_value(edited, "highlight.approve")

    assert await press_button(server, slack, COORDINATOR, "highlight.approve", anna) == t(
        "en", "highlight.approved")
    assert await press_button(server, slack, COORDINATOR, "highlight.skip", anna) == t(
        "en", "highlight.already_decided")
    assert await press_button(server, slack, COORDINATOR, "highlight.skip", katrin) == t(
        "en", "highlight.skipped")

    clock.set(BEFORE_POST)
    await run_due(ctx)
    title = t("de", "highlight.post.title", round="2027-spring")
    assert slack_posts(slack, PROGRAMME, title) == []
    clock.set(POST)
    await run_due(ctx)
    await run_due(ctx)
    [posted] = slack_posts(slack, PROGRAMME, title)
    assert t("de", "highlight.quoted_named", text=f"{ANNA_SAYS}!", name="Anna") in text_of(posted)
    assert "<!channel>" not in posted["text"] and "&lt;!channel&gt;" in posted["text"]
    assert KATRIN_SAYS not in text_of(posted) and "Katrin" not in text_of(posted)

    # After the post: no decision any more, and the form offers no highlight.
    assert await press_button(server, slack, COORDINATOR, "highlight.approve", katrin) == t(
        "en", "highlight.too_late", round="2027-spring")
    view = await slack_open(server, slack, "U0KATRIN", round_id)
    assert "highlight" not in json.dumps(view)

    # The report counts at most; it never shows a highlight.
    status, body = await post(server, slash_command(COORDINATOR, "report"))
    assert status == 200 and KATRIN_SAYS not in json.dumps(body) and "KI" not in json.dumps(body)

    # my-data exports Anna's highlight; forget-me erases it.
    data, _ = await my_data(server, slack, "U0ANNA")
    assert [h["text"] for h in data["tables"]["highlights"]] == [f"{ANNA_SAYS}!"]
    assert leaks(await everything(db), ["ohne Angst"])
    await forget_me(server, slack, "U0ANNA")
    assert await _stored(db) == 1  # Katrin's (skipped) remains hers
    assert leaks(await everything(db), ["ohne Angst"]) == []  # nowhere, not even a delivery


def _review(world: TeamsWorld, marker: str) -> Call:
    [found] = [c for c in world.connector.messages(CLARA.chat)
               if actions(c, "highlight.approve") and marker in c.all_text()]
    return found


async def test_approved_highlights_are_posted_with_consent_on_teams(
    world: TeamsWorld, clock: FixedClock, db: Database
) -> None:
    ctx, connector = world.runtime.ctx, world.connector
    await bot_added_to_team(world, CLARA)
    await teams_first_tandem(world)
    clock.set(WRAP_UP)
    await run_due(ctx)

    form = await teams_open(world, MEHMET)
    assert form.card is not None
    [field] = [e for e in form.card["body"] if e.get("id") == "highlight"]
    assert field["maxLength"] == HIGHLIGHT_MAX
    thanks = await teams_evaluate(world, MEHMET, highlight=ANNA_SAYS, highlight_name="yes")
    assert t("de", "highlight.thanks") in thanks.all_text()
    await teams_evaluate(world, KATRIN, highlight=KATRIN_SAYS, highlight_name="no")
    named = _review(world, t("en", "highlight.review.named", name=MEHMET.name))
    anonymous = _review(world, t("en", "highlight.review.anonymous"))
    assert KATRIN.name not in anonymous.all_text()

    forged = {**actions(named, "highlight.approve")[0], "value": "1:²:1"}
    assert (await teams_press(world, CLARA, named, forged)).all_text() == t(
        "en", "error.stale_button")
    for review in (named, anonymous):
        answer = await teams_press(world, CLARA, review, actions(review, "highlight.approve")[0])
        assert answer.all_text() == t("en", "highlight.approved")
    again = await teams_press(world, CLARA, named, actions(named, "highlight.approve")[0])
    assert again.all_text() == t("en", "highlight.already_decided")

    clock.set(POST)
    await run_due(ctx)
    [posted] = [c for c in connector.messages(CHANNEL)
                if t("de", "highlight.post.title", round="2027-spring") in c.all_text()]
    text = posted.all_text()
    assert t("de", "highlight.quoted_named", text=ANNA_SAYS, name=MEHMET.name) in text
    assert t("de", "highlight.quoted", text=KATRIN_SAYS) in text and KATRIN.name not in text
    # Adaptive Cards get the text as a TextRun, which Teams never reads as Markdown.
    assert posted.card is not None
    runs = [i for e in posted.card["body"] if e["type"] == "RichTextBlock" for i in e["inlines"]]
    assert {"type": "TextRun", "text": t("de", "highlight.quoted_named", text=ANNA_SAYS,
                                         name=MEHMET.name)} in runs
    late = await teams_press(world, CLARA, anonymous, actions(anonymous, "highlight.skip")[0])
    assert late.all_text() == t("en", "highlight.too_late", round="2027-spring")
    assert await _stored(db) == 2
