"""Who a Slack user is: name, locale and time zone from ``users.info``, cached."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.clients import Clients, OneWorkspace
from bot.core.errors import PlatformError
from conversations.events import Actor

log = logging.getLogger(__name__)

PLATFORM = "slack"


@dataclass(frozen=True)
class Profile:
    name: str | None
    locale: str | None
    timezone: str | None


class NotInWorkspace(Exception):
    """The user is unknown to Slack, deleted, or a bot."""


class Directory:
    def __init__(self, client: AsyncWebClient, ttl_seconds: float = 600, size: int = 20_000,
                 clients: Clients | None = None):
        self.client, self.ttl, self.size = client, ttl_seconds, size
        self.clients: Clients = clients or OneWorkspace(client)
        self._cache: OrderedDict[str, tuple[float, Profile]] = OrderedDict()

    async def profile(self, user_id: str) -> Profile:
        hit = self._cache.get(user_id)
        if hit and time.monotonic() - hit[0] < self.ttl:
            self._cache.move_to_end(user_id)
            return hit[1]
        try:
            reach = await self.clients.for_user(user_id)
        except PlatformError as error:
            if error.unreachable:  # OAuth mode: no installation reaches them (any more)
                raise NotInWorkspace(user_id) from error
            # Their workspace is rate limited or its token is being rotated: as when
            # Slack has trouble, carry on without name and locale.
            log.warning("slack: users.info not asked (%s); using defaults", error)
            return Profile(None, None, None)
        try:
            response = await reach.client.users_info(user=user_id, include_locale=True)
        except SlackApiError as error:
            code = error.response.get("error") if isinstance(error.response.data, dict) else None
            if code in ("user_not_found", "users_not_found", "account_inactive"):
                raise NotInWorkspace(user_id) from error
            # Slack is having trouble: carry on without name and locale rather than
            # fail the person; app.yaml's default language answers them.
            log.warning("slack: users.info failed (%s); using defaults", code or "no answer")
            return Profile(None, None, None)
        user = response.get("user") or {}
        if user.get("deleted") or user.get("is_bot"):
            raise NotInWorkspace(user_id)
        profile_data = user.get("profile") or {}
        profile = Profile(
            name=profile_data.get("display_name") or profile_data.get("real_name")
            or user.get("real_name") or user.get("name"),
            locale=user.get("locale"),
            timezone=user.get("tz"),
        )
        self._cache[user_id] = (time.monotonic(), profile)
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return profile

    async def actor(self, team_id: str, user_id: str) -> Actor:
        profile = await self.profile(user_id)
        return Actor(PLATFORM, team_id, user_id, profile.name, profile.locale, profile.timezone)
