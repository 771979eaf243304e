"""The one aiohttp server: health checks plus every configured platform adapter.

The adapters are built by ``bot.platforms.start_adapters``; each mounts its own
routes, and each route gets the body limit its platform declares.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.core import metrics
from bot.core.i18n import t
from bot.health import readiness
from bot.host.runtime import Runtime
from bot.limits import body_limits
from bot.middleware import observe
from bot.platforms import discover
from bot.startup import startup_line

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024
BACKGROUND_GRACE_SECONDS = 30.0
RUNTIME = web.AppKey("runtime", Runtime)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    ready, body = await readiness(runtime.settings, runtime.db)
    if ready:
        body["installations"] = await installation_counts(runtime)
    return web.json_response(body, status=200 if ready else 503)


async def installation_counts(runtime: Runtime) -> dict[str, int]:
    """Per platform with installations of its own (Slack in OAuth mode), how many:
    counted, not required (the first install needs a running server)."""
    counts = {}
    for adapter in runtime.adapters:
        count = getattr(adapter, "installation_count", None)
        found = await count() if count is not None else None
        if found is not None:
            counts[adapter.platform] = found
    return counts


async def metrics_endpoint(_request: web.Request) -> web.Response:
    body, content_type = metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


def create_app(runtime: Runtime, *, scheduler: bool = False, language: str = "en"
               ) -> web.Application:
    """The server; ``language`` is the operator's, for its start and stop lines."""
    # observe first: refusals (413) get a request id and are counted too.
    limits = {route: limit for p in discover() for route, limit in p.routes.items()}
    app = web.Application(client_max_size=MAX_BODY_BYTES,
                          middlewares=[observe, body_limits(limits)])
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
            await rhythm.keep_lease()  # so that the startup line can say leader or follower
        log.info(startup_line(runtime.settings, rhythm.leader if rhythm is not None else None,
                              language))
        yield
        log.info(t(language, "cli.serve.stopping"))
        if rhythm is not None:
            await rhythm.stop()
        for adapter in runtime.adapters:
            await adapter.stop_receiving()
        # Confirmations and follow-ups of requests already answered still go out.
        if not await runtime.background.idle(BACKGROUND_GRACE_SECONDS):
            log.warning(t(language, "cli.serve.still_running", count=len(runtime.background)))
        for adapter in reversed(runtime.adapters):
            await adapter.stop()
        await runtime.db.close()
        log.info(t(language, "cli.serve.stopped"))

    app.cleanup_ctx.append(lifecycle)
    return app
