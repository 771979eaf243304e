"""Sending on Slack: DMs, group DMs for tandems, channel posts."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import fallback_text, message_blocks
from adapters.slack.clients import Clients, OneWorkspace, Reach
from adapters.slack.directory import Directory, NotInWorkspace
from bot.core.errors import PlatformError
from conversations.messages import Message

METADATA_EVENT = "tandem_delivery"
GROUP_CACHE_SIZE = 50_000
# Errors that mean "this person or channel cannot be reached", not "try again".
UNREACHABLE = frozenset({
    "user_not_found", "account_inactive", "channel_not_found", "not_in_channel",
    "is_archived", "cannot_dm_bot", "user_disabled", "users_not_found",
    "user_is_restricted", "restricted_action", "team_access_not_granted",
})


class SlackMessenger:
    platform = "slack"
    command_prefix = "/tandem "
    supports_group = True
    supports_channel_invite = True

    def __init__(self, client: AsyncWebClient, directory: Directory | None = None,
                 clients: Clients | None = None) -> None:
        self.client = client
        #: Which installation reaches whom (one workspace in token mode).
        self.clients: Clients = clients or OneWorkspace(client)
        self.directory = directory or Directory(client, clients=self.clients)
        self._groups: OrderedDict[str, str] = OrderedDict()

    async def locale_of(self, user_id: str) -> str | None:
        """``users.info``'s locale, through the directory's cache (as for participants)."""
        try:
            return (await self.directory.profile(user_id)).locale
        except NotInWorkspace:
            return None

    async def knows(self, user_id: str) -> bool:
        """``users.info`` finds them in a workspace of the installation (cached)."""
        try:
            await self.directory.profile(user_id)
        except NotInWorkspace:
            return False
        return True

    async def _post(self, reach: Reach, channel: str, message: Message) -> str:
        extra: dict[str, Any] = {}
        if message.key:
            # Tagged so that a sender restarted after a crash can see it went out.
            extra["metadata"] = {"event_type": METADATA_EVENT,
                                 "event_payload": {"key": message.key}}
        try:
            response = await reach.client.chat_postMessage(
                channel=channel, text=fallback_text(message), blocks=message_blocks(message),
                unfurl_links=False, unfurl_media=False, **extra,
            )
        except SlackApiError as error:
            raise _platform_error(error) from error
        return f"{response['channel']}:{response['ts']}"

    async def send_direct(self, user_id: str, message: Message) -> str:
        # Posting to a user id lands in the bot's DM with that person.
        return await self._post(await self.clients.for_user(user_id), user_id, message)

    async def _group_channel(self, reach: Reach, user_ids: Sequence[str]) -> str:
        """The group DM of these people. Slack returns the same one for the same
        people every time, so it is asked once per process, not once per message:
        a monthly fan-out makes half the calls and stays clear of the method's own
        rate limit."""
        people = ",".join(sorted(user_ids))
        channel = self._groups.get(people)
        if channel is None:
            try:
                opened = await reach.client.conversations_open(users=people, **reach.team())
            except SlackApiError as error:
                raise _platform_error(error) from error
            channel = opened["channel"]["id"]
            self._groups[people] = channel
            if len(self._groups) > GROUP_CACHE_SIZE:
                self._groups.popitem(last=False)
        return channel

    async def send_group(self, user_ids: Sequence[str], message: Message) -> list[str]:
        # One group DM for people of several workspaces of an org: the first
        # person's installation opens it (an org-wide one reaches them all).
        reach = await self.clients.for_user(user_ids[0])
        channel = await self._group_channel(reach, user_ids)
        try:
            return [await self._post(reach, channel, message)]
        except PlatformError as error:
            if error.unreachable:
                # Someone left the group's workspace: ask Slack afresh next time.
                self._groups.pop(",".join(sorted(user_ids)), None)
            raise

    async def post_channel(self, channel_id: str, message: Message) -> str:
        return await self._post(await self.clients.for_channel(channel_id), channel_id, message)

    async def invite_to_channel(self, channel_id: str, user_id: str) -> str:
        """``conversations.invite`` (the bot must be in the channel; scope
        ``channels:manage``, or ``groups:write`` for a private one)."""
        reach = await self.clients.for_channel(channel_id)
        try:
            await reach.client.conversations_invite(channel=channel_id, users=user_id)
        except SlackApiError as error:
            if error.response.get("error") == "already_in_channel":
                return f"{channel_id}:{user_id}"
            found = _platform_error(error)
            # The bot not in the channel, no channels:manage, the channel gone: app.yaml's
            # or the install's problem, not the person's; given up, not retried for ever.
            raise PlatformError(found.detail, unreachable=not found.retry,
                                retry=found.retry) from error
        return f"{channel_id}:{user_id}"

    async def find_sent(self, targets: Sequence[str], key: str) -> str | None:
        try:
            if len(targets) == 1 and targets[0][:1] not in ("U", "W"):
                channel = targets[0]
                reach = await self.clients.for_channel(channel)
            else:
                reach = await self.clients.for_user(targets[0])
                opened = await reach.client.conversations_open(users=",".join(targets),
                                                               **reach.team())
                channel = opened["channel"]["id"]
            history = await reach.client.conversations_history(
                channel=channel, limit=200, include_all_metadata=True
            )
        except SlackApiError as error:
            raise _platform_error(error) from error
        for item in history.get("messages") or []:
            metadata = item.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                return f"{channel}:{item['ts']}"
        return None

    async def find_file(self, user_id: str, filename: str) -> str | None:
        """A file shared in the person's DM under this name (names of owed files are
        unique: a proposal's CSV carries the round and the proposal's number)."""
        try:
            reach = await self.clients.for_user(user_id)
            opened = await reach.client.conversations_open(users=user_id, **reach.team())
            channel = opened["channel"]["id"]
            history = await reach.client.conversations_history(channel=channel, limit=200)
        except SlackApiError as error:
            raise _platform_error(error) from error
        for item in history.get("messages") or []:
            for shared in item.get("files") or []:
                if filename in (shared.get("name"), shared.get("title")):
                    return f"{channel}:{shared.get('id', '')}"
        return None

    async def send_file(
        self, user_id: str, filename: str, content: bytes, message: Message
    ) -> str:
        try:
            reach = await self.clients.for_user(user_id)
            opened = await reach.client.conversations_open(users=user_id, **reach.team())
            channel = opened["channel"]["id"]
            uploaded = await reach.client.files_upload_v2(
                channel=channel, filename=filename, title=filename, content=content,
                initial_comment=fallback_text(message),
            )
        except SlackApiError as error:
            raise _platform_error(error) from error
        files = uploaded.get("files") or [{}]
        return f"{channel}:{files[0].get('id', '')}"


def _platform_error(error: SlackApiError) -> PlatformError:
    code = str(error.response.get("error", "unknown_error")) if error.response else "unknown"
    status = error.response.status_code if error.response is not None else 0
    return PlatformError(
        f"slack: {code}", unreachable=code in UNREACHABLE, retry=status == 429 or status >= 500
    )
