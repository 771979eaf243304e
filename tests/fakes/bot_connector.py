"""A fake Bot Framework connector (the serviceUrl side of Teams) on 127.0.0.1.

Records every call the bot makes: conversations created, activities sent
(new or as a reply) and activities updated; answers like the real service.
``fail_next(status)`` makes the next calls fail with that HTTP status.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web


@dataclass
class Call:
    """One request the bot made: ``create``, ``send``, ``reply`` or ``update``."""

    kind: str
    conversation_id: str
    body: dict[str, Any]
    activity_id: str | None = None

    @property
    def card(self) -> dict[str, Any] | None:
        """The Adaptive Card content of the activity, if it carries one."""
        for attachment in self.body.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None

    def texts(self) -> list[str]:
        """Every piece of text in the card (TextRuns, TextBlocks, labels, choices)."""
        found: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for key in ("text", "title", "label", "errorMessage"):
                    if isinstance(node.get(key), str):
                        found.append(node[key])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(self.card or {})
        if isinstance(self.body.get("text"), str):
            found.append(self.body["text"])
        return found

    def all_text(self) -> str:
        return "\n".join(self.texts())


@dataclass
class FakeConnector:
    calls: list[Call] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    url: str = ""
    #: Files the bot uploaded to the "OneDrive" upload URL, by name.
    uploads: dict[str, bytes] = field(default_factory=dict)
    _runner: web.AppRunner | None = None

    def fail_next(self, status: int, times: int = 1) -> None:
        self.failures.extend([status] * times)

    def of_kind(self, *kinds: str) -> list[Call]:
        return [c for c in self.calls if c.kind in kinds]

    def messages(self, conversation_id: str | None = None) -> list[Call]:
        """Sends and replies (not updates), optionally in one conversation."""
        return [
            c for c in self.of_kind("send", "reply")
            if conversation_id is None or c.conversation_id == conversation_id
        ]

    def clear(self) -> None:
        self.calls.clear()

    def _failure(self) -> web.Response | None:
        if not self.failures:
            return None
        status = self.failures.pop(0)
        return web.json_response(
            {"error": {"code": "Failure", "message": f"injected {status}"}}, status=status
        )

    async def _create(self, request: web.Request) -> web.Response:
        failed = self._failure()
        if failed:
            return failed
        body = await request.json()
        conversation_id = f"a:personal-{next(self._ids)}"
        self.calls.append(Call("create", conversation_id, body))
        return web.json_response({"id": conversation_id}, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        failed = self._failure()
        if failed:
            return failed
        conversation_id = request.match_info["conversation_id"]
        reply_to = request.match_info.get("activity_id")
        body = await request.json()
        activity_id = f"activity-{next(self._ids)}"
        self.calls.append(
            Call("reply" if reply_to else "send", conversation_id, body, activity_id)
        )
        return web.json_response({"id": activity_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        failed = self._failure()
        if failed:
            return failed
        conversation_id = request.match_info["conversation_id"]
        activity_id = request.match_info["activity_id"]
        body = await request.json()
        self.calls.append(Call("update", conversation_id, body, activity_id))
        return web.json_response({"id": activity_id})

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["name"]] = await request.read()
        return web.json_response({"id": "drive-item"}, status=201)

    async def start(self) -> FakeConnector:
        app = web.Application()
        app.router.add_put("/upload/{name}", self._upload)
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation_id}/activities", self._send)
        app.router.add_post(
            "/v3/conversations/{conversation_id}/activities/{activity_id}", self._send
        )
        app.router.add_put(
            "/v3/conversations/{conversation_id}/activities/{activity_id}", self._update
        )
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


# -- driving the bot as Teams (or the Emulator) does -------------------------------------

TENANT = "tenant-contoso"
BOT_ID = "28:tandem-bot"


@dataclass(frozen=True)
class TeamsUser:
    """A person in Teams, with their personal chat with the bot."""

    key: str  # the Entra object id, which Tandem uses as the user id
    name: str
    locale: str = "en-US"
    timezone: str = "Europe/Berlin"
    tenant: str = TENANT

    @property
    def bf_id(self) -> str:
        return f"29:{self.key}"

    @property
    def chat(self) -> str:
        return f"a:chat-{self.key}"

    def account(self) -> dict[str, Any]:
        return {"id": self.bf_id, "name": self.name, "aadObjectId": self.key}


class TeamsDriver:
    """Posts activities to the bot's /api/messages like the Teams channel does."""

    def __init__(self, bot_url: str, connector: FakeConnector, session: Any) -> None:
        self.bot_url, self.connector, self.session = bot_url, connector, session
        self._ids = itertools.count(1)

    def activity(self, user: TeamsUser, **fields: Any) -> dict[str, Any]:
        activity: dict[str, Any] = {
            "type": "message",
            "id": f"in-{next(self._ids)}",
            "timestamp": "2026-12-01T09:00:00.000Z",
            "localTimezone": user.timezone,
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": user.account(),
            "conversation": {
                "id": user.chat, "conversationType": "personal", "tenantId": user.tenant,
            },
            "recipient": {"id": BOT_ID, "name": "Tandem"},
            "locale": user.locale,
            "channelData": {"tenant": {"id": user.tenant}},
        }
        activity.update(fields)
        return activity

    async def post(self, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        async with self.session.post(
            self.bot_url + "/api/messages", data=data,
            headers={"Content-Type": "application/json", **(headers or {})},
        ) as response:
            text = await response.text()
            try:
                payload = json.loads(text) if text else None
            except ValueError:
                payload = text
            return response.status, payload

    async def say(self, user: TeamsUser, text: str, **fields: Any) -> int:
        status, _ = await self.post(self.activity(user, text=text, **fields))
        return status

    async def submit(self, user: TeamsUser, data: dict[str, Any], card_id: str | None) -> int:
        """An Action.Submit on a card: a message with ``value`` and ``replyToId``."""
        fields: dict[str, Any] = {"value": data}
        if card_id:
            fields["replyToId"] = card_id
        status, _ = await self.post(self.activity(user, **fields))
        return status


@dataclass
class TeamsWorld:
    driver: TeamsDriver
    connector: FakeConnector
    runtime: Any


@asynccontextmanager
async def teams_world(
    db: Any, config: Any, clock: Any, app_id: str | None = None
) -> AsyncIterator[TeamsWorld]:
    """The real server (``bot.server``) with Teams mounted, on 127.0.0.1, and a fake
    connector for it to talk to."""
    from adapters.teams.settings import TeamsSettings
    from bot.core.settings import Settings
    from bot.host.runtime import Runtime
    from bot.platforms import start_adapters
    from bot.server import create_app

    connector = await FakeConnector().start()
    settings = Settings(platforms={"teams": TeamsSettings(app_id=app_id)})
    runtime = Runtime(settings, config, clock, db)
    start_adapters(runtime)
    runner = web.AppRunner(create_app(runtime))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            yield TeamsWorld(TeamsDriver(f"http://127.0.0.1:{port}", connector, session),
                             connector, runtime)
    finally:
        await runner.cleanup()
        await connector.stop()
