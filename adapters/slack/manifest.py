"""The Slack app manifest: paste it at api.slack.com/apps → "From a manifest".

``tandem slack-manifest --url https://HOST`` prints it; the app is named after
the programme (app.yaml's ``programme.name``).
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import urlparse

import yaml

from bot.core.config import AppConfig
from bot.core.errors import ConfigError
from bot.host.platform import Command

BOT_SCOPES = [
    "commands",          # /tandem
    "chat:write",        # DMs, group DMs and channel posts
    "im:write",          # open DMs with participants
    "mpim:write",        # open a group DM per tandem
    "im:history",        # read commands people type in their DM with the bot
    "users:read",        # names, locale and time zone (users.info)
    "channels:read",     # check the announcement channel
    "groups:read",
    "usergroups:read",   # coordinators given as a user group
    "files:write",       # CSV of the matching proposal, data exports
]


#: Slack's limit for an app's name and its bot's display name.
NAME_LENGTH = 35


def manifest(url: str, name: str = "Tandem") -> dict[str, Any]:
    from adapters.slack import ROUTE

    base = url.rstrip("/")
    events = f"{base}{ROUTE}"
    return {
        "display_information": {
            "name": name,
            "description": "Reverse mentoring: juniors mentor seniors, one tandem at a time.",
            "background_color": "#2c5f7c",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [{
                "command": "/tandem",
                "url": events,
                "description": "Sign up for reverse mentoring, check your tandem, get help",
                "usage_hint": "signup | status | pause | resume | leave | help",
                "should_escape": False,
            }],
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": {
            "event_subscriptions": {
                "request_url": events,
                "bot_events": ["app_home_opened", "message.im"],
            },
            "interactivity": {"is_enabled": True, "request_url": events},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(url: str, name: str = "Tandem") -> str:
    text: str = yaml.safe_dump(manifest(url, name), sort_keys=False, allow_unicode=True)
    return text


# -- tandem slack-manifest ------------------------------------------------------------------

def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--url", required=True, help="public base URL, https://HOST")


def run(args: argparse.Namespace, config: AppConfig) -> str:
    parsed = urlparse(args.url)
    if parsed.scheme != "https" or not parsed.netloc:
        raise ConfigError("command line", "--url", f"must be https://HOST, not {args.url!r}")
    return manifest_yaml(args.url, name=config.programme_name[:NAME_LENGTH]).rstrip("\n")


COMMAND = Command("slack-manifest", "print the Slack app manifest (YAML)", add_arguments, run)
