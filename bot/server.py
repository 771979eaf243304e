"""The one aiohttp server: health checks plus every configured platform adapter."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator

from aiohttp import web

import adapters
from bot.core import metrics
from bot.health import readiness
from bot.host.runtime import Runtime
from bot.limits import limit_body
from bot.middleware import observe

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024
BACKGROUND_GRACE_SECONDS = 30.0
RUNTIME = web.AppKey("runtime", Runtime)


def discover_adapters(runtime: Runtime) -> None:
    """Every ``adapters/<name>/adapter.py`` with a ``build(runtime)`` is a platform;
    ``build`` returns None when the platform is not configured."""
    for info in sorted(pkgutil.iter_modules(adapters.__path__), key=lambda m: m.name):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"adapters.{info.name}.adapter")
        except ModuleNotFoundError as missing:
            if missing.name == f"adapters.{info.name}.adapter":
                continue
            raise
        adapter = module.build(runtime)
        if adapter is not None:
            runtime.add(adapter)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    ready, body = await readiness(runtime.settings, runtime.db)
    return web.json_response(body, status=200 if ready else 503)


async def metrics_endpoint(_request: web.Request) -> web.Response:
    body, content_type = metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


def create_app(runtime: Runtime, *, scheduler: bool = False) -> web.Application:
    # observe first: refusals (413) get a request id and are counted too.
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[observe, limit_body])
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    for adapter in runtime.adapters:
        adapter.mount(app)

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        from bot.scheduler import RhythmScheduler

        for adapter in runtime.adapters:
            await adapter.start()
        rhythm = RhythmScheduler(runtime) if scheduler else None
        if rhythm is not None:
            rhythm.start()
        yield
        if rhythm is not None:
            await rhythm.stop()
        for adapter in runtime.adapters:
            await adapter.stop_receiving()
        # Confirmations and follow-ups of requests already answered still go out.
        if not await runtime.background.idle(BACKGROUND_GRACE_SECONDS):
            log.warning("shutdown: %d follow-ups were still running", len(runtime.background))
        for adapter in reversed(runtime.adapters):
            await adapter.stop()
        await runtime.db.close()

    app.cleanup_ctx.append(lifecycle)
    return app
