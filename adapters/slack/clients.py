"""Which Slack Web API client reaches a person or a channel.

In token mode there is one workspace and one client for everything. In OAuth
mode each installation (a workspace, or an org on Enterprise Grid) has its own
bot token: a person is reached through the installation of the workspace they
were last seen in (learned from their requests, kept in ``conversation_refs``),
and an org-wide token is given the person's ``team_id`` on the methods that
need it. Grid user ids (W...) are org-wide, so one person has one home.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.installation_store import DatabaseInstallationStore
from adapters.slack.rate_limits import HoldOnRateLimit, Holds
from bot.core.clock import Clock
from bot.core.errors import PlatformError
from storage import conversation_refs
from storage.db import Database

log = logging.getLogger(__name__)
PLATFORM = "slack"
TOKEN_KEY = "token"
#: Refresh a rotating bot token this long before it expires (bolt's default too).
ROTATE_MINUTES = 120
HOMES_CACHE_SIZE = 100_000
INSTALLATION_SECONDS = 60.0


@dataclass(frozen=True)
class Reach:
    """A client for one installation, and what to say to it."""

    client: AsyncWebClient
    #: The workspace to name on methods that need one with an org-wide token; None
    #: for a workspace's own token (which ignores it anyway).
    team_id: str | None
    #: Which installation this is ("E1", "T1", ":T1", or "token"): Slack's rate
    #: limits are counted per installation.
    key: str

    def team(self) -> dict[str, Any]:
        """``team_id=...`` for the methods an org-wide token needs it on."""
        return {"team_id": self.team_id} if self.team_id else {}


class Clients(Protocol):
    async def for_user(self, user_id: str) -> Reach: ...
    async def for_channel(self, channel_id: str) -> Reach: ...
    async def every(self) -> list[Reach]: ...
    async def learn(self, user_id: str, enterprise_id: str | None, team_id: str | None
                    ) -> None: ...


class OneWorkspace:
    """Token mode: the one bot token reaches everybody."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.reach = Reach(client, None, TOKEN_KEY)

    async def for_user(self, user_id: str) -> Reach:
        return self.reach

    async def for_channel(self, channel_id: str) -> Reach:
        return self.reach

    async def every(self) -> list[Reach]:
        return [self.reach]

    async def learn(self, user_id: str, enterprise_id: str | None, team_id: str | None
                    ) -> None:
        return None


def installation_key(enterprise_id: str | None, team_id: str | None) -> str:
    return f"{enterprise_id or ''}:{team_id or ''}"


class NoInstallation(PlatformError):
    """Nobody installed the app where this person or channel is (or it was removed)."""


class Installations:
    """OAuth mode: clients per installation, found in the database, tokens rotated."""

    def __init__(self, store: DatabaseInstallationStore, db: Database, clock: Clock,
                 base: AsyncWebClient, client_id: str, client_secret: str) -> None:
        self.store, self.db, self.clock, self.base = store, db, clock, base
        self.rotator = AsyncTokenRotator(client_id=client_id, client_secret=client_secret,
                                         client=base)
        self._homes: OrderedDict[str, tuple[str | None, str | None]] = OrderedDict()
        self._channels: dict[str, tuple[str | None, str | None]] = {}
        self._installations: dict[str, tuple[float, Installation | None]] = {}
        self._clients: dict[str, AsyncWebClient] = {}
        self._rotating = asyncio.Lock()
        #: Retry-After per installation: a busy workspace waits alone.
        self.holds = Holds(clock)
        store.on_saved.append(self._forget_installation)
        store.on_removed.append(self._forget_removed)

    async def _forget_installation(self, enterprise_id: str | None, team_id: str | None,
                                   _new: bool) -> None:
        self._installations.clear()

    async def _forget_removed(self, enterprise_id: str | None, team_id: str | None) -> None:
        self._installations.clear()

    # -- where people are --------------------------------------------------------------

    async def learn(self, user_id: str, enterprise_id: str | None, team_id: str | None
                    ) -> None:
        """Remember the workspace a person was just seen in (a write only on change)."""
        home = (enterprise_id, team_id)
        if not user_id or not (enterprise_id or team_id) or self._homes.get(user_id) == home:
            return
        async with self.db.session() as session:
            await conversation_refs.save_ref(
                session, PLATFORM, conversation_refs.USER, user_id, enterprise_id or team_id,
                {"enterprise_id": enterprise_id, "team_id": team_id}, self.clock.now())
        self._remember(user_id, home)

    def _remember(self, user_id: str, home: tuple[str | None, str | None]) -> None:
        self._homes[user_id] = home
        self._homes.move_to_end(user_id)
        if len(self._homes) > HOMES_CACHE_SIZE:
            self._homes.popitem(last=False)

    async def home(self, user_id: str) -> tuple[str | None, str | None] | None:
        found = self._homes.get(user_id)
        if found is not None:
            return found
        async with self.db.reading() as session:
            ref = await conversation_refs.find_ref(session, PLATFORM, conversation_refs.USER,
                                                   user_id)
        if ref is None:
            return None
        home = (ref.reference.get("enterprise_id"), ref.reference.get("team_id"))
        self._remember(user_id, home)
        return home

    # -- installations -----------------------------------------------------------------

    async def _installation(self, enterprise_id: str | None, team_id: str | None
                            ) -> Installation | None:
        """The org-wide install of the person's org if there is one, else their
        workspace's; a minute's cache, emptied whenever one is saved or removed."""
        key = installation_key(enterprise_id, team_id)
        hit = self._installations.get(key)
        if hit is not None and time.monotonic() - hit[0] < INSTALLATION_SECONDS:
            return hit[1]
        found = None
        if enterprise_id:
            found = await self.store.async_find_installation(
                enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True)
        if found is None and team_id:
            found = await self.store.async_find_installation(
                enterprise_id=enterprise_id, team_id=team_id)
        self._installations[key] = (time.monotonic(), found)
        return found

    async def _fresh(self, installation: Installation) -> Installation:
        """Its bot token, rotated first when it expires within two hours."""
        if installation.bot_refresh_token is None:
            return installation
        async with self._rotating:
            try:
                refreshed = await self.rotator.perform_token_rotation(
                    installation=installation, minutes_before_expiration=ROTATE_MINUTES)
            except SlackTokenRotationError as error:
                raise PlatformError("slack: token rotation failed", retry=True) from error
            if refreshed is None:
                return installation
            await self.store.async_save(refreshed)
            return refreshed

    def _client(self, token: str, key: str) -> AsyncWebClient:
        client = self._clients.get(token)
        if client is None:
            # slack_sdk's 429 handler would sleep inside the call: the hold instead.
            handlers = [h for h in self.base.retry_handlers
                        if not isinstance(h, AsyncRateLimitErrorRetryHandler)]
            client = AsyncWebClient(token=token, base_url=self.base.base_url,
                                    session=self.base.session,
                                    retry_handlers=[*handlers, HoldOnRateLimit(self.holds, key)])
            self._clients = {**self._clients, token: client}
        return client

    async def reach(self, enterprise_id: str | None, team_id: str | None) -> Reach:
        found = await self._installation(enterprise_id, team_id)
        if found is None or not found.bot_token:
            raise NoInstallation(
                f"slack: no installation for {installation_key(enterprise_id, team_id)}",
                unreachable=True)
        key = installation_key(found.enterprise_id,
                               None if found.is_enterprise_install else found.team_id)
        left = self.holds.left(key)
        if left > 0:
            raise PlatformError(f"slack: {key} is rate limited for {left:.0f} s more",
                                retry=True)
        found = await self._fresh(found)
        assert found.bot_token
        return Reach(self._client(found.bot_token, key),
                     team_id if found.is_enterprise_install else None, key)

    async def every(self) -> list[Reach]:
        reaches = []
        for installation in await self.store.all():
            try:
                reaches.append(await self.reach(
                    installation.enterprise_id,
                    None if installation.is_enterprise_install else installation.team_id))
            except PlatformError as error:
                log.warning("slack: skipped an installation: %s", error)
        return reaches

    async def for_user(self, user_id: str) -> Reach:
        home = await self.home(user_id)
        if home is not None:
            return await self.reach(*home)
        # Never seen in a request (a coordinator named in app.yaml): the installation
        # whose workspace knows them.
        async for _found, answer in self._answering(
                lambda client: client.users_info(user=user_id)):
            user = answer.get("user") or {}
            enterprise = (user.get("enterprise_user") or {}).get("enterprise_id")
            team = user.get("team_id")
            await self.learn(user_id, enterprise, team)
            return await self.reach(enterprise, team)
        raise NoInstallation(f"slack: no installation knows {user_id}", unreachable=True)

    async def for_channel(self, channel_id: str) -> Reach:
        known = self._channels.get(channel_id)
        if known is not None:
            return await self.reach(*known)
        async for candidate, answer in self._answering(
                lambda client: client.conversations_info(channel=channel_id)):
            channel = answer.get("channel") or {}
            team = channel.get("context_team_id") or candidate.team_id
            enterprise, _, own = candidate.key.partition(":")
            self._channels[channel_id] = (enterprise or None, team or own or None)
            return await self.reach(*self._channels[channel_id])
        raise NoInstallation(f"slack: no installation sees channel {channel_id}",
                             unreachable=True)

    async def _answering(self, ask: Callable[[AsyncWebClient], Awaitable[AsyncSlackResponse]]
                         ) -> AsyncIterator[tuple[Reach, AsyncSlackResponse]]:
        """Each installation whose workspace answers ``ask`` (one that does not know
        the user or channel answers with an error), with its answer."""
        for candidate in await self.every():
            try:
                answer = await ask(candidate.client)
            except SlackApiError:
                continue
            yield candidate, answer

    async def count(self) -> int:
        return await self.store.count()
