"""The Slack app manifest: paste it at api.slack.com/apps → "From a manifest".

``tandem slack-manifest --url https://HOST`` prints it; the app is named after
the programme (app.yaml's ``programme.name``). In OAuth mode (``SLACK_MODE=oauth``
or ``--mode oauth``) it adds the redirect URL, org-wide deployment for
Enterprise Grid, token rotation and the installation's lifecycle events.
"""

from __future__ import annotations

import argparse
import os
from typing import Any
from urllib.parse import urlparse

import yaml

from bot.core.config import AppConfig
from bot.core.errors import COMMAND_LINE, ConfigError
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
    "channels:manage",   # add the juniors to the mentors' channel (app.yaml mentors_channel)
]


#: Slack's limit for an app's name and its bot's display name.
NAME_LENGTH = 35


#: Events an OAuth-mode app needs to keep its installations right.
LIFECYCLE_EVENTS = ["app_uninstalled", "tokens_revoked", "team_access_granted",
                    "team_access_revoked"]


def directory_scopes(config: AppConfig) -> list[str]:
    """What reading the company directory needs besides: e-mails (the CSV import finds
    people with users.lookupByEmail; profiles carry them) and custom profile fields."""
    chosen = config.directory
    scopes = ["users:read.email"] if chosen.csv_columns or chosen.slack_fields else []
    return scopes + (["users.profile:read"] if chosen.slack_fields else [])


def manifest(url: str, name: str = "Tandem", oauth: bool = False,
             scopes: list[str] | None = None) -> dict[str, Any]:
    from adapters.slack import REDIRECT_ROUTE, ROUTE

    base = url.rstrip("/")
    events = f"{base}{ROUTE}"
    found = _manifest(events, name)
    found["oauth_config"]["scopes"]["bot"] = [*BOT_SCOPES, *(scopes or [])]
    if oauth:
        found["oauth_config"]["redirect_urls"] = [f"{base}{REDIRECT_ROUTE}"]
        found["settings"]["event_subscriptions"]["bot_events"] += LIFECYCLE_EVENTS
        found["settings"]["org_deploy_enabled"] = True
        found["settings"]["token_rotation_enabled"] = True
    return found


def _manifest(events: str, name: str) -> dict[str, Any]:
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
            # The survey's type-ahead department search asks at the same address.
            "interactivity": {"is_enabled": True, "request_url": events,
                              "message_menu_options_url": events},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(url: str, name: str = "Tandem", oauth: bool = False,
                  scopes: list[str] | None = None) -> str:
    text: str = yaml.safe_dump(manifest(url, name, oauth, scopes), sort_keys=False,
                               allow_unicode=True)
    return text


# -- tandem slack-manifest ------------------------------------------------------------------

def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--url", required=True, help="public base URL, https://HOST")
    command.add_argument("--mode", choices=("token", "oauth"), default=None,
                         help="token: one workspace; oauth: installs through /slack/install "
                              "(default: SLACK_MODE, else token)")


def run(args: argparse.Namespace, config: AppConfig) -> str:
    parsed = urlparse(args.url)
    if parsed.scheme != "https" or not parsed.netloc:
        raise ConfigError(COMMAND_LINE, "--url", "config.problem.https_host", value=args.url)
    mode = args.mode or (os.environ.get("SLACK_MODE", "").strip().lower() or "token")
    return manifest_yaml(args.url, name=config.programme_name[:NAME_LENGTH],
                         oauth=mode == "oauth", scopes=directory_scopes(config)).rstrip("\n")


COMMAND = Command("slack-manifest", "print the Slack app manifest (YAML)", add_arguments, run)
