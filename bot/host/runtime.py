"""Everything a running Tandem holds: settings, app.yaml, clock, database, platforms."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web

from bot.core.clock import Clock
from bot.core.config import AppConfig
from bot.core.settings import Settings
from bot.host.background import Background
from conversations.calendars import Calendar
from conversations.context import FlowContext, Messenger
from storage.db import Database


class PlatformAdapter(Protocol):
    """One chat platform running in this process, built by its folder's
    ``PLATFORM.build`` (see ``bot/host/platform.py``)."""

    @property
    def platform(self) -> str:
        """The platform's name, as ``Platform.name``."""
        ...

    @property
    def messenger(self) -> Messenger:
        """How flows send on this platform."""
        ...

    def mount(self, app: web.Application) -> None:
        """Add the platform's HTTP routes to the shared aiohttp server."""
        ...

    async def start(self) -> None: ...

    async def stop_receiving(self) -> None:
        """Take no more events (HTTP routes stop with the server; Slack's Socket Mode
        does not): called at shutdown before the server waits for follow-ups."""
        ...

    async def stop(self) -> None: ...


@dataclass
class Runtime:
    settings: Settings
    config: AppConfig
    clock: Clock
    db: Database
    messengers: dict[str, Messenger] = field(default_factory=dict)
    adapters: list[PlatformAdapter] = field(default_factory=list)
    #: Set when the process shuts down: batches stop starting new sends.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    #: Work started after a request was answered; shutdown waits for it.
    background: Background = field(default_factory=Background)
    #: The company's calendars, when app.yaml configures Microsoft Graph for meetings.
    calendar: Calendar | None = None

    @property
    def ctx(self) -> FlowContext:
        return FlowContext(self.config, self.clock, self.db, self.messengers, self.stopping,
                           self.calendar)

    def add(self, adapter: PlatformAdapter) -> None:
        self.adapters.append(adapter)
        self.messengers[adapter.platform] = adapter.messenger
