"""Slack users found by e-mail (``users.lookupByEmail``, scope ``users:read.email``),
for the company directory's import."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient


class SlackEmailLookup:
    platform = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def by_email(self, email: str) -> str | None:
        """The Slack user id of this address; None when nobody (active) has it."""
        try:
            answer = await self.client.users_lookupByEmail(email=email)
        except SlackApiError as error:
            if error.response.get("error") == "users_not_found":
                return None
            raise
        user = answer.get("user") or {}
        if user.get("deleted") or not isinstance(user.get("id"), str):
            return None
        return str(user["id"])
