"""``tandem match``: the matching from the command line, with a progress bar."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from bot.core.clock import SystemClock
from bot.core.config import AppConfig
from bot.core.errors import COMMAND_LINE, ConfigError, UserError
from bot.core.i18n import t
from bot.core.settings import Settings
from conversations import matching, running_round
from conversations.context import FlowContext
from conversations.messages import Facts, Paragraph
from storage import participants, rounds
from storage.db import Database
from storage.models import RoundStatus


class ProgressBar:
    """A one-line bar on stderr; silent when the work is too small to notice."""

    def __init__(self, out: TextIO, width: int = 30) -> None:
        self.out, self.width, self.shown = out, width, -1

    def __call__(self, done: int, total: int) -> None:
        if total < 50:
            return
        filled = self.width * done // max(total, 1)
        if filled == self.shown:
            return
        self.shown = filled
        bar = "#" * filled + "." * (self.width - filled)
        self.out.write(f"\rmatching [{bar}] {100 * done // max(total, 1):3d}%")
        if done >= total:
            self.out.write("\n")
        self.out.flush()


async def run_match(settings: Settings, config: AppConfig, round_name: str, dry_run: bool,
                    csv_path: Path | None, out: TextIO = sys.stdout, *,
                    language: str = "en") -> int:
    """The proposal on ``out`` in the CLI's ``language`` (its names and reasons as stored)."""
    db = Database(settings.database_url, **settings.database_options)
    try:
        await db.ensure_current()
        ctx = FlowContext(config, SystemClock(), db, {})
        async with db.session() as session:
            current = await rounds.round_named(session, config.round, round_name,
                                               ctx.clock.now())
        if current is None:
            raise ConfigError(COMMAND_LINE, "--round", "config.problem.no_round",
                              value=round_name, round=config.round.name)
        if current.status == RoundStatus.ENDED:
            raise UserError("match.already_confirmed", round=current.name, count="?")
        async with db.reading() as session:
            if current.status == RoundStatus.MATCHED:  # matching into the running round
                anyone = bool((await running_round.waiting(session, current)).people)
            else:
                anyone = any((await participants.signups_by_role(session, current.id)).values())
        if not anyone:
            nobody = ("running.cli_nobody" if current.status == RoundStatus.MATCHED
                      else "match.cli_nobody")
            out.write(t(language, nobody, round=current.name) + "\n")
            return 0
        _, stored, proposal = await matching.compute(
            ctx, current.id, "cli", save=not dry_run, progress=ProgressBar(sys.stderr)
        )
        title = (t(language, "match.title", number=proposal.number) if proposal
                 else t(language, "match.cli_dry_run_title"))
        out.write(title + "\n")
        if stored.get(running_round.RUNNING):
            out.write(t(language, "running.proposal_note", round=current.name) + "\n")
        for block in matching.summary_blocks(ctx, stored, language, prefix=None):
            if isinstance(block, Facts):
                out.writelines(f"{label}: {value}\n" for label, value in block.items)
            elif isinstance(block, Paragraph):
                out.write(block.text + "\n")
        if csv_path is not None:
            await asyncio.to_thread(
                csv_path.write_bytes, matching.proposal_csv(ctx, stored, language)
            )
            out.write(f"CSV: {csv_path}\n")
        if proposal is not None:
            out.write(t(language, "match.cli_saved", number=proposal.number) + "\n")
        return 0
    finally:
        await db.close()
