"""``tandem demo``: one round of a programme, told as a timeline, on a local platform.

Synthetic employees go through the real flows on a real SQLite database, from
the sign-up announcement to the report; the rhythm runs day by day on the
demo's own clock. The output opens with a summary for the coordinator, then
every message in date order with who saw it and where (DM, group DM, channel).
Each person sees their own language; the narration follows ``--language``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from pathlib import Path
from typing import TextIO

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.core.i18n import t
from bot.core.settings import Settings
from bot.demo.cast import (
    CHANNEL_ID,
    CHANNEL_NAME,
    COORDINATOR,
    HR_COLUMNS,
    JUNIORS,
    LATE,
    NAYSAYER,
    ON_A_BREAK,
    ORG,
    Employee,
)
from bot.demo.script import Story
from bot.demo.timeline import RecordingMessenger, Timeline
from bot.platforms import load_app_config
from conversations import figures as figs
from conversations.context import FlowContext
from storage import rounds
from storage.db import Database

REPO_CONFIG = Path(__file__).resolve().parent.parent.parent / "app.yaml"


@dataclass
class DemoOptions:
    language: str = "en"
    quiet: bool = False
    person: str | None = None
    #: Keep the database at this path (else a temporary file, deleted at the end).
    keep: Path | None = None
    #: Where the report goes (default: beside the kept database, or a new folder).
    report_dir: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)


def demo_config(language: str) -> AppConfig:
    path = Path(os.environ.get("TANDEM_CONFIG") or Settings().config_path)
    config = load_app_config(path if path.exists() else REPO_CONFIG)
    # The demo shows the fit check after the first meeting, whatever app.yaml says.
    rhythm = replace(config.rhythm, enabled=config.rhythm.enabled | {"fit_check"})
    return replace(
        config,
        rhythm=rhythm,
        default_language=language,
        coordinators={**config.coordinators, "local": (COORDINATOR.user_id,)},
        channels={**config.channels, "local": (CHANNEL_ID,)},
        directory=replace(config.directory, csv_columns=HR_COLUMNS),
    )


async def run_demo(options: DemoOptions, out: TextIO) -> Path:
    """Play the round; print summary and timeline; return the report's path."""
    config = demo_config(options.language)
    with tempfile.TemporaryDirectory(prefix="tandem-demo-") as folder:
        path = options.keep or Path(folder) / "demo.db"
        if options.keep is not None and options.keep.exists():
            options.keep.unlink()  # a fresh round each time
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await db.migrate()
            report_dir = options.report_dir or (
                path.parent if options.keep else Path(tempfile.mkdtemp(prefix="tandem-demo-")))
            return await _play(config, db, options, report_dir, out)
        finally:
            await db.close()


async def _play(config: AppConfig, db: Database, options: DemoOptions, report_dir: Path,
                out: TextIO) -> Path:
    from bot.report import html

    language = options.language
    clock = FixedClock(datetime.combine(config.round.signup_opens.date(), time(9),
                                        tzinfo=config.timezone))
    names = {p.user_id: p.name for p in (*ORG, COORDINATOR)}
    timeline = Timeline(clock, lambda user_id: names.get(user_id, user_id), config.timezone)
    messenger = RecordingMessenger(timeline, {CHANNEL_ID: CHANNEL_NAME})
    ctx = FlowContext(config, clock, db, {messenger.platform: messenger})
    story = Story(ctx, clock, messenger, timeline, language)
    await story.play()

    async with db.session() as session:
        current = await rounds.round_named(session, config.round, config.round.name,
                                           clock.now())
    assert current is not None
    found = figs.programme(config, await figs.load(db, current), clock.now())
    report = report_dir / f"tandem-report-{config.round.name}.html"
    report.write_text(html.render(config, found, language), encoding="utf-8")

    _summary(out, config, story, found, report, options, clock.now())
    if not options.quiet:
        out.write("\n" + t(language, "demo.timeline_title") + "\n")
        timeline.render(out, language, options.person)
    return report


def _summary(out: TextIO, config: AppConfig, story: Story, found: figs.Figures, report: Path,
             options: DemoOptions, now: datetime) -> None:
    """What happened, for the coordinator: the same figures as ``tandem report``."""
    lang = options.language
    seniors = sum(1 for p in ORG if p.role == "mentee")
    rule = "=" * 72

    def line(key: str, **params: object) -> None:
        out.write("  " + t(lang, key, **params) + "\n")

    out.write(rule + "\n" + t(lang, "demo.summary_title", programme=config.programme_name,
                              round=config.round.name) + "\n" + rule + "\n")
    line("demo.summary.people", signups=found.signups, seniors=seniors,
         juniors=found.signups - seniors, first=story.first_signup, last=story.last_signup)
    line("demo.summary.directory", people=story.directory_people, day=story.directory_on,
         apart="; ".join(story.kept_apart) or "–")
    line("demo.summary.tandems", tandems=story.confirmed, day=story.confirmed_on,
         unmatched=story.unmatched)
    line("demo.summary.late", name=LATE.name, day=story.late_on, matched=story.late_matched_on)
    line("demo.summary.fit", name=story.people[NAYSAYER].name, day=story.fit_no_on)
    line("demo.summary.break", name=story.people[ON_A_BREAK].name, day=story.break_on,
         until=story.break_until)
    line("demo.summary.meetings", meetings=found.meetings, reflections=story.reflections,
         months=found.months_finished, total=found.months_total)
    line("demo.summary.attention", help_day=story.help_on, stalled=found.stalled,
         stalled_day=story.stalled_on)
    line("demo.summary.evaluation", answered=found.evaluation.respondents,
         invited=story.evaluations_invited)
    line("demo.summary.report", path=report)
    if options.keep is not None:
        line("demo.summary.same_report", url=f"sqlite+aiosqlite:///{options.keep}",
             round=config.round.name, at=now.isoformat(timespec="minutes"), language=lang)
    out.write(rule + "\n")


__all__ = ["JUNIORS", "DemoOptions", "Employee", "demo_config", "run_demo"]
