"""Meeting guides over a whole six-month round, on Slack and on Teams (both databases,
German and English): the first nudge carries the first-meeting guide, the last the
last-meeting guide, the months between guides for the tandem's shared topics, and no
tandem gets a guide twice. A guide in app.yaml replaces the built-in one of its id;
both partners nudged privately read the same guide; the reminder repeats the month's.
Many tandems nudged at once are decided a chunk at a time, each keeping its guide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import event, insert, select, update

from adapters.local.platform import LocalMessenger
from bot.core.clock import FixedClock
from bot.core.config import AppConfig, parse_config
from bot.core.errors import ConfigError
from conversations import rhythm
from conversations.context import FlowContext
from conversations.guides import Guide, library
from conversations.rhythm import run_due
from storage.db import Database
from storage.models import Participant, TandemGuide
from tests.fakes.bot_connector import TeamsWorld
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.roundlife import (
    confirm_first_matching,
    slack_sign_up,
    teams_first_tandem,
    text_of,
)
from tests.helpers.seed import seed_tandems
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import block_action
from tests.helpers.teams import CLARA, KATRIN, MEHMET

ROOT = Path(__file__).parents[1]
COORDINATOR = "U0COORD01"
#: Every Tuesday of the round at 12:00 UTC (the nudges go out on a Tuesday morning).
TUESDAYS = [datetime(2027, 2, 2, 12, tzinfo=UTC) + timedelta(weeks=n) for n in range(27)]
OWN_TITLE_EN = "Our house rules for AI, in one hour"
OWN_TITLE_DE = "Unsere KI-Hausregeln in einer Stunde"
NEW_TITLE_DE = "KI im Einkauf: ein Rundgang"


def _raw(**extra: Any) -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / "app.yaml").read_text(encoding="utf-8"))
    return {**raw, **extra}


OWN_GUIDES = [
    {"id": "ai_tools_1", "topic": "ai_tools", "title_de": OWN_TITLE_DE,
     "title_en": OWN_TITLE_EN, "text_de": "Lest die Hausregeln gemeinsam.",
     "text_en": "Read the house rules together."},
    {"id": "ai_purchasing", "topic": "ai_tools", "title_de": NEW_TITLE_DE,
     "title_en": "AI in purchasing: a tour", "text_de": "Zeigt euch zwei Werkzeuge.",
     "text_en": "Show each other two tools."},
]


def _which(found: tuple[Guide, ...], text: str, language: str) -> list[str]:
    return [g.id for g in found if g.title(language) in text]


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [FakeUser(COORDINATOR, "Clara", locale="en-US"),
            FakeUser("U0ANNA", "Anna", locale="de-DE"),
            FakeUser("U0KATRIN", "Katrin", locale="de-DE"),
            FakeUser("U0BEN", "Ben", locale="en-US"),
            FakeUser("U0SARAH", "Sarah", locale="en-US")]


async def test_each_nudge_has_a_guide_never_repeated_on_slack(
    server: Served, slack: FakeSlack, clock: FixedClock, db: Database, config: AppConfig
) -> None:
    ctx = server.runtime.ctx
    await slack_sign_up(server, "U0ANNA", department="Marketing", topics=["ai_tools", "agile"],
                        languages=["de"])
    await slack_sign_up(server, "U0BEN", department="IT", topics=["sustainability"],
                        languages=["en"])
    await slack_sign_up(server, "U0KATRIN", role="mentee", department="Finance",
                        topics=["ai_tools", "agile"], languages=["de"], capacity="1")
    await slack_sign_up(server, "U0SARAH", role="mentee", department="Sales",
                        topics=["sustainability", "genz"], languages=["en"], capacity="1")
    await confirm_first_matching(server, slack, COORDINATOR)
    for step in TUESDAYS:
        clock.set(step)
        await run_due(ctx)
        await run_due(ctx)  # a second run sends nothing twice

    found = library(config)
    nudges: dict[str, list[list[str]]] = {"GANNATRIN": [], "G0BENARAH": []}
    assert slack.channel_of("GANNATRIN") == "GANNATRIN"
    for call in slack.of("chat.postMessage"):
        channel = slack.channel_of(call["channel"])
        if channel in nudges and "checkin.met" in text_of(call):
            nudges[channel].append(_which(found, text_of(call),
                                          "de" if channel == "GANNATRIN" else "en"))
    assert [len(n) for n in nudges.values()] == [6, 6]
    for channel in nudges:
        ids = [one for [one] in nudges[channel]]  # exactly one guide in each nudge
        assert ids[0] == "first" and ids[-1] == "last"
        assert len(set(ids)) == 6  # never twice
    # Anna and Katrin share two topics: one a month, in turn.
    topics = [id_.rpartition("_")[0] for [id_] in nudges["GANNATRIN"][1:-1]]
    assert topics[0] != topics[1] and topics[0] == topics[2] and topics[1] == topics[3]
    # Ben and Sarah share one topic with three guides; the fourth month goes on to
    # Sarah's other wish.
    assert [one for [one] in nudges["G0BENARAH"][1:-1]] == [
        "sustainability_1", "sustainability_2", "sustainability_3", "genz_1"]
    async with db.session() as session:
        assert len(list(await session.scalars(select(TandemGuide)))) == 12


async def test_the_reminder_repeats_the_months_guide_in_english(
    server: Served, slack: FakeSlack, clock: FixedClock, config: AppConfig
) -> None:
    ctx = server.runtime.ctx
    await slack_sign_up(server, "U0BEN", department="IT", topics=["sustainability"],
                        languages=["en"])
    await slack_sign_up(server, "U0SARAH", role="mentee", department="Sales",
                        topics=["sustainability"], languages=["en"], capacity="1")
    await confirm_first_matching(server, slack, COORDINATOR)
    for step in TUESDAYS[:7]:
        clock.set(step)
        await run_due(ctx)
    [nudge] = [c for c in slack.of("chat.postMessage")
               if "Tandem: time for meeting 2" in text_of(c)]
    value = next(e["value"] for b in nudge["blocks"] if b["type"] == "actions"
                 for e in b["elements"] if e["action_id"] == "checkin.later")
    status, _ = await post(server, block_action("U0BEN", "checkin.later", value,
                                                response_url=slack.response_url()))
    assert status == 200
    await slack.wait_for("response_url", 1)
    for step in TUESDAYS[7:9]:
        clock.set(step)
        await run_due(ctx)
    [reminder] = [c for c in slack.of("chat.postMessage")
                  if "Reminder: meeting 2" in text_of(c)]
    found = library(config)
    assert _which(found, text_of(nudge), "en") == _which(found, text_of(reminder), "en") == [
        "sustainability_1"]


@pytest.fixture
def config() -> AppConfig:
    raw = _raw(guides=OWN_GUIDES)
    return parse_config("app.yaml", {**raw, "coordinators": {**raw["coordinators"],
                                                             "teams": [CLARA.key]}})


async def test_app_yaml_guides_replace_and_add_on_teams(
    world: TeamsWorld, clock: FixedClock, db: Database, config: AppConfig
) -> None:
    await teams_first_tandem(world)  # Mehmet and Katrin, both German, share ai_tools
    seen: dict[str, list[list[str]]] = {MEHMET.chat: [], KATRIN.chat: []}
    found = library(config)
    for step in TUESDAYS:
        clock.set(step)
        before = len(world.connector.calls)
        await run_due(world.runtime.ctx)
        for call in world.connector.calls[before:]:
            if call.conversation_id in seen and "Zeit für Treffen" in call.all_text():
                seen[call.conversation_id].append(_which(found, call.all_text(), "de"))
    assert seen[MEHMET.chat] == seen[KATRIN.chat]  # each privately, the same guide
    assert seen[MEHMET.chat] == [["first"], ["ai_tools_1"], ["ai_tools_2"], ["ai_tools_3"],
                                 ["ai_purchasing"], ["last"]]
    texts = " ".join(c.all_text() for c in world.connector.calls)
    assert OWN_TITLE_DE in texts and NEW_TITLE_DE in texts
    assert "Einen KI-Assistenten an einer echten Aufgabe" not in texts  # replaced


@pytest.mark.parametrize(("guide", "problem"), [
    ({"topic": "cooking"}, "'cooking' is not a topic of the survey"),
    ({"meeting": "first"}, "leave out topic"),
    ({"title_en": ""}, "title_en"),
])
def test_a_wrong_guide_in_app_yaml_is_refused(guide: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config("app.yaml", _raw(guides=[{**OWN_GUIDES[0], **guide}]))
    assert problem in str(error.value)


async def test_many_tandems_nudged_at_once_get_one_guide_each_shared_by_partners(
    db: Database, config: AppConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight tandems, each partner nudged privately at their own local time: the four
    Berlin tandems' partners at once, the New York juniors six hours after their
    seniors. Decided three occasions to a transaction, so partners fall in one chunk,
    in neighbouring ones, or in another run. Each person gets one nudge with one
    guide, the partner's; two tandems keep the guide they were given before."""
    monkeypatch.setattr(rhythm, "DECIDE_CHUNK", 3)
    seeded = await seed_tandems(db, config, 8, platform="local")
    ids = [tandem_id for tandem_id, _, _ in seeded.tandems]
    new_york = [junior for _, _, junior in seeded.tandems[4:]]
    given = {ids[1]: "general_1", ids[5]: "general_2"}
    async with db.session() as session:
        await session.execute(update(Participant).where(Participant.user_id.in_(new_york))
                              .values(timezone="America/New_York"))
        await session.execute(insert(TandemGuide), [
            {"tandem_id": tandem_id, "period": 1, "guide": guide,
             "created_at": datetime(2027, 2, 1, tzinfo=UTC)}
            for tandem_id, guide in given.items()])
    messenger = LocalMessenger()
    messenger.supports_group = False  # each partner privately, at their own time
    ctx = FlowContext(config, FixedClock(datetime(2027, 2, 1, tzinfo=UTC)), db,
                      {"local": messenger})
    written: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO DELIVERIES"):
            written.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        # 10:30 in Berlin: 4 tandems' partners and 4 seniors, 12 nudges in 4 chunks.
        await run_due(ctx, datetime(2027, 2, 9, 9, 31, tzinfo=UTC))
        assert len(written) == 4
        # 10:30 in New York: the 4 juniors; a second run sends nothing twice.
        await run_due(ctx, datetime(2027, 2, 9, 15, 31, tzinfo=UTC))
        await run_due(ctx, datetime(2027, 2, 9, 15, 40, tzinfo=UTC))
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)

    found = library(config)
    for tandem_id, senior, junior in seeded.tandems:
        [senior_guides], [junior_guides] = (
            [_which(found, seen.text(), "de") for seen in messenger.inbox[user]]
            for user in (senior, junior))
        assert senior_guides == junior_guides == [given.get(tandem_id, "first")]
    async with db.session() as session:
        rows = (await session.execute(select(TandemGuide.tandem_id, TandemGuide.guide))).all()
    assert sorted(rows) == sorted((tandem_id, given.get(tandem_id, "first"))
                                  for tandem_id in ids)
