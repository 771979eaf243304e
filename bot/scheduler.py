"""The cadence's trigger: APScheduler asks "what is due now?" every tick.

APScheduler decides nothing and stores nothing: ``run_due`` asks the database
what is due at the instant and the delivery table records what went out, so a
restart, a double trigger or a second instance never loses or doubles a
message. (APScheduler's own SQLAlchemyJobStore is sync-only and cannot be
shared between instances, so it is not used.)
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime import Runtime
from conversations.rhythm import run_due

log = logging.getLogger(__name__)


class RhythmScheduler:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.ticks = 0

    async def tick(self) -> None:
        try:
            report = await run_due(self.runtime.ctx, self.runtime.clock.now())
        except Exception:  # a failed tick must not stop the next one
            log.exception("scheduler: run-due failed; retrying at the next tick")
            return
        self.ticks += 1
        if report.sent:
            log.info("scheduler: %s", report.summary())

    def start(self) -> None:
        seconds = self.runtime.config.rhythm.tick_seconds
        self.scheduler.add_job(
            self.tick, IntervalTrigger(seconds=seconds, timezone=UTC), id="run-due",
            coalesce=True, max_instances=1, misfire_grace_time=seconds,
            next_run_time=datetime.now(UTC),
        )
        self.scheduler.start()
        log.info("scheduler: asking what is due every %s s", seconds)

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
