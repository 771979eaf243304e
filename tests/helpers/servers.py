"""Start the real Tandem server on a loopback port for end-to-end tests, and post
signed Slack requests to it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from adapters.slack.settings import SlackSettings
from bot.core.clock import Clock
from bot.core.config import AppConfig
from bot.core.settings import Settings
from bot.host.runtime import Runtime
from bot.platforms import start_adapters
from bot.server import create_app
from storage.db import Database
from tests.fakes.slack_api import FakeSlack
from tests.helpers.slack_requests import SIGNING_SECRET, sign


@dataclass
class Served:
    runtime: Runtime
    url: str
    http: aiohttp.ClientSession


@asynccontextmanager
async def serve(
    settings: Settings, config: AppConfig, clock: Clock, db: Database
) -> AsyncIterator[Served]:
    runtime = Runtime(settings, config, clock, db)
    start_adapters(runtime)
    app = create_app(runtime)
    # The test owns the database; the app must not close it on shutdown.
    app.cleanup_ctx.clear()
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    for adapter in runtime.adapters:
        await adapter.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Served(runtime, f"http://127.0.0.1:{port}", http)
    finally:
        await runtime.background.idle(10)  # follow-ups of the test's last requests
        for adapter in runtime.adapters:
            await adapter.stop()
        await runner.cleanup()



#: Shaped like a real bot token, so a test can tell whether it leaks into logs.
BOT_TOKEN = "xoxb-1111-2222-secrettokenvalue"


def slack_settings(slack: FakeSlack) -> Settings:
    """A Slack installation whose Web API is the fake ``slack``."""
    return Settings(platforms={"slack": SlackSettings(
        bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=slack.base_url + "api/")})


FORM = "application/x-www-form-urlencoded"


async def post(served: Served, body: str, *, headers: dict[str, str] | None = None,
               content_type: str = FORM) -> tuple[int, Any]:
    all_headers = {"Content-Type": content_type, **(headers if headers is not None else sign(body))}
    async with served.http.post(served.url + "/slack/events", data=body,
                                headers=all_headers) as response:
        text = await response.text()
        try:
            return response.status, json.loads(text) if text else None
        except ValueError:
            return response.status, text
