"""Request body limits, enforced before anything reads or parses a body.

A declared ``Content-Length`` over the route's limit is refused with 413 at
once, unread. A chunked body has no length up front, and a compressed one grows
as it is read: the route's limit becomes the request's ``client_max_size``, so
aiohttp stops reading with 413 as soon as the body grows past the limit, before
the handler parses a byte of it.

Each platform declares its routes and their limits in its folder
(``Platform.routes`` in ``adapters/<name>/__init__.py``), with ample room over
what the platform really sends.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

KIB = 1024
#: Every other route (health checks, metrics) takes no body worth the name.
DEFAULT_MAX_BODY_BYTES = 64 * KIB


def too_large(limit: int) -> web.Response:
    return web.json_response({"error": "request body too large", "limit_bytes": limit},
                             status=413)


def body_limits(limits: Mapping[str, int]) -> Middleware:
    """The middleware enforcing ``limits`` (route path to bytes) and the default."""

    @web.middleware
    async def limit_body(request: web.Request, handler: Handler) -> web.StreamResponse:
        limit = limits.get(request.path, DEFAULT_MAX_BODY_BYTES)
        declared = request.content_length
        if declared is not None and declared > limit:
            return too_large(limit)
        if limit != request.client_max_size:
            # Also with a declared length within the limit: a compressed body is
            # decompressed as it is read, and only client_max_size bounds what comes out.
            request = request.clone(client_max_size=limit)
        return await handler(request)

    return limit_body
