"""Start the real Tandem server on a loopback port for end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from bot.core.clock import Clock
from bot.core.config import AppConfig
from bot.core.settings import Settings
from bot.host.runtime import Runtime
from bot.server import create_app, discover_adapters
from storage.db import Database


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
    discover_adapters(runtime)
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
