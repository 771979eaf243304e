"""Coordinators by Slack user group: app.yaml's ``coordinators.slack_usergroup``.

The group's members are read with ``usergroups.list`` and
``usergroups.users.list`` when the adapter starts and every few minutes
after, and handed to ``AppConfig.group_members``: the flows keep asking
``config.is_coordinator`` and never learn that Slack has groups. When Slack
cannot be asked, the last known members stay (and app.yaml's ids always count).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.config import AppConfig

log = logging.getLogger(__name__)

PLATFORM = "slack"
REFRESH_SECONDS = 300


class CoordinatorGroup:
    def __init__(self, client: AsyncWebClient, config: AppConfig,
                 every: float = REFRESH_SECONDS) -> None:
        self.client, self.config, self.every = client, config, every
        self.handle = config.coordinator_groups.get(PLATFORM)
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> frozenset[str] | None:
        """Read the group's members now; None (and the old members kept) on failure."""
        if not self.handle:
            return None
        try:
            group_id = await self._group_id(self.handle)
            if group_id is None:
                log.warning("slack: coordinator group %s not found", self.handle)
                members: frozenset[str] = frozenset()
            else:
                answer = await self.client.usergroups_users_list(usergroup=group_id)
                members = frozenset(answer.get("users") or [])
        except SlackApiError as error:
            log.warning("slack: could not read the coordinator group: %s",
                        error.response.get("error") if error.response else error)
            return None
        self.config.group_members.replace(PLATFORM, members)
        return members

    async def _group_id(self, handle: str) -> str | None:
        if not handle.startswith("@"):
            return handle  # already an id like S0123
        answer = await self.client.usergroups_list()
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
