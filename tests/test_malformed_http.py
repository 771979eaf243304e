"""Whatever arrives at the HTTP routes, the answer is never a 5xx and nothing is stored.

Property tests against the real server (one per test, reused by every example):
hypothesis generates bodies of arbitrary shapes, correctly signed for Slack and
with made-up bearer tokens (or none, in the Emulator mode) for Teams: wrong
types, missing and extra fields, real bodies with one field the bot reads
replaced by something else, deep nesting, bytes that are not UTF-8, huge
strings and numbers. Every answer is below 500; a refused request (4xx) leaves
every table empty; nothing is logged above info. The server runs on the test's
event loop; hypothesis drives it from a worker thread.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from storage.db import Database
from storage.models import Base
from tests.fakes.bot_connector import TeamsUser, TeamsWorld, teams_world
from tests.fakes.slack_api import FakeUser
from tests.helpers.servers import Served
from tests.helpers.slack_requests import (
    SIGNING_SECRET,
    block_action,
    slash_command,
    survey_state,
    view_submission,
)

EXAMPLES = 80
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
APP_ID = "00000000-0000-0000-0000-000000000001"
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))

# -- shapes ------------------------------------------------------------------------------

SLACK_KEYS = ["type", "user", "user_id", "team", "team_id", "enterprise", "channel", "actions",
              "action_id", "value", "view", "state", "values", "callback_id", "event",
              "private_metadata", "selected_options", "selected_option", "trigger_id", "id",
              "command", "text", "response_url", "response_urls", "authorizations",
              "message", "item", "event_id", "tab", "channel_type", "ssl_check", "challenge"]
TEAMS_KEYS = ["type", "id", "name", "serviceUrl", "conversation", "from", "recipient", "text",
              "value", "action", "data", "channelData", "tenant", "entities", "membersAdded",
              "locale", "localTimezone", "replyToId", "timestamp", "aadObjectId", "tandem_form",
              "tandem_action", "tandem_context", "uploadInfo", "context", "conversationType"]
HUGE_TEXT = "x" * 100_000
#: What an accepted Slack request may leave: its event id, and what any request from
#: a member creates (the workspace, app.yaml's round).
ACCEPTED = {"processed_events", "workspaces", "rounds"}


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep(depth: int) -> str:
    """A marker that ``to_json`` writes as ``depth`` nested arrays (too deep for the
    standard library to build or write as a value)."""
    return f"DEEP:{depth}"


def to_json(value: Any) -> str:
    return re.sub(r'"DEEP:(\d+)"', lambda m: deep_json(int(m.group(1))), json.dumps(value))


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(), st.integers(), st.integers(min_value=10**29),
        st.floats(allow_nan=False), st.text(max_size=30), st.sampled_from(
            ["", "²", "١٢", "U0ANNA", "T1", "/tandem", "signup", "block_actions",
             "view_submission", "event_callback", "message", "invoke", "personal",
             "adaptiveCard/action", "fileConsent/invoke", "http://127.0.0.1:1/", HUGE_TEXT]))


def shapes_of(keys: list[str]) -> st.SearchStrategy[Any]:
    """Any JSON value, with objects keyed mostly by the names the bot reads."""
    return st.recursive(
        scalars(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.sampled_from(keys) | st.text(max_size=8), inner, max_size=6)),
        max_leaves=20)


def wrong_values() -> st.SearchStrategy[Any]:
    """What replaces one field of a real body: anything but what belongs there."""
    return st.one_of(scalars(), st.just([]), st.just({}), st.just([{}]), st.just([5]),
                     st.just({"id": 5}), st.sampled_from([10, 900, 5000]).map(deep))


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a field in ``value``."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


_DELETE = object()


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``value`` with the field at ``path`` set to ``new`` (or removed)."""
    copy = json.loads(json.dumps(value))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    if new is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return copy


@st.composite
def mutated(draw: st.DrawFn, bodies: list[Any]) -> Any:
    """A real body with one field replaced, removed, or wrapped in deep nesting."""
    body = draw(st.sampled_from(bodies))
    path = draw(st.sampled_from(paths(body)))
    return replaced(body, path, draw(wrong_values() | st.just(_DELETE)))


# -- driving the server from hypothesis --------------------------------------------------

def in_thread(loop: asyncio.AbstractEventLoop
              ) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=60)
    return run


async def stored(db: Database) -> dict[str, int]:
    counts = {}
    async with db.session() as session:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = await session.scalar(select(func.count()).select_from(table))
    return {name: count for name, count in counts.items() if count}


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    loud = [f"{r.name}: {r.getMessage()[:200]}" for r in caplog.records
            if r.levelno >= logging.WARNING and "UNAUTHENTICATED" not in r.getMessage()]
    assert loud == []


# -- Slack -------------------------------------------------------------------------------

@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [FakeUser("U0ANNA", "Anna")]


def slack_bodies() -> list[Any]:
    """Real payloads of every kind the route takes, as JSON values."""
    def payload(form: str) -> Any:
        return json.loads(_form_field(form, "payload"))

    return [
        payload(block_action("U0ANNA", "checkin.met", "1:1")),
        payload(view_submission("U0ANNA", "survey", survey_state(role="mentor"))),
        {"type": "event_callback", "team_id": "T1", "event_id": "Ev1",
         "event": {"type": "message", "channel_type": "im", "user": "U0ANNA", "text": "help",
                   "channel": "D0ANNA", "team": "T1"}},
        {"type": "event_callback", "team_id": "T1", "event_id": "Ev2",
         "event": {"type": "app_home_opened", "tab": "home", "user": "U0ANNA"}},
    ]


def _form_field(form: str, name: str) -> str:
    return parse_qs(form)[name][0]


SLASH = {key: values[0] for key, values in parse_qs(slash_command("U0ANNA", "signup")).items()}


@st.composite
def slack_requests(draw: st.DrawFn) -> tuple[bytes, str]:
    """A signed body and its content type."""
    kind = draw(st.sampled_from(["json", "payload", "command", "bytes", "deep"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200)) + b"\xff\xfe", draw(st.sampled_from([FORM, JSON]))
    if kind == "deep":
        depth = draw(st.sampled_from([100, 1000, 100_000]))
        text = draw(st.sampled_from([
            deep_json(depth), '{"type": "block_actions", "actions": ' + deep_json(depth) + "}"]))
        if draw(st.booleans()):
            return urlencode({"payload": text}).encode(), FORM
        return text.encode(), JSON
    if kind == "command":
        fields = dict(SLASH)
        name = draw(st.sampled_from([*fields, "extra"]))
        if draw(st.booleans()):
            fields.pop(name, None)
        else:
            fields[name] = draw(st.text(max_size=20) | st.sampled_from(["²", HUGE_TEXT[:5000]]))
        return urlencode(fields).encode(), FORM
    value = draw(mutated(slack_bodies()) | shapes_of(SLACK_KEYS))
    text = to_json(value)
    if kind == "payload":
        return urlencode({"payload": text}).encode(), FORM
    return text.encode(), JSON


async def slack_post(served: Served, body: bytes, content_type: str) -> int:
    headers = {"Content-Type": content_type, **sign_bytes(body)}
    async with served.http.post(served.url + "/slack/events", data=body,
                                headers=headers) as response:
        await response.read()
        return response.status


def sign_bytes(body: bytes) -> dict[str, str]:
    """Slack's signature over raw bytes (``sign`` takes text)."""
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + body,
                      hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


async def test_no_signed_slack_body_gets_a_5xx_or_stores_a_refused_row(
    server: Served, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    run = in_thread(asyncio.get_running_loop())
    statuses: list[int] = []

    @PROPERTY
    @given(slack_requests())
    def check(request: tuple[bytes, str]) -> None:
        body, content_type = request
        status = run(slack_post(server, body, content_type))
        statuses.append(status)
        assert run(server.runtime.background.idle(60))
        rows = run(stored(db))
        run(clear(db))
        assert status < 500, (status, body[:300])
        if status >= 400:
            assert rows == {}, (status, body[:300], rows)
        else:
            # Accepted as Slack sends it (from a member, a real command or event):
            # an event's id, the workspace and app.yaml's round, nothing from the body.
            assert set(rows) <= ACCEPTED, (body[:300], rows)

    caplog.set_level(logging.INFO)
    await asyncio.to_thread(check)
    assert 400 in statuses  # the property saw refusals, not only accepted bodies
    no_errors_logged(caplog)


async def test_the_known_slack_500s_are_400s(server: Served, db: Database) -> None:
    """The bodies that got a 500 before, each correctly signed."""
    interaction = json.loads(_form_field(block_action("U0ANNA", "x", "1"), "payload"))
    view = json.loads(_form_field(view_submission("U0ANNA", "survey", survey_state()),
                                  "payload"))
    broken = [
        {**interaction, "actions": []}, {**interaction, "actions": "x"},
        {**interaction, "actions": [5]}, {**interaction, "actions": [{"action_id": 5}]},
        {**view, "view": None}, {**interaction, "user": "U1"},
        {**view, "view": {**view["view"], "state": {"values": [1]}}},
        {**view, "view": {**view["view"], "state": {"values": {"b": {"a": {
            "type": "checkboxes", "selected_options": [{}]}}}}}},
        {"type": "event_callback", "event": None},
        {**interaction, "actions": deep(20_000)}, {**view, "view": deep(1000)},
    ]
    for payload in broken:
        body = urlencode({"payload": to_json(payload)}).encode()
        assert await slack_post(server, body, FORM) == 400, payload
    assert await slack_post(server, deep_json(100_000).encode(), JSON) == 400
    assert await slack_post(server, b"payload=%FF%FE", FORM) == 400
    assert await slack_post(server, b"command=/tandem&user_id=\xff", FORM) == 400
    assert await stored(db) == {}
    # A slash command without a trigger id cannot open the survey: its button instead.
    fields = {k: v for k, v in SLASH.items() if k != "trigger_id"}
    assert await slack_post(server, urlencode(fields).encode(), FORM) == 200


# -- Teams -------------------------------------------------------------------------------

ANNA = TeamsUser("aad-anna", "Anna")


def made_up_token(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"Bearer {part({'alg': 'RS256', 'kid': 'made-up', 'typ': 'JWT'})}." \
           f"{part(claims)}.c2lnbmF0dXJl"


def teams_bodies(world: TeamsWorld) -> list[Any]:
    driver = world.driver
    return [
        driver.activity(ANNA, text="help"),
        driver.activity(ANNA, value={"tandem_action": "checkin.met", "value": "1:1"}),
        driver.activity(ANNA, type="invoke", name="adaptiveCard/action",
                        value={"action": {"type": "Action.Execute",
                                          "data": {"tandem_form": "survey"}}}),
        driver.activity(ANNA, type="invoke", name="fileConsent/invoke",
                        value={"action": "accept", "context": {"tandem_file": "x"},
                               "uploadInfo": {"uploadUrl": "http://127.0.0.1:1/"}}),
        driver.activity(ANNA, type="conversationUpdate",
                        membersAdded=[{"id": "28:tandem-bot"}]),
    ]


@st.composite
def teams_requests(draw: st.DrawFn, bodies: list[Any]) -> bytes:
    kind = draw(st.sampled_from(["json", "mutated", "bytes", "deep"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200)) + b"\xff\xfe"
    if kind == "deep":
        depth = draw(st.sampled_from([100, 1000, 100_000]))
        return to_json({**bodies[0], "value": deep(depth)}).encode()
    value = draw(mutated(bodies)) if kind == "mutated" else draw(shapes_of(TEAMS_KEYS))
    return to_json(value).encode()


async def teams_post(world: TeamsWorld, body: bytes, token: str | None) -> int:
    headers = {"Authorization": token} if token else {}
    status, _ = await world.driver.post(body, headers)
    return status


@pytest.mark.parametrize("app_id", [APP_ID, None], ids=["authenticated", "emulator"])
async def test_no_teams_activity_gets_a_5xx_or_stores_a_refused_row(
    db: Database, config: AppConfig, clock: FixedClock, app_id: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with teams_world(db, config, clock, app_id=app_id) as world:
        run = in_thread(asyncio.get_running_loop())
        bodies = teams_bodies(world)
        statuses: list[int] = []

        @PROPERTY
        @given(teams_requests(bodies), st.sampled_from([
            made_up_token({"iss": "https://api.botframework.com", "aud": APP_ID}),
            made_up_token({}), "Bearer a.b.c"]))
        def check(body: bytes, token: str) -> None:
            status = run(teams_post(world, body, token if app_id else None))
            statuses.append(status)
            assert run(world.runtime.background.idle(60))
            rows = run(stored(db))
            run(clear(db))
            assert status < 500, (status, body[:300])
            if app_id is not None or status >= 400:
                # Nothing authenticated, or refused: nothing stored.
                assert status >= 400 and rows == {}, (status, body[:300], rows)

        await asyncio.to_thread(check)
        assert 400 in statuses
    no_errors_logged(caplog)


async def clear(db: Database) -> None:
    async with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())


async def test_a_made_up_token_with_a_deep_body_is_a_4xx_logged_at_info(
    db: Database, config: AppConfig, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with teams_world(db, config, clock, app_id=APP_ID) as world:
        for depth in (100, 1000, 100_000):
            body = deep_json(depth).encode()
            for token in (made_up_token({}), "Bearer a.b.c"):
                assert 400 <= await teams_post(world, body, token) < 500
    no_errors_logged(caplog)
