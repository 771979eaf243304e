"""The Slack platform: ``POST /slack/events`` for commands, interactivity and events.

Requests are checked in this order: signature and age over the raw bytes
(401), then decoding and the shape of every field bolt and the listeners read
(400, see ``shapes``), then handed to slack-bolt. With ``SLACK_APP_TOKEN`` set, Socket Mode is used
instead (for development behind a firewall); the HTTP route stays mounted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, cast

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import Clock as SignatureClock
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import ROUTE, payloads, shapes
from adapters.slack.coordinators import CoordinatorGroup
from adapters.slack.directory import Directory
from adapters.slack.listeners import register
from adapters.slack.messenger import SlackMessenger
from adapters.slack.settings import SlackSettings
from bot.host.runtime import Runtime
from storage import processed_events

log = logging.getLogger(__name__)


def make_client(token: str, base_url: str) -> AsyncWebClient:
    # slack_sdk only retries 429s (after Retry-After) and 5xx with these handlers added.
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


class SlackAdapter:
    platform = "slack"

    def __init__(self, runtime: Runtime, settings: SlackSettings) -> None:
        assert settings.bot_token
        self.settings = settings
        self.client = make_client(settings.bot_token, settings.api_url)
        directory = Directory(self.client)
        self.messenger = SlackMessenger(self.client, directory)
        # slack_sdk's clock, as its own SignatureVerifier would read it.
        self.signature_clock = SignatureClock()
        self.app = AsyncApp(
            client=self.client,
            # One workspace per installation: no OAuth flow, the client's bot token is it.
            signing_secret=settings.signing_secret,
            # ``handle`` checks every signature before bolt sees the request.
            request_verification_enabled=False,
            # The answer goes back when the listener returns. Bolt's default instead
            # runs the listener aside and polls for its ack every 10 ms, which adds
            # 10 ms to every answer and a wake-up per pending request.
            process_before_response=True,
            logger=logging.getLogger("slack_bolt"),
        )
        register(self.app, runtime, directory)
        self.runtime = runtime
        self._socket: object | None = None
        self.coordinator_group = CoordinatorGroup(self.client, runtime.config)

    def mount(self, app: web.Application) -> None:
        app.router.add_post(ROUTE, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not payloads.signed(self.settings.signing_secret or "", body,
                               request.headers.get("X-Slack-Request-Timestamp"),
                               request.headers.get("X-Slack-Signature"),
                               self.signature_clock.now()):
            return web.json_response({"error": "invalid signature"}, status=401)
        problem: str | None
        try:
            payload = payloads.parse(body, request.content_type)
        except ValueError as error:
            payload, problem = None, str(error)
        else:
            problem = shapes.problem(payload)
        if problem is not None:
            # Signed by Slack (or by someone holding the secret): worth a line.
            log.info("slack: refused a malformed request: %s", problem)
            return web.json_response({"error": "malformed request"}, status=400)
        headers = dict(request.headers)
        delivery = _delivery_id(payload, request.content_type)
        if delivery is not None and not await self._first_time(delivery):
            # Slack re-sent something already handled (X-Slack-Retry-Num): ack it,
            # act on it no more.
            log.info("slack: ignored a redelivery (retry %s)",
                     request.headers.get("X-Slack-Retry-Num", "?"))
            return web.Response(status=200)
        # Bolt gets the body parsed (it would decode it again, slowly). It takes a
        # parsed body only in its "socket_mode", which differs from "http" in two
        # things alone: no signature check (done above) and how lazy listeners copy
        # the request (none here).
        # Bolt only reads the headers; its parameter is a dict (invariant) of either form.
        bolt_headers = cast("dict[str, str | Sequence[str]]", headers)
        bolt_request = AsyncBoltRequest(body=payload, query=request.query_string,
                                        headers=bolt_headers, mode="socket_mode")
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def _first_time(self, delivery: str) -> bool:
        async with self.runtime.db.session() as session:
            return await processed_events.first_time(session, "slack", delivery,
                                                     self.runtime.clock.now())

    async def start(self) -> None:
        # One keep-alive connection pool for every Web API call: without a session of
        # its own, slack_sdk opens and closes a new connection (and session) per call.
        self.client.session = aiohttp.ClientSession()
        await self.coordinator_group.start()
        if self.settings.app_token:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(self.app, self.settings.app_token)
            await handler.connect_async()  # type: ignore[no-untyped-call]  # unannotated in slack_bolt
            self._socket = handler
            log.info("slack: connected in Socket Mode")

    async def stop_receiving(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[attr-defined]
            self._socket = None

    async def stop(self) -> None:
        await self.coordinator_group.stop()
        await self.stop_receiving()
        if self.client.session is not None:
            await self.client.session.close()


def _delivery_id(payload: dict[str, Any], content_type: str) -> str | None:
    """The event id of an Events API callback: what Slack redelivers with
    X-Slack-Retry-Num when it missed our ack. Slash commands and interactions are
    never redelivered by Slack, so they are answered without this extra write."""
    if content_type != "application/json":
        return None
    event_id = payload.get("event_id")
    return f"event:{event_id}" if isinstance(event_id, str) and event_id else None


def build(runtime: Runtime, settings: SlackSettings) -> SlackAdapter | None:
    if not settings.enabled:
        return None
    return SlackAdapter(runtime, settings)
