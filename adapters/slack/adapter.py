"""The Slack platform: ``POST /slack/events`` for commands, interactivity and events.

Requests are checked in this order: signature and age over the raw bytes
(401), then decoding and the shape of every field bolt and the listeners read
(400, see ``shapes``), then whether they come from the programme's organisation
(app.yaml's ``organisation.slack``: anything else is answered politely and not
stored), then handed to slack-bolt. With ``SLACK_APP_TOKEN`` set, Socket Mode is used
instead (for development behind a firewall); the HTTP route stays mounted.

In OAuth mode (``SLACK_MODE=oauth``) there is no bot token in the environment:
``/slack/install`` and ``/slack/oauth_redirect`` run bolt's OAuth flow, the
installations live in the database (``installation_store``), bolt finds the
right one for every request, and ``clients`` the right one for every message the
bot sends on its own.
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

from adapters.slack import INSTALL_ROUTE, REDIRECT_ROUTE, ROUTE, payloads, shapes
from adapters.slack.clients import Clients, Installations, OneWorkspace
from adapters.slack.coordinators import CoordinatorGroup
from adapters.slack.directory import Directory
from adapters.slack.listeners import register
from adapters.slack.messenger import SlackMessenger
from adapters.slack.oauth import payload_belongs
from adapters.slack.settings import SlackSettings
from bot.core.i18n import t
from bot.host.runtime import Runtime
from storage import processed_events

log = logging.getLogger(__name__)


def make_client(token: str | None, base_url: str) -> AsyncWebClient:
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
        self.settings = settings
        self.runtime = runtime
        #: app.yaml's organisation: requests from anywhere else are refused.
        self.allowed = runtime.config.organisation.get("slack", ())
        self.client = make_client(None if settings.oauth else settings.bot_token,
                                  settings.api_url)
        self.installations: Installations | None = None
        clients: Clients = OneWorkspace(self.client)
        if settings.oauth:
            from adapters.slack.install_mode import oauth_app

            self.app, self.installations = oauth_app(runtime, settings, self.client)
            clients = self.installations
        else:
            assert settings.bot_token
            self.app = AsyncApp(
                client=self.client,
                # One workspace: no OAuth flow, the client's bot token is it.
                signing_secret=settings.signing_secret,
                # ``handle`` checks every signature before bolt sees the request.
                request_verification_enabled=False,
                # The answer goes back when the listener returns. Bolt's default instead
                # runs the listener aside and polls for its ack every 10 ms, which adds
                # 10 ms to every answer and a wake-up per pending request.
                process_before_response=True,
                logger=logging.getLogger("slack_bolt"),
            )
        #: Which client reaches whom (also what the directory sync reads Slack with).
        self.clients = clients
        directory = Directory(self.client, clients=clients)
        self.messenger = SlackMessenger(self.client, directory, clients)
        # slack_sdk's clock, as its own SignatureVerifier would read it.
        self.signature_clock = SignatureClock()
        register(self.app, runtime, directory, self.installations)
        self._socket: object | None = None
        self.coordinator_group = CoordinatorGroup(self.client, runtime.config, clients=clients)

    def mount(self, app: web.Application) -> None:
        app.router.add_post(ROUTE, self.handle)
        if self.installations is not None:
            app.router.add_get(INSTALL_ROUTE, self.install)
            app.router.add_get(REDIRECT_ROUTE, self.install)

    async def install(self, request: web.Request) -> web.Response:
        """The OAuth flow's two pages: bolt's own handlers, over aiohttp."""
        flow = self.app.oauth_flow
        assert flow is not None
        bolt_request = AsyncBoltRequest(body="", query=request.query_string,
                                        headers=dict(request.headers), mode="http")
        if request.path == INSTALL_ROUTE:
            return await to_aiohttp_response(await flow.handle_installation(bolt_request))
        return await to_aiohttp_response(await flow.handle_callback(bolt_request))

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
        if not payload_belongs(self.allowed, payload):
            return self._outside(payload)
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

    def _outside(self, payload: dict[str, Any]) -> web.Response:
        """A request from a workspace outside the programme's organisation: a slash
        command gets a kind word; events and clicks an empty ack. Nothing is stored."""
        log.info("slack: refused a request from outside the programme's organisation")
        if "command" in payload:
            config = self.runtime.config
            return web.json_response({"response_type": "ephemeral", "text": t(
                config.default_language, "grid.outside", programme=config.programme_name)})
        return web.Response(status=200)

    async def installation_count(self) -> int | None:
        """How many workspaces and orgs installed the app (OAuth mode; None in token mode)."""
        return None if self.installations is None else await self.installations.count()

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
