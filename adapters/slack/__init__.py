"""Slack: slack-bolt's AsyncApp over HTTP (or Socket Mode), Block Kit both ways.

Everything Slack-specific is in this folder, and ``PLATFORM`` is how the host
learns of it: ``settings.py`` reads ``SLACK_*``, ``adapter.py`` serves
``/slack/events``, ``options.py`` is its section of app.yaml (``slack:``),
``doctor.py`` asks Slack about the token, ``manifest.py``
is ``tandem slack-manifest``, ``catalogues/`` holds the Slack-only strings.
"""

from __future__ import annotations

from adapters.slack import manifest
from adapters.slack.options import SlackOptions
from adapters.slack.settings import SlackSettings
from bot.host.platform import Platform

#: Events, slash commands and interactivity all arrive here.
ROUTE = "/slack/events"
#: OAuth mode: where an installer starts, and where Slack sends them back.
INSTALL_ROUTE = "/slack/install"
REDIRECT_ROUTE = "/slack/oauth_redirect"
#: Slack's largest payloads are modal submissions: the whole view comes back (ours
#: are tens of KiB; Slack caps a view at 100 blocks).
MAX_BODY_BYTES = 256 * 1024

PLATFORM = Platform.folder(__name__, "Slack", SlackSettings.from_env, {ROUTE: MAX_BODY_BYTES},
                           commands=(manifest.COMMAND,), noisy_loggers=("slack_sdk",),
                           options=SlackOptions)
