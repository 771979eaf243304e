"""The local platform wired to a real database, for flow tests, and the people of a
small matched round on it."""

from __future__ import annotations

from datetime import UTC, datetime
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

COORDINATOR = LocalUser("coord", "Clara", locale="en")
ANNA = LocalUser("anna", "Anna", locale="de", timezone="Europe/Berlin")
KATRIN = LocalUser("katrin", "Katrin", locale="de", timezone="Europe/Berlin")
BEN = LocalUser("ben", "Ben", locale="en", timezone="America/New_York")
SARAH = LocalUser("sarah", "Sarah", locale="en", timezone="Asia/Tokyo")
CHANNEL = "C-PROGRAMME"


async def matched(platform: LocalPlatform, clock: FixedClock) -> None:
    await signed_up(platform, ANNA, department="Marketing", topics=["ai_tools"],
                    languages=["de"])
    await signed_up(platform, BEN, department="IT", topics=["sustainability"],
                    languages=["en"])
    await signed_up(platform, KATRIN, role="mentee", department="Finance",
                    topics=["ai_tools", "agile"], languages=["de"])
    await signed_up(platform, SARAH, role="mentee", department="Sales",
                    topics=["sustainability"], languages=["en"])
    await match_and_confirm(platform, clock)


async def match_and_confirm(platform: LocalPlatform, clock: FixedClock,
                            on: datetime = datetime(2027, 1, 16, 9, 0, tzinfo=UTC)) -> None:
    """The coordinator matches and confirms the proposal, by default the day after
    sign-up closes."""
    clock.set(on)
    await platform.command(COORDINATOR, "match")
    proposal = platform.messenger.inbox["coord"][-2].message
    assert proposal is not None
    button = next(b for b in proposal.buttons if b.action_id == "match.confirm")
    await platform.press(COORDINATOR, button.action_id, button.value)


def newest_button(platform: LocalPlatform, user: str, action: str) -> str | None:
    """The value of the newest ``action`` button ``user`` got; None before any."""
    for seen in reversed(platform.messenger.inbox[user]):
        for button in seen.message.buttons if seen.message else ():
            if button.action_id == action:
                return button.value
    return None


def last_buttons(platform: LocalPlatform, user: str, action: str) -> str:
    """The value of the newest ``action`` button in ``user``'s inbox."""
    value = newest_button(platform, user, action)
    assert value is not None, f"{user} has no {action} button"
    return value
