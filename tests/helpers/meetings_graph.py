"""Find a time with Outlook calendars on the local platform: the tenant, the two
mailboxes the directory knows, and the presses that find, pick and accept a slot."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select

from adapters.local.platform import LocalPlatform
from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.graph_calendar import GraphCalendar
from storage import directory
from storage.db import Database
from storage.directory import Record
from storage.models import Meeting
from tests.helpers.local import ANNA, CHANNEL, KATRIN, local_platform, newest_button

TENANT = "contoso.example"
MAILBOXES = {"anna": "anna@contoso.example", "katrin": "katrin@contoso.example"}
DENIED = "Calendars.Read"


def with_graph(config: AppConfig) -> AppConfig:
    """app.yaml with the tenant's calendars, a local coordinator and channel."""
    return replace(config, coordinators={**config.coordinators, "local": ("coord",)},
                   channels={**config.channels, "local": (CHANNEL,)},
                   meetings=replace(config.meetings, graph_tenant=TENANT))


async def platform_with(config: AppConfig, clock: FixedClock, db: Database,
                        calendar: GraphCalendar, known: dict[str, str]) -> LocalPlatform:
    """The local platform asking ``calendar``; the directory knows ``known``'s e-mails
    (by local user)."""
    found = local_platform(config, clock, db)
    found.ctx.calendar = calendar
    async with db.session() as session:
        await directory.save_snapshot(session, "graph", [
            Record(f"aad-{user}", email=mail, display_name=user.title(),
                   accounts=(("local", user),)) for user, mail in known.items()],
            clock.now())
    return found


def starts(slots: list[str]) -> list[datetime]:
    return [datetime.fromtimestamp(int(v.rsplit(":", 1)[1]) * 60, UTC) for v in slots]


async def find(platform: LocalPlatform) -> list[str]:
    """Anna presses Find a time: the slots offered (their button values)."""
    outcome = await platform.press(ANNA, "meeting.find",
                                   newest_button(platform, "anna", "meeting.find") or "")
    return [b.value for b in outcome.message.buttons  # type: ignore[union-attr]
            if b.action_id == "meeting.pick"]


async def agree(platform: LocalPlatform, slot: str) -> None:
    """Anna picks ``slot``, Katrin accepts it."""
    await platform.press(ANNA, "meeting.pick", slot)
    await platform.press(KATRIN, "meeting.accept",
                         newest_button(platform, "katrin", "meeting.accept") or "")


async def the_meeting(db: Database) -> Meeting:
    async with db.session() as session:
        [meeting] = await session.scalars(select(Meeting))
    return meeting
