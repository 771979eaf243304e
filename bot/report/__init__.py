"""``tandem report``: the programme's figures as a board report (HTML) or a CSV.

Aggregates only, in app.yaml's default language; see ``conversations.figures``
for what is counted and what is hidden.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.core.clock import Clock, SystemClock
from bot.core.config import AppConfig
from bot.core.errors import COMMAND_LINE, ConfigError
from bot.core.settings import Settings
from conversations import figures as figs
from storage import rounds
from storage.db import Database

FORMATS = ("html", "csv")


async def write_report(settings: Settings, config: AppConfig, round_name: str, fmt: str,
                       out: Path, clock: Clock | None = None) -> Path:
    """Write the round's report to ``out``; a wrong round or format is a ConfigError."""
    from bot.report import csv, html

    if fmt not in FORMATS:
        raise ConfigError(COMMAND_LINE, "--format", "config.problem.format", value=fmt)
    now = (clock or SystemClock()).now()
    db = Database(settings.database_url, **settings.database_options)
    try:
        await db.ensure_current()
        async with db.session() as session:
            current = await rounds.round_named(session, config.round, round_name, now)
        if current is None:
            raise ConfigError(COMMAND_LINE, "--round", "config.problem.no_round",
                              value=round_name, round=config.round.name)
        found = figs.programme(config, await figs.load(db, current), now)
    finally:
        await db.close()
    language = config.default_language
    if fmt == "html":
        content = html.render(config, found, language).encode("utf-8")
    else:
        content = csv.render(config, found, language)
    await asyncio.to_thread(out.write_bytes, content)
    return out
