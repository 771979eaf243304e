"""The local platform wired to a real database, for flow tests."""

from __future__ import annotations

from typing import Any

from adapters.local.platform import LocalMessenger, LocalPlatform, LocalUser
from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from conversations.context import FlowContext
from storage.db import Database

ANSWERS: dict[str, Any] = {
    "role": "mentor", "department": "IT", "manager": None,
    "topics": ["ai_tools"], "goals": "", "languages": ["de"],
    "meeting_mode": "either", "capacity": "1", "consent": ["yes"],
}


def local_platform(config: AppConfig, clock: FixedClock, db: Database) -> LocalPlatform:
    messenger = LocalMessenger()
    return LocalPlatform(FlowContext(config, clock, db, {"local": messenger}), messenger)


async def signed_up(platform: LocalPlatform, user: LocalUser, **answers: Any) -> None:
    await platform.command(user, "signup")
    await platform.submit(user, {**ANSWERS, **answers})
