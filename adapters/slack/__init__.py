"""Slack: slack-bolt's AsyncApp over HTTP (or Socket Mode), Block Kit both ways.

This folder is the whole platform: ``PLATFORM`` below tells the host its
variables (``settings.py``), its adapter (``adapter.py``), its route and body
limit, its doctor check (``doctor.py``) and ``tandem slack-manifest``
(``manifest.py``). Nothing outside ``adapters/slack/`` names Slack.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from adapters.slack import manifest
from adapters.slack.settings import SlackSettings
from bot.core.i18n import add_catalogues
from bot.host.platform import Check, Command, Platform

if TYPE_CHECKING:
    from bot.host.runtime import PlatformAdapter, Runtime

KIB = 1024
# This platform's own strings (buttons, notices, the app's listing), both languages.
add_catalogues(Path(__file__).parent / "catalogues")
#: Events, slash commands and interactivity all arrive here.
ROUTE = "/slack/events"
#: Slack's largest payloads are modal submissions: the whole view comes back (ours
#: are tens of KiB; Slack caps a view at 100 blocks).
MAX_BODY_BYTES = 256 * KIB


def _build(runtime: Runtime, settings: SlackSettings) -> PlatformAdapter | None:
    from adapters.slack.adapter import build

    return build(runtime, settings)


async def _doctor(settings: SlackSettings) -> Check:
    from adapters.slack.doctor import check

    return await check(settings)


PLATFORM = Platform(
    name="slack",
    title="Slack",
    read_settings=SlackSettings.from_env,
    build=_build,
    needs="SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET",
    doctor=_doctor,
    routes={ROUTE: MAX_BODY_BYTES},
    noisy_loggers=("slack_sdk",),
    commands=(Command("slack-manifest", "print the Slack app manifest (YAML)",
                      manifest.add_arguments, manifest.run),),
)
