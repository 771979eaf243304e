"""The dashboard and help on the local platform; the report settings in app.yaml."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
import yaml

from adapters.local.platform import LocalPlatform, LocalUser
from bot.core.clock import FixedClock
from bot.core.config import AppConfig, parse_config
from bot.core.errors import ConfigError
from bot.core.i18n import catalogue
from conversations import dashboard
from conversations.outcomes import Reply
from tests.helpers import ROOT
from tests.helpers.local import signed_up

COORDINATOR = LocalUser("coord", "Clara", locale="en")
ANNA = LocalUser("anna", "Anna", locale="de", timezone="Europe/Berlin")


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return dataclasses.replace(config, coordinators={**config.coordinators, "local": ("coord",)})


async def test_help_lists_the_coordinator_commands_to_coordinators_only(
    platform: LocalPlatform
) -> None:
    mine = await platform.command(COORDINATOR, "help")
    assert isinstance(mine, Reply)
    assert "/tandem report: The programme's figures" in mine.message.plain()
    assert "/tandem dashboard: Your overview" in mine.message.plain()
    theirs = await platform.command(ANNA, "hilfe")
    assert isinstance(theirs, Reply) and "bericht" not in theirs.message.plain()


async def test_a_participant_before_matching_and_after_leaving(
    platform: LocalPlatform, clock: FixedClock
) -> None:
    await signed_up(platform, ANNA)
    home = await dashboard.home(platform.ctx, ANNA.actor)
    assert home.title == "Reverse Mentoring: deine Übersicht"
    assert "Dein Tandem: noch nicht zugeteilt" in home.plain()
    assert "Erinnerung" not in home.plain()  # no tandem, no nudge
    await platform.command(ANNA, "leave")
    await platform.press(ANNA, "leave.confirm")
    clock.set(datetime(2026, 12, 2, tzinfo=UTC))
    home = await dashboard.home(platform.ctx, ANNA.actor)
    assert "nicht angemeldet" in home.plain() and "/tandem anmelden" in home.plain()


def test_min_group_size_is_validated() -> None:
    raw = yaml.safe_load((ROOT / "app.yaml").read_text(encoding="utf-8"))
    assert parse_config("app.yaml", raw).report.min_group_size == 5
    raw["report"] = {"min_group_size": 2}
    with pytest.raises(ConfigError, match=r"report\.min_group_size: must be between 3 and 100"):
        parse_config("app.yaml", raw)
    del raw["report"]
    assert parse_config("app.yaml", raw).report.min_group_size == 5


def test_every_report_key_is_in_both_catalogues() -> None:
    prefixes = ("figures.", "dashboard.", "report.", "command.report", "command.dashboard",
                "help.report", "help.dashboard")
    de = {k for k in catalogue("de") if k.startswith(prefixes)}
    en = {k for k in catalogue("en") if k.startswith(prefixes)}
    assert de == en and len(en) > 100
