"""/readyz, /metrics and the JSON logs, through the real server and the fake Slack API."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from adapters.slack.settings import SlackSettings
from bot import logs
from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.core.settings import Settings
from conversations import outbox
from conversations.messages import Message
from storage.db import Database
from storage.deliveries import Claim
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.servers import BOT_TOKEN, FORM, Served, serve, slack_settings
from tests.helpers.slack_requests import SIGNING_SECRET, sign, slash_command


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [
        FakeUser("U0ANNA", "Anna", locale="en-US"),
    ]


async def readyz(served: Served) -> tuple[int, dict]:
    async with served.http.get(served.url + "/readyz") as response:
        return response.status, await response.json()


async def metric(served: Served, name: str, **labels: str) -> float:
    """A sample's value as ``/metrics`` shows it (0 when the series does not exist yet)."""
    async with served.http.get(served.url + "/metrics") as response:
        assert response.status == 200
        text = await response.text()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


async def slash(served: Served, text: str) -> tuple[int, str]:
    body = slash_command("U0ANNA", text)
    async with served.http.post(served.url + "/slack/events", data=body,
                                headers={"Content-Type": FORM, **sign(body)}) as response:
        await response.read()
        return response.status, response.headers.get("X-Request-Id", "")


async def test_readyz_reports_every_check_when_ready(server: Served) -> None:
    status, body = await readyz(server)
    assert status == 200 and body["status"] == "ready"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True, "schema": True, "platforms": True}
    assert "Slack" in body["checks"]["platforms"]["detail"]


async def test_readyz_names_the_missing_platform_credentials(
    config: AppConfig, clock: FixedClock, db: Database
) -> None:
    half = Settings(platforms={"slack": SlackSettings(bot_token="xoxb-no-secret")})
    async with serve(half, config, clock, db) as served:
        status, body = await readyz(served)
    assert status == 503 and body["status"] == "not ready"
    platforms = body["checks"]["platforms"]
    assert not platforms["ok"]
    assert "SLACK_SIGNING_SECRET" in platforms["detail"]
    assert "MICROSOFT_APP_ID" in platforms["detail"]
    assert body["checks"]["database"]["ok"]


class Proxy:
    """A loopback TCP proxy in front of PostgreSQL that can be cut and restored,
    so the database "goes away" for the app without touching the shared server."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.cut_off = False
        self.pipes: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_off:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(source, sink))
            self.pipes.add(task)
            task.add_done_callback(self.pipes.discard)

    @staticmethod
    async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            sink.close()

    async def cut(self) -> None:
        self.cut_off = True
        for task in list(self.pipes):
            task.cancel()
        await asyncio.gather(*self.pipes, return_exceptions=True)

    def restore(self) -> None:
        self.cut_off = False

    async def stop(self) -> None:
        await self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def test_readyz_turns_503_while_the_database_is_away_and_recovers_without_restart(
    slack: FakeSlack, config: AppConfig, clock: FixedClock, db: Database, tmp_path: Path
) -> None:
    outage: Callable[[], object]
    recovery: Callable[[], object]
    if db.dialect == "postgresql":
        url = make_url(db.url)
        proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
        await proxy.start()
        app_db = Database(url.set(host="127.0.0.1", port=proxy.port)
                          .render_as_string(hide_password=False))
        outage, recovery = proxy.cut, proxy.restore
    else:
        path = tmp_path / "ready.db"
        app_db = Database(f"sqlite+aiosqlite:///{path}")
        await app_db.migrate()
        away = tmp_path / "moved-away.db"
        outage, recovery = (lambda: path.rename(away)), (lambda: away.rename(path))
    try:
        async with serve(slack_settings(slack), config, clock, app_db) as served:
            assert (await readyz(served))[0] == 200
            done = outage()
            if asyncio.iscoroutine(done):
                await done
            status, body = await readyz(served)
            assert status == 503 and body["status"] == "not ready"
            assert not body["checks"]["database"]["ok"]
            assert body["checks"]["platforms"]["ok"]
            # The process itself is fine: only readiness changes.
            async with served.http.get(served.url + "/healthz") as health:
                assert health.status == 200
            recovery()
            status, body = await readyz(served)
            assert status == 200, body
    finally:
        await app_db.close()
        if db.dialect == "postgresql":
            await proxy.stop()


async def test_metrics_count_a_slash_command_by_route_and_outcome(server: Served) -> None:
    labels = {"route": "/slack/events", "outcome": "2xx"}
    before = await metric(server, "tandem_http_requests_total", **labels)
    seen_before = await metric(server, "tandem_http_ack_seconds_count", route="/slack/events")
    status, _ = await slash(server, "help")
    assert status == 200
    assert await metric(server, "tandem_http_requests_total", **labels) == before + 1
    assert await metric(server, "tandem_http_ack_seconds_count",
                        route="/slack/events") == seen_before + 1

    refused = {"route": "/slack/events", "outcome": "4xx"}
    refused_before = await metric(server, "tandem_http_requests_total", **refused)
    async with server.http.post(server.url + "/slack/events", data="x=1",
                                headers={"Content-Type": FORM}) as response:
        assert response.status == 401
    assert await metric(server, "tandem_http_requests_total", **refused) == refused_before + 1
    # Unknown paths share one label instead of one series per path.
    async with server.http.get(server.url + "/no/such/path/123") as response:
        assert response.status == 404
    assert await metric(server, "tandem_http_requests_total", route="unmatched",
                        outcome="4xx") >= 1


async def test_metrics_count_deliveries_by_kind_and_outcome(
    server: Served, slack: FakeSlack
) -> None:
    ctx = server.runtime.ctx
    kind = "observability-test"

    async def count(outcome: str) -> float:
        return await metric(server, "tandem_deliveries_total", kind=kind, outcome=outcome)

    sent, already, gone = await count("sent"), await count("already"), await count("unreachable")
    unreachable = await metric(server, "tandem_unreachable_recipients_total", kind=kind)
    claim = Claim("observability:1", kind, "slack", "U0ANNA")
    assert await outbox.direct(ctx, claim, "U0ANNA", Message.text("hello")) == outbox.Sent.SENT
    assert await outbox.direct(ctx, claim, "U0ANNA", Message.text("hello")
                               ) == outbox.Sent.ALREADY
    slack.fail_for["U0GONE"] = "user_not_found"
    lost = Claim("observability:2", kind, "slack", "U0GONE")
    assert await outbox.direct(ctx, lost, "U0GONE", Message.text("hello")
                               ) == outbox.Sent.UNREACHABLE
    assert (await count("sent"), await count("already"), await count("unreachable")) == (
        sent + 1, already + 1, gone + 1)
    assert await metric(server, "tandem_unreachable_recipients_total",
                        kind=kind) == unreachable + 1


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The root logger also writes JSON lines, redacting the test's secrets, to a buffer."""
    buffer = io.StringIO()
    handler = logs.handler("json", [BOT_TOKEN, SIGNING_SECRET], stream=buffer)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_json_log_lines_carry_the_request_id_and_no_token(
    server: Served, json_log: io.StringIO
) -> None:
    status, request_id = await slash(server, "status")
    assert status == 200 and len(request_id) >= 8
    # A careless line, as a bug might write it, inside the request's context:
    token = logs.request_id.set(request_id)
    logging.getLogger("tandem.test").warning(
        "calling Slack with %s, Authorization: Bearer abc.def.ghi, secret %s",
        BOT_TOKEN, SIGNING_SECRET)
    logs.request_id.reset(token)
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert lines, "the request logged nothing"
    assert all({"time", "level", "logger", "message", "request_id"} <= line.keys()
               for line in lines)
    mine = [line for line in lines if line["request_id"] == request_id]
    assert any(line["logger"].startswith("slack_bolt") for line in mine)
    text = json_log.getvalue()
    assert BOT_TOKEN not in text and SIGNING_SECRET not in text
    assert "xoxb-" not in text and "abc.def.ghi" not in text
    assert "[redacted]" in text


async def test_a_request_id_given_by_a_proxy_is_kept(server: Served) -> None:
    async with server.http.get(server.url + "/healthz",
                               headers={"X-Request-Id": "edge-4f2a9c1b"}) as response:
        assert response.headers["X-Request-Id"] == "edge-4f2a9c1b"
    async with server.http.get(server.url + "/healthz",
                               headers={"X-Request-Id": "bad id\twith spaces"}) as response:
        assert response.headers["X-Request-Id"] != "bad id\twith spaces"


def test_redactor_blanks_slack_tokens_bearer_tokens_and_configured_secrets() -> None:
    redact = logs.Redactor(["s3cret-signing", None, "abc"])
    text = redact("xoxb-1-2-abc xoxp-9 xapp-1-A-2 Bearer eyJ.x.y s3cret-signing abc")
    assert "xox" not in text and "xapp" not in text and "eyJ" not in text
    assert "s3cret-signing" not in text
    assert text.endswith(" abc")  # too short to be a secret: blanking it would eat words
