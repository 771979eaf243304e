"""Request body limits, enforced before anything reads or parses a body.

A declared ``Content-Length`` over the route's limit is refused with 413 at
once, unread. A chunked body has no length up front, and a compressed one grows
as it is read: the route's limit becomes the request's ``client_max_size``, so
aiohttp stops reading with 413 as soon as the body grows past the limit, before
the handler parses a byte of it.

The limits leave ample room over what the platforms really send: Slack's
largest payloads are modal submissions (the whole view comes back, ours are
tens of KiB; Slack caps a view at 100 blocks), and Teams activities carry card
data and attachment links but no file contents.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

KIB = 1024
SLACK_MAX_BODY_BYTES = 256 * KIB
TEAMS_MAX_BODY_BYTES = 1024 * KIB
#: Every other route (health checks, metrics) takes no body worth the name.
DEFAULT_MAX_BODY_BYTES = 64 * KIB
LIMITS = {
    "/slack/events": SLACK_MAX_BODY_BYTES,
    "/api/messages": TEAMS_MAX_BODY_BYTES,
}


def limit_for(path: str) -> int:
    return LIMITS.get(path, DEFAULT_MAX_BODY_BYTES)


def too_large(limit: int) -> web.Response:
    return web.json_response({"error": "request body too large", "limit_bytes": limit},
                             status=413)


@web.middleware
async def limit_body(request: web.Request, handler: Handler) -> web.StreamResponse:
    limit = limit_for(request.path)
    declared = request.content_length
    if declared is not None and declared > limit:
        return too_large(limit)
    if limit != request.client_max_size:
        # Also with a declared length within the limit: a compressed body is
        # decompressed as it is read, and only client_max_size bounds what comes out.
        request = request.clone(client_max_size=limit)
    return await handler(request)
