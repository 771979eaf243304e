"""The Teams platform: ``POST /api/messages`` for Bot Framework activities.

Requests are checked in this order: with ``MICROSOFT_APP_ID`` set, a missing or
malformed ``Authorization`` header is refused (401) before the body is read;
then the body must be UTF-8 JSON nested at most ``wire.MAX_DEPTH`` deep, and an
activity whose every field Tandem reads has the right type (400 otherwise, see
``shapes``); then botbuilder's ``CloudAdapter`` validates the token (401, also
when it cannot be checked at all) and runs the turn. Nothing before the turn
logs more than a line at info, so nobody can flood the logs. Without
``MICROSOFT_APP_ID`` the bot runs unauthenticated for the Bot Framework
Emulator, and says so loudly at start.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticationConstants,
    BotFrameworkAuthenticationFactory,
    PasswordServiceClientCredentialFactory,
)
from jwt import PyJWTError

from adapters.teams import ROUTE, shapes
from adapters.teams.identity import PLATFORM
from adapters.teams.messenger import TeamsMessenger
from adapters.teams.references import References
from adapters.teams.settings import TeamsSettings
from adapters.teams.turns import TeamsBot
from bot.host import wire
from bot.host.runtime import Runtime
from storage import processed_events
from storage.group_commit import group_commit

log = logging.getLogger(__name__)


class ReusedCredentials(PasswordServiceClientCredentialFactory):  # type: ignore[misc]
    """The bot's credentials for the connector, made once per audience and endpoint.

    botbuilder asks for credentials on every turn and every proactive send, and each
    new ``MicrosoftAppCredentials`` starts an MSAL application of its own: the
    authority's metadata and a new token fetched from Entra ID (blocking the event
    loop) before each reply. Kept, MSAL's token cache serves them until the token
    is about to expire, and renews it then."""

    def __init__(self, app_id: str | None, password: str | None, tenant_id: str | None
                 ) -> None:
        super().__init__(app_id, password, tenant_id)
        self._made: dict[tuple[str, str, str, bool], Any] = {}

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str,
                                 validate_authority: bool) -> Any:
        key = (app_id, oauth_scope, login_endpoint, validate_authority)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = await super().create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority)
        return made


def cloud_adapter(settings: TeamsSettings) -> CloudAdapter:
    credentials = ReusedCredentials(settings.app_id, settings.app_password, settings.tenant_id)
    endpoints = settings.endpoints
    if not endpoints.custom():
        return CloudAdapter(BotFrameworkAuthenticationFactory.create(
            credential_factory=credentials))
    return CloudAdapter(BotFrameworkAuthenticationFactory.create(
        to_bot_from_channel_open_id_metadata_url=endpoints.openid_metadata_url
        or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
        to_bot_from_channel_token_issuer=endpoints.token_issuer
        or AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
        to_channel_from_bot_login_url=endpoints.login_url
        or AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL,
        to_channel_from_bot_oauth_scope=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
        to_bot_from_emulator_open_id_metadata_url=(
            AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL),
        credential_factory=credentials))


class TeamsAdapter:
    platform = PLATFORM

    def __init__(self, runtime: Runtime, settings: TeamsSettings) -> None:
        self.app_id = settings.app_id
        self.cloud = cloud_adapter(settings)
        self.references = References(runtime.db, runtime.clock)
        self.messenger = TeamsMessenger(self.cloud, self.references, self.app_id)
        self.bot = TeamsBot(runtime, self.messenger, self.references)
        self.runtime = runtime

    def mount(self, app: web.Application) -> None:
        app.router.add_post(ROUTE, self.handle)

    async def start(self) -> None:
        if not self.app_id:
            log.warning(
                "teams: MICROSOFT_APP_ID is not set: %s accepts UNAUTHENTICATED requests "
                "(Bot Framework Emulator mode). Never run it like this in production.",
                ROUTE,
            )

    async def stop_receiving(self) -> None:
        """Teams comes only over HTTP, which stops with the server."""

    async def stop(self) -> None:
        """Nothing of its own to close; the server waited for the follow-ups already."""

    async def handle(self, request: web.Request) -> web.Response:
        auth_header = request.headers.get("Authorization", "")
        if self.app_id and not _looks_like_bearer(auth_header):
            return _error(401, "unauthorized")
        try:
            body = wire.loads(wire.text_of(await request.read()))
        except ValueError as error:
            log.info("teams: refused a body: %s", error)
            return _error(400, "body is not JSON")
        activity = _activity(body)
        if activity is None:
            return _error(400, "body is not a Bot Framework activity")
        turns: list[TurnContext] = []

        async def turn(context: TurnContext) -> None:
            turns.append(context)  # authenticated: botbuilder runs the turn
            await self._turn(context)

        try:
            response = await self.cloud.process_activity(auth_header, activity, turn)
        except (PermissionError, PyJWTError) as error:
            log.info("teams: refused a request: %s", error)
            return _error(401, "unauthorized")
        except Exception as error:
            if not turns:
                # The token could not even be checked (a made-up one, keys out of
                # reach): anyone can send that, so a line at info, not a traceback.
                log.info("teams: could not authenticate a request: %s: %s",
                         type(error).__name__, str(error)[:200])
                return _error(401, "unauthorized")
            log.exception("teams: a %s activity failed", activity.type)
            return _error(500, "internal error")
        return _response(response)

    async def _turn(self, turn: TurnContext) -> None:
        """Runs after authentication: a redelivered activity (same id in the same
        conversation) is acknowledged but not acted on twice (searches are just
        answered again)."""
        activity = turn.activity
        # A type-ahead search only reads: answering it twice is harmless, and a row
        # per keystroke would not be.
        if activity.id and activity.type in ("message", "invoke") \
                and activity.name != shapes.SEARCH_INVOKE:
            key = f"{activity.conversation.id}|{activity.id}"
            now = self.runtime.clock.now()
            # Every turn does this: the turns in flight together share one transaction.
            first = await group_commit(self.runtime.db).run(
                lambda session: processed_events.first_time(session, PLATFORM, key, now))
            if not first:
                log.info("teams: ignored a redelivered %s activity", activity.type)
                return
        await self.bot.on_turn(turn)


def _looks_like_bearer(header: str) -> bool:
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and token.count(".") == 2


def _activity(body: Any) -> Activity | None:
    """An activity we can answer (a type, a conversation and a serviceUrl to reply
    to), every field Tandem and botbuilder read of the right type (``shapes``)."""
    problem = shapes.problem(body)
    if problem is not None:
        log.info("teams: refused an activity: %s", problem)
        return None
    try:
        return Activity().deserialize(body)
    except Exception as error:  # msrest's own checks (a timestamp that is none)
        log.info("teams: refused an activity: %s", str(error)[:200])
        return None


def _response(response: InvokeResponse | None) -> web.Response:
    """The turn's answer; invoke bodies are serialised here (botbuilder 4.17.1's
    CloudAdapter.process fails with a 500 on plain-dict bodies)."""
    if response is None:
        return web.Response(status=201)
    status = int(response.status or 200)
    body = response.body
    if body is None:
        return web.Response(status=status)
    if hasattr(body, "serialize"):
        body = body.serialize()
    return web.json_response(body, status=status)


def _error(status: int, text: str) -> web.Response:
    return web.json_response({"error": text}, status=status)


def build(runtime: Runtime, settings: TeamsSettings) -> TeamsAdapter:
    """Teams is always mounted: without an app id it runs for the Emulator."""
    return TeamsAdapter(runtime, settings)
