"""The cadence's trigger: APScheduler asks "what is due now?" every tick.

APScheduler decides nothing and stores nothing: ``run_due`` asks the database
what is due at the instant and the delivery table records what went out, so a
restart, a double trigger or a second instance never loses or doubles a
message. (APScheduler's own SQLAlchemyJobStore is sync-only and cannot be
shared between instances, so it is not used.)

With several instances on one database, only the holder of the ``scheduler``
lease runs the ticks; it renews the lease three times per lease period, and
another instance takes over once a dead holder's lease has run out. The
delivery table stays the final guard against doubles.

On shutdown the scheduler stops starting new sends, lets the ones in flight
finish (up to ``DRAIN_SECONDS``) and hands the lease back at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.core import metrics
from bot.host.runtime import Runtime
from conversations.rhythm import run_due
from storage import leases

log = logging.getLogger(__name__)
LEASE = "scheduler"
DRAIN_SECONDS = 20.0


class RhythmScheduler:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leader = False
        self.ticks = 0
        self._running: asyncio.Task[None] | None = None
        #: When APScheduler meant the pending run-due tick to run (for the lag metric).
        self._scheduled_at: datetime | None = None
        self._lease_lock = asyncio.Lock()

    async def keep_lease(self) -> None:
        async with self._lease_lock:  # the start-up call and the first job may overlap
            await self._keep_lease()

    async def _keep_lease(self) -> None:
        ttl = self.runtime.config.rhythm.leader_lease
        try:
            async with self.runtime.db.session() as session:
                held = await leases.hold_lease(session, LEASE, self.holder,
                                               self.runtime.clock.now(), ttl)
        except Exception:  # the database is away: act as a follower until it is back
            log.exception("scheduler: could not renew the leader lease")
            held = False
        if held and not self.leader:
            log.info("scheduler: this instance now runs the cadence (%s)", self.holder)
            self.leader = True
            # Tick at once after a take-over, as its own job: the renewals must go on
            # while a long fan-out runs, or the lease would lapse under our feet.
            self.scheduler.modify_job("run-due", next_run_time=datetime.now(UTC))
        elif not held and self.leader:
            log.warning("scheduler: lost the leader lease; another instance runs the cadence")
            self.leader = False

    async def tick(self) -> None:
        if not self.leader or self.runtime.stopping.is_set():
            return
        if self._running is not None and not self._running.done():
            return  # the previous tick is still sending: it will catch up itself
        self._running = asyncio.current_task()
        lag, started = self._lag(), time.perf_counter()
        try:
            report = await run_due(self.runtime.ctx, self.runtime.clock.now())
        except Exception:  # a failed tick must not stop the next one
            metrics.tick(lag, time.perf_counter() - started, failed=True)
            log.exception("scheduler: run-due failed; retrying at the next tick")
            return
        finally:
            self._running = None
        metrics.tick(lag, time.perf_counter() - started, failed=False)
        self.ticks += 1
        if any(not key.endswith(".already") for key in report.sent):
            log.info("scheduler: %s", report.summary())
        elif report.sent:  # only what went out before: every tick within the grace says so
            log.debug("scheduler: %s", report.summary())

    def start(self) -> None:
        rhythm = self.runtime.config.rhythm
        now = datetime.now(UTC)
        self.scheduler.add_job(
            self.keep_lease, IntervalTrigger(seconds=max(1, rhythm.leader_lease.seconds // 3)),
            id="leader-lease", coalesce=True, max_instances=1, next_run_time=now,
        )
        self.scheduler.add_job(
            self.tick, IntervalTrigger(seconds=rhythm.tick_seconds, timezone=UTC),
            id="run-due", coalesce=True, max_instances=1,
            misfire_grace_time=rhythm.tick_seconds,
        )
        self.scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        self.scheduler.start()
        log.debug("scheduler: asking what is due every %s s", rhythm.tick_seconds)

    def _submitted(self, event: JobSubmissionEvent) -> None:
        # Runs as APScheduler hands the job to the event loop, before the tick starts.
        if event.job_id == "run-due" and event.scheduled_run_times:
            self._scheduled_at = event.scheduled_run_times[-1]

    def _lag(self) -> float | None:
        """Seconds this tick started after its scheduled time; None for a tick run
        directly (after a lease take-over), which had no scheduled time."""
        scheduled, self._scheduled_at = self._scheduled_at, None
        return None if scheduled is None else (datetime.now(UTC) - scheduled).total_seconds()

    async def stop(self) -> None:
        self.runtime.stopping.set()
        if self.scheduler.running:
            self.scheduler.pause()
        running = self._running
        if running is not None and not running.done():
            # Sends in flight finish; nothing new is claimed once ``stopping`` is set.
            # Only then is APScheduler shut down: it would cancel the tick midway.
            await asyncio.wait([running], timeout=DRAIN_SECONDS)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.leader:
            async with self.runtime.db.session() as session:
                await leases.release_lease(session, LEASE, self.holder)
            self.leader = False
