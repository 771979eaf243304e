"""Slack: slack-bolt's AsyncApp over HTTP (or Socket Mode), Block Kit both ways.

Everything Slack-specific is in this folder, and ``PLATFORM`` is how the host
learns of it: ``settings.py`` reads ``SLACK_*``, ``adapter.py`` serves
``/slack/events``, ``doctor.py`` asks Slack about the token, ``manifest.py``
is ``tandem slack-manifest``, ``catalogues/`` holds the Slack-only strings.
"""

from __future__ import annotations

from pathlib import Path

from adapters.slack import manifest
from adapters.slack.settings import SlackSettings
from bot.core.i18n import add_catalogues
from bot.host.platform import Command, Platform, lazy

#: Events, slash commands and interactivity all arrive here.
ROUTE = "/slack/events"
#: Slack's largest payloads are modal submissions: the whole view comes back (ours
#: are tens of KiB; Slack caps a view at 100 blocks).
MAX_BODY_BYTES = 256 * 1024
add_catalogues(Path(__file__).parent / "catalogues")

PLATFORM = Platform(
    name="slack", title="Slack", read_settings=SlackSettings.from_env,
    needs="SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET",
    build=lazy("adapters.slack.adapter", "build"), doctor=lazy("adapters.slack.doctor", "check"),
    routes={ROUTE: MAX_BODY_BYTES}, noisy_loggers=("slack_sdk",),
    commands=(Command("slack-manifest", "print the Slack app manifest (YAML)",
                      manifest.add_arguments, manifest.run),),
)
