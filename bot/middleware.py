"""Per-request bookkeeping: a request id for the logs, and the HTTP metrics.

The id comes from the caller's ``X-Request-Id`` when it is a plain token (a
proxy in front may have set it, so its logs and ours line up), otherwise it is
made here; either way it goes back in the response's ``X-Request-Id``.
"""

from __future__ import annotations

import re
import time
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.core import metrics
from bot.logs import request_id

HEADER = "X-Request-Id"
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def route_of(request: web.Request) -> str:
    """The route template, never the raw path: unknown paths must not explode the labels."""
    route = request.match_info.route
    resource = route.resource if route is not None else None
    return resource.canonical if resource is not None else "unmatched"


def _request_id(request: web.Request) -> str:
    given = request.headers.get(HEADER, "")
    return given if _ACCEPTED_ID.fullmatch(given) else uuid.uuid4().hex


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    rid = _request_id(request)
    token = request_id.set(rid)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers[HEADER] = rid
        return response
    except web.HTTPException as refusal:  # e.g. 413 from aiohttp's own body limit
        status = refusal.status
        refusal.headers[HEADER] = rid
        raise
    finally:
        metrics.request(route_of(request), status, time.perf_counter() - started)
        request_id.reset(token)
