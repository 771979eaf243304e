"""Sending on Slack: DMs, group DMs for tandems, channel posts."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import fallback_text, message_blocks
from bot.errors import PlatformError
from conversations.messages import Message

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

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def _post(self, channel: str, message: Message) -> str:
        try:
            response = await self.client.chat_postMessage(
                channel=channel, text=fallback_text(message), blocks=message_blocks(message),
                unfurl_links=False, unfurl_media=False,
            )
        except SlackApiError as error:
            raise _platform_error(error) from error
        return f"{response['channel']}:{response['ts']}"

    async def send_direct(self, user_id: str, message: Message) -> str:
        # Posting to a user id lands in the bot's DM with that person.
        return await self._post(user_id, message)

    async def send_group(self, user_ids: Sequence[str], message: Message) -> list[str]:
        try:
            opened = await self.client.conversations_open(users=",".join(user_ids))
        except SlackApiError as error:
            raise _platform_error(error) from error
        return [await self._post(opened["channel"]["id"], message)]

    async def post_channel(self, channel_id: str, message: Message) -> str:
        return await self._post(channel_id, message)

    async def send_file(
        self, user_id: str, filename: str, content: bytes, message: Message
    ) -> str:
        try:
            opened = await self.client.conversations_open(users=user_id)
            channel = opened["channel"]["id"]
            uploaded = await self.client.files_upload_v2(
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
