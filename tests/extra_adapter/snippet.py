"""``tandem webchat-snippet --url https://HOST``: the HTML a page embeds (its packaging)."""

from __future__ import annotations

import argparse
import html

from bot.core.config import AppConfig


def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--url", required=True, help="public base URL, https://HOST")


def run(args: argparse.Namespace, config: AppConfig) -> str:
    from tests.extra_adapter import ROUTE

    endpoint = html.escape(args.url.rstrip("/") + ROUTE, quote=True)
    title = html.escape(config.programme_name, quote=True)
    return f'<tandem-webchat endpoint="{endpoint}" title="{title}"></tandem-webchat>'
