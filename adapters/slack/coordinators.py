"""Coordinators by Slack user group: app.yaml's ``slack.coordinator_usergroup``.

The group's members are read with ``usergroups.list`` and
``usergroups.users.list`` when the adapter starts and every few minutes
after, and handed to ``AppConfig.group_members``: the flows keep asking
``config.is_coordinator`` and never learn that Slack has groups. When Slack
cannot be asked, the last known members stay (and app.yaml's ids always count).
In OAuth mode every installation is asked (an org-wide one for each of its
workspaces, whose ``team_id`` it needs) and the members found are pooled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.clients import Clients, OneWorkspace
from adapters.slack.options import options
from bot.core.config import AppConfig

log = logging.getLogger(__name__)

PLATFORM = "slack"
REFRESH_SECONDS = 300


class CoordinatorGroup:
    def __init__(self, client: AsyncWebClient, config: AppConfig,
                 every: float = REFRESH_SECONDS, clients: Clients | None = None) -> None:
        self.client, self.config, self.every = client, config, every
        self.clients: Clients = clients or OneWorkspace(client)
        self.handle = options(config).coordinator_usergroup
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> frozenset[str] | None:
        """Read the group's members now; None (and the old members kept) on failure."""
        if not self.handle:
            return None
        found: set[str] = set()
        seen = False
        try:
            for reach in await self.clients.every():
                for team in await _teams(reach.client, org_wide=reach.key.endswith(":")):
                    members = await self._members(reach.client, self.handle, team)
                    seen = seen or members is not None
                    found |= members or set()
        except SlackApiError as error:
            log.warning("slack: could not read the coordinator group: %s",
                        error.response.get("error") if error.response else error)
            return None
        if not seen:
            log.warning("slack: coordinator group %s not found", self.handle)
        self.config.group_members.replace(PLATFORM, found)
        return frozenset(found)

    async def _members(self, client: AsyncWebClient, handle: str, team: str | None
                       ) -> set[str] | None:
        """The group's members in one workspace; None when it has no such group."""
        where: dict[str, Any] = {"team_id": team} if team else {}
        group_id = await self._group_id(client, handle, where)
        if group_id is None:
            return None
        answer = await client.usergroups_users_list(usergroup=group_id, **where)
        return set(answer.get("users") or [])

    async def _group_id(self, client: AsyncWebClient, handle: str, where: dict[str, Any]
                        ) -> str | None:
        if not handle.startswith("@"):
            return handle  # already an id like S0123
        answer = await client.usergroups_list(**where)
        wanted = handle.removeprefix("@").lower()
        for group in answer.get("usergroups") or []:
            if str(group.get("handle", "")).lower() == wanted and not group.get("date_delete"):
                return str(group["id"])
        return None

    async def start(self) -> None:
        if not self.handle:
            return
        await self.refresh()
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.refresh()
            except Exception:  # a failed refresh must not end the loop
                log.exception("slack: coordinator group refresh failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


async def _teams(client: AsyncWebClient, *, org_wide: bool) -> list[str | None]:
    """The workspaces to ask: each of an org-wide install's (which needs a
    ``team_id`` on the user-group methods), or just the token's own."""
    if not org_wide:
        return [None]
    answer = await client.auth_teams_list()
    return [str(team["id"]) for team in answer.get("teams") or [] if team.get("id")]
