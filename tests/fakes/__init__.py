"""Local stand-ins for what lies outside this machine: Slack's and Microsoft's servers."""

from __future__ import annotations

import ssl

from aiohttp import web


async def on_loopback(app: web.Application, context: ssl.SSLContext | None = None
                      ) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on 127.0.0.1 at a free port: its runner (to clean up) and the port."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
