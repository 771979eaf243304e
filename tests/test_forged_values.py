"""Forged button values and form contexts, on Slack and on Teams, over HTTP.

A button's value comes back through the person's chat client: anyone can edit
it. For every kind of button (and form context) the bot sends, values it never
sent are pressed by a real participant or coordinator: another tandem's, an
invented or future month, non-ASCII digits, a 30-digit number, negative
numbers, garbage. Each gets a kind refusal in the presser's language, changes
no row and sends nothing to anyone. A genuine press at the end shows the same
requests do change things when the value is real.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.core.i18n import t
from storage import coordination
from storage.db import Database
from storage.models import Base, Checkin
from tests.fakes.bot_connector import TENANT, TeamsUser, TeamsWorld
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.seed import seed_tandems
from tests.helpers.servers import Served
from tests.helpers.servers import post as slack_post
from tests.helpers.slack_requests import block_action, view_submission

COORDINATOR = "U0COORD01"
TEAMS_COORDINATOR = TeamsUser("aad-coord", "Clara Koch")
MENTOR = "UJ00000"  # the mentor of the first seeded tandem
#: In the round's second month: months 1 and 2 have begun, 3 to 6 have not.
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
#: Rows the bot writes on receipt of any request, whatever it then decides.
BOOKKEEPING = {"processed_events", "conversation_refs", "leases"}
HUGE = "9" * 30
REFUSALS = {t("en", key) for key in ("error.stale_button", "error.stale_form",
                                     "checkin.not_yours", "reflect.error.rating",
                                     "reflect.error.visibility", "evaluation.error.choose")}


@dataclasses.dataclass(frozen=True)
class State:
    round_id: int
    mine: int  # MENTOR's tandem
    other: int  # a tandem MENTOR is not in
    draft: int  # an announcement draft
    round_action: int  # a pending "round extend"


def forged_values(state: State) -> list[tuple[str, str, str]]:
    """(action id, value, who presses): every button kind with values never sent."""
    periods = [f"{state.other}:1", f"{state.mine}:99", f"{state.mine}:3", f"{state.mine}:0",
               f"{state.mine}:²", f"١:{state.mine}", f"{state.mine}:{HUGE}",
               f"{state.mine}:-1", f"{state.mine}:1:1", f"{state.mine}", "", "x"]
    numbers = ["²", "١٢", HUGE, "-1", "+1", " 1", "", "1e3"]
    rounds = [str(state.round_id + 1000), *numbers]
    cases = [(action, value, MENTOR)
             for action in ("checkin.met", "checkin.later", "checkin.help", "reflect.open")
             for value in periods]
    cases += [(action, value, MENTOR)
              for action in ("pulse.good", "pulse.meh", "pulse.help", "evaluation.open",
                             "continue.new", "continue.same", "continue.no")
              for value in rounds]
    # The current round is followed by none: nobody can answer "continue" for it.
    cases += [(f"continue.{c}", str(state.round_id), MENTOR) for c in ("new", "same", "no")]
    cases += [(action, value, COORDINATOR)
              for action in ("announce.post", "announce.edit", "announce.cancel")
              for value in (str(state.round_action), "999", *numbers)]
    cases += [(action, value, COORDINATOR)
              for action in ("round.confirm", "round.cancel")
              for value in (str(state.draft), "999", *numbers)]
    cases += [("match.confirm", value, COORDINATOR) for value in ("999", *numbers)]
    cases += [("no.such.button", "1", MENTOR)]
    return cases


def forged_forms(state: State) -> list[tuple[str, str, dict[str, Any], str]]:
    """(form id, context, fields, who submits) with contexts never sent."""
    reflection = {"learned": "x", "try_next": "y", "usefulness": "4", "visibility": "private"}
    evaluation = {"rating": "4", "valuable": "x", "recommend": "yes", "continue": "no"}
    announce = {"channel": "C0PROGRAM1", "text": "Hello", "signup_button": []}
    cases = [("reflection", context, reflection, MENTOR)
             for context in (f"{state.other}:1", f"{state.mine}:4", f"{state.mine}:²",
                             f"{state.mine}:{HUGE}", "")]
    cases += [("evaluation", context, evaluation, MENTOR)
              for context in (str(state.round_id + 1000), "²", HUGE, "-1", "")]
    cases += [("announce", context, announce, COORDINATOR)
              for context in ("²", HUGE, "-1", "x")]
    # The right context, fields the form never offered: each field's own error.
    mine = f"{state.mine}:2"
    for name, value in (("usefulness", "²"), ("usefulness", "١"), ("usefulness", "0"),
                        ("usefulness", HUGE), ("usefulness", "-1"), ("visibility", "public")):
        cases.append(("reflection", mine, {**reflection, name: value}, MENTOR))
    for name, value in (("rating", "²"), ("rating", HUGE), ("recommend", "maybe"),
                        ("continue", "forever")):
        cases.append(("evaluation", str(state.round_id), {**evaluation, name: value}, MENTOR))
    cases += [("no.such.form", "", {}, MENTOR)]
    return cases


async def seed(db: Database, config: AppConfig, platform: str, coordinator: str) -> State:
    workspace = "T1" if platform == "slack" else TENANT
    seeded = await seed_tandems(db, config, 2, platform=platform, workspace=workspace)
    async with db.session() as session:
        draft = await coordination.create_action(
            session, "announcement", platform, coordinator, seeded.round_id,
            {"channel": "C0PROGRAM1", "text": "Hello", "signup_button": False}, NOW)
        extend = await coordination.create_action(
            session, "round.extend", platform, coordinator, seeded.round_id,
            {"months": 1, "from": 6, "to": 7}, NOW)
    return State(seeded.round_id, seeded.tandems[0][0], seeded.tandems[1][0], draft.id,
                 extend.id)


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the flows own."""
    found = {}
    async with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name not in BOOKKEEPING:
                rows = await conn.execute(text(f"SELECT * FROM {table.name} ORDER BY 1"))
                found[table.name] = [tuple(row) for row in rows]
    return found


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return dataclasses.replace(
        config, coordinators={"slack": (COORDINATOR,), "teams": (TEAMS_COORDINATOR.key,)},
        channels={"slack": ("C0PROGRAM1",), "teams": ("19:channel@thread.tacv2",)})


@pytest.fixture(autouse=True)
def in_the_second_month(clock: FixedClock) -> None:
    clock.set(NOW)


# -- Slack -------------------------------------------------------------------------------

@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [FakeUser(COORDINATOR, "Clara"),
            *(FakeUser(f"{prefix}{i:05d}", f"{role} {i}")
              for i in range(2) for prefix, role in (("UJ", "Mentor"), ("US", "Mentee")))]


SENDING = ("chat.postMessage", "chat.postEphemeral", "chat.update", "views.open",
           "views.update", "conversations.open", "files.getUploadURLExternal")


def sent(slack: FakeSlack) -> list[str]:
    return [c.method for c in slack.calls if c.method in SENDING]


async def slack_press(served: Served, slack: FakeSlack, user: str, action: str, value: str
                      ) -> str:
    before = len(slack.of("response_url"))
    body = block_action(user, action, value, response_url=slack.response_url())
    status, _ = await slack_post(served, body)
    assert status == 200
    answer = (await slack.wait_for("response_url", before + 1))[-1]
    await served.runtime.background.idle(5)
    return str(answer["text"])


async def slack_submit(served: Served, user: str, form: str, context: str,
                       fields: dict[str, Any]) -> str:
    state = {name: ({"type": "multi_static_select",
                     "selected_options": [{"value": v} for v in value]}
                    if isinstance(value, list) else {"type": "plain_text_input", "value": value})
             for name, value in fields.items()}
    status, answer = await slack_post(
        served, view_submission(user, form, state, private_metadata=context))
    assert status == 200
    await served.runtime.background.idle(5)
    return json.dumps(answer, ensure_ascii=False)


async def test_forged_slack_values_are_refused_and_change_nothing(
    server: Served, slack: FakeSlack, db: Database, config: AppConfig,
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = await seed(db, config, "slack", COORDINATOR)
    before = await snapshot(db)
    await refuse_all(
        state, db, before, lambda: sent(slack),
        lambda user, action, value: slack_press(server, slack, user, action, value),
        lambda user, form, context, fields: slack_submit(server, user, form, context,
                                                         fields), caplog)
    # The same request with the value the bot did send does change things.
    met = await slack_press(server, slack, MENTOR, "checkin.met", f"{state.mine}:2")
    assert met == t("en", "checkin.met_thanks", month=2)
    assert await checkins(db) == [(state.mine, 2, "met")]


# -- Teams -------------------------------------------------------------------------------

def teams_user(user: str) -> TeamsUser:
    return TEAMS_COORDINATOR if user == COORDINATOR else TeamsUser(user, user)


async def teams_answer(world: TeamsWorld, user: str, data: dict[str, Any]) -> str:
    """Card data posted in the person's personal chat; the bot's answer there first."""
    person = teams_user(user)
    before = len(world.connector.calls)
    status, _ = await world.driver.post(world.driver.activity(person, value=data))
    assert status == 201
    await world.runtime.background.idle(5)
    answer = world.connector.calls[before]
    assert answer.kind == "reply" and answer.conversation_id == person.chat
    return answer.all_text()


def teams_sent(world: TeamsWorld) -> list[str]:
    return [c.kind for c in world.connector.calls]


async def test_forged_teams_values_are_refused_and_change_nothing(
    world: TeamsWorld, db: Database, config: AppConfig, caplog: pytest.LogCaptureFixture
) -> None:
    state = await seed(db, config, "teams", TEAMS_COORDINATOR.key)
    before = await snapshot(db)
    replies = len(world.connector.calls)

    async def press_once(user: str, action: str, value: str) -> str:
        return await teams_answer(world, user, {"tandem_action": action, "value": value})

    async def submit_once(user: str, form: str, context: str, fields: dict[str, Any]) -> str:
        data = {"tandem_form": form, "tandem_context": context,
                **{k: ",".join(v) if isinstance(v, list) else v for k, v in fields.items()}}
        return await teams_answer(world, user, data)

    async def one_answer(user: str, answer: Awaitable[str]) -> str:
        before = len(world.connector.calls)
        shown = await answer
        assert len(world.connector.calls) == before + 1, world.connector.calls[before:]
        return shown

    async def press(user: str, action: str, value: str) -> str:
        return await one_answer(user, press_once(user, action, value))

    async def submit(user: str, form: str, context: str, fields: dict[str, Any]) -> str:
        return await one_answer(user, submit_once(user, form, context, fields))

    def others() -> list[str]:
        # Every call since seeding is an answer in the presser's own chat.
        chats = {TEAMS_COORDINATOR.chat, teams_user(MENTOR).chat}
        return [c.kind for c in world.connector.calls[replies:]
                if c.kind != "reply" or c.conversation_id not in chats]

    await refuse_all(state, db, before, others, press, submit, caplog)
    await world.driver.post(world.driver.activity(
        teams_user(MENTOR), value={"tandem_action": "checkin.met", "value": f"{state.mine}:2"}))
    await world.runtime.background.idle(5)
    assert any(t("en", "checkin.met_thanks", month=2) in c.all_text()
               for c in world.connector.calls)
    assert await checkins(db) == [(state.mine, 2, "met")]


# -- shared ------------------------------------------------------------------------------

Press = Callable[[str, str, str], Awaitable[str]]
Submit = Callable[[str, str, str, dict[str, Any]], Awaitable[str]]


async def refuse_all(state: State, db: Database, before: dict[str, Any],
                     sent_now: Callable[[], list[str]], press: Press, submit: Submit,
                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.clear()
    caplog.set_level(logging.INFO)
    for action, value, user in forged_values(state):
        answer = await press(user, action, value)
        assert any(refusal in answer for refusal in REFUSALS), (action, value, answer)
    for form, context, fields, user in forged_forms(state):
        answer = await submit(user, form, context, fields)
        assert any(refusal in answer for refusal in REFUSALS), (form, context, answer)
    assert sent_now() == []
    assert await snapshot(db) == before
    # A line at info for each refusal, never a warning or a traceback.
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any("refused a value" in r.getMessage() for r in caplog.records)


async def checkins(db: Database) -> list[tuple[int, int, str]]:
    async with db.session() as session:
        rows = await session.execute(select(Checkin.tandem_id, Checkin.period, Checkin.answer))
        return [tuple(row) for row in rows]  # type: ignore[misc]
