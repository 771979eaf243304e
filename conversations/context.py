"""What every flow gets: settings, the clock, the database and a way to send."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.core.clock import Clock
from bot.core.config import AppConfig
from bot.core.i18n import language_of
from conversations.messages import Message
from storage.db import Database

if TYPE_CHECKING:
    from conversations.calendars import Calendar


class Messenger(Protocol):
    """How flows reach people outside of a reply: one implementation per platform.

    Everything a flow calls on a messenger is declared here, so that a new
    platform's messenger is checked by mypy against what the flows need.
    """

    platform: str
    #: How a command is typed on this platform, e.g. "/tandem " on Slack, "" on Teams.
    command_prefix: str
    #: Whether the bot can open a chat with several people (Slack yes, Teams no).
    supports_group: bool
    #: Whether the bot can add a person to a channel (Slack yes; Teams bots cannot).
    supports_channel_invite: bool

    async def send_direct(self, user_id: str, message: Message) -> str:
        """Send a private message to one person; returns the platform's message id."""
        ...

    async def send_group(self, user_ids: Sequence[str], message: Message) -> list[str]:
        """Send one message to a small group (a tandem); platforms without group
        chats send it to each person privately."""
        ...

    async def post_channel(self, channel_id: str, message: Message) -> str:
        """Post in a channel the bot is a member of; returns the message's id."""
        ...

    async def find_sent(self, targets: Sequence[str], key: str) -> str | None:
        """The id of a message tagged ``key`` already in one of ``targets``' chats, if
        the platform lets the bot look (after a sender died before recording it)."""
        ...

    async def send_file(
        self, user_id: str, filename: str, content: bytes, message: Message
    ) -> str:
        """Give one person a file with ``message`` beside it (their data export, a
        proposal's CSV); returns the platform's message id."""
        ...

    async def find_file(self, user_id: str, filename: str) -> str | None:
        """The id of a file named ``filename`` already in the person's chat with the bot,
        if the platform lets the bot look (after a sender died before recording it)."""
        ...

    async def invite_to_channel(self, channel_id: str, user_id: str) -> str:
        """Add a person to a channel (the mentors' channel); one already in it counts
        as added. Only where ``supports_channel_invite``."""
        ...

    async def locale_of(self, user_id: str) -> str | None:
        """The person's locale as the platform knows it (cached), or None."""
        ...

    async def knows(self, user_id: str) -> bool:
        """Whether ``user_id`` is a colleague the platform knows (a value from a people
        picker is checked so, as far as the platform lets the bot look)."""
        ...


@dataclass
class FlowContext:
    config: AppConfig
    clock: Clock
    db: Database
    messengers: Mapping[str, Messenger]
    #: Set on shutdown: long batches stop starting new sends (in-flight ones finish).
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    #: The company's calendars (Microsoft Graph) when app.yaml configures them.
    calendar: Calendar | None = None

    def messenger(self, platform: str) -> Messenger:
        return self.messengers[platform]

    def language(self, *locales: str | None) -> str:
        """The first known locale decides; app.yaml's default otherwise."""
        for locale in locales:
            if locale:
                return language_of(locale, self.config.default_language)
        return self.config.default_language
