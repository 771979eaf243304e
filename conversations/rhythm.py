"""The rhythm of a round: everything due at an instant, sent exactly once.

``run_due(ctx, now)`` sends whatever is due at ``now``; the scheduler, ``tandem
run-due`` and the demo only call it. It loads what every kind needs once, then
asks each kind of ``conversations.scheduled.KINDS`` (the registry, which says
who sees what and when; add a scheduled message there) what is due, and sends
each occasion through the outbox. Missed messages go out late only within
``rhythm.grace``; of missed nudges only the latest is sent.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.i18n import t
from conversations import breaks, meeting_events, outbox, owed, privacy
from conversations.context import FlowContext
from conversations.outbox import Sent
from conversations.owed import Owed
from conversations.schedule import RoundDates
from conversations.scheduled import BY_NAME, KINDS, wrapup_outcome
from conversations.scheduling import Due, Kind, Situation, deliver, owe, owe_decided
from storage import checkins, deliveries, meetings, processed_events, rounds, tandems
from storage.db import Session
from storage.models import Participant, Round, RoundStatus
from storage.tandems import TandemPeople

#: How many sends run at once: one slow recipient never holds up the batch.
PARALLEL_SENDS = 16
#: How many occasions of a kind with a decision (a nudge and its guide) are decided
#: and owed in one transaction (``scheduling.owe_decided``). One transaction per
#: tandem made committing most of a fan-out's cost; a larger chunk saves little more,
#: and is what a stop waits for (its messages are claimed: they are sent).
DECIDE_CHUNK = 128


@dataclass
class DueReport:
    at: datetime
    sent: Counter[str] = field(default_factory=Counter)

    def count(self, kind: str, results: list[Sent] | Sent) -> None:
        for result in results if isinstance(results, list) else [results]:
            self.sent[f"{kind}.{result.value}"] += 1

    def outcomes(self) -> dict[str, Counter[str]]:
        """Per kind of message, how many were sent, already sent (skipped), postponed
        (a later run retries) or given up (unreachable)."""
        kinds: dict[str, Counter[str]] = {}
        for key, number in sorted(self.sent.items()):
            kind, _, outcome = key.rpartition(".")
            kinds.setdefault(kind or outcome, Counter())[outcome if kind else "sent"] += number
        return kinds

    def summary(self, language: str = "en") -> str:
        """One line per kind for the operator (``tandem run-due``, the scheduler's log),
        in the operator's language (``cli.due.*``)."""
        lines = [f"  {kind}: " + ", ".join(t(language, f"cli.due.{o}", count=counts[o])
                                           for o in ("sent", "already", "retry", "unreachable")
                                           if counts[o])
                 for kind, counts in self.outcomes().items()]
        return t(language, "cli.due.header", at=self.at.isoformat()) + (
            "\n" + "\n".join(lines) if lines else t(language, "cli.due.nothing"))


async def run_due(ctx: FlowContext, now: datetime | None = None) -> DueReport:
    now = now or ctx.clock.now()
    report = DueReport(now)
    # Retention (app.yaml privacy.retention_months) first: nobody erased now is loaded below.
    await privacy.purge_expired(ctx, now)
    async with ctx.db.session() as session:
        current = await rounds.sync_round(session, ctx.config.round, now)
        pairs = await tandems.active_tandems(session, current.id) \
            if current.status != RoundStatus.OPEN else []
        known = await deliveries.settled_keys(session, current.id, now)
        # Redeliveries come within minutes; a week of event ids is plenty.
        await processed_events.forget_events_before(session, now - timedelta(days=7))
        situation = Situation(ctx, now, current, RoundDates.of(current, ctx.config.timezone),
                              pairs)
        if pairs:
            situation.answers = await checkins.checkins(session, current.id)
            situation.reminders = await checkins.due_reminders(session, current.id, now)
            situation.meetings = await meetings.scheduled(session, current.id)
    # Breaks that end now: the resume and its notes are owed together, sent below.
    await breaks.resume_due(ctx, now)
    # Owed messages a crash, an outage or a dead sender left behind go out first.
    tried = await owed.run_owed(ctx, now)
    if tried:
        report.sent["owed"] += tried
    # Calendar events owed (Microsoft Graph) that a crash or an outage left unmade.
    await meeting_events.run_owed_events(ctx)
    token = outbox.settled.set(frozenset(known))
    try:
        for kind in KINDS:
            if kind.on(situation):
                await _send_all(situation, kind, await kind.when(situation), report)
    finally:
        outbox.settled.reset(token)
    ended = now >= situation.dates.end_at(ctx.config.rhythm)
    if pairs and ended and current.status != RoundStatus.ENDED:
        async with ctx.db.session() as session:
            await rounds.end_round(session, current.id)
    return report


async def _send_all(s: Situation, kind: Kind, occasions: list[Due], report: DueReport) -> None:
    """Each occasion once, ``PARALLEL_SENDS`` at a time."""
    if kind.decided:
        await _send_decided(s, kind, occasions, report)
        return
    gate = asyncio.Semaphore(PARALLEL_SENDS)

    async def run(due: Due) -> None:
        async with gate:
            # On shutdown nothing new is claimed; the next run (here or on another
            # instance) picks up what is left.
            if not s.ctx.stopping.is_set():
                report.count(kind.name, await deliver(s, kind, due))

    await asyncio.gather(*(run(due) for due in occasions))


async def _send_decided(s: Situation, kind: Kind, occasions: list[Due],
                        report: DueReport) -> None:
    """Occasions with a decision, ``DECIDE_CHUNK`` decided and owed per transaction,
    then sent ``PARALLEL_SENDS`` at a time. The next chunk is decided while the last
    sends of the one before are under way, so no more than a chunk and a gate's worth
    are ever claimed and not yet sent."""
    gate = asyncio.Semaphore(PARALLEL_SENDS)

    async def send(one: Awaitable[Sent | list[Sent]]) -> None:
        async with gate:
            report.count(kind.name, await one)

    tail: list[asyncio.Task[None]] = []
    for start in range(0, len(occasions), DECIDE_CHUNK):
        # On shutdown nothing new is claimed; what this sender claimed is sent, and
        # the next run (here or on another instance) picks up the rest.
        if s.ctx.stopping.is_set():
            break
        owing = await owe_decided(s, kind, occasions[start:start + DECIDE_CHUNK])
        report.count(kind.name, [Sent.ALREADY] * owing.settled)
        sends = tail + [asyncio.create_task(send(owed.deliver_claimed(s.ctx, o)))
                        for o in owing.claimed]
        sends += [asyncio.create_task(send(owed.deliver(s.ctx, [key])))
                  for key in owing.before]
        await asyncio.gather(*sends[:-PARALLEL_SENDS])
        tail = sends[-PARALLEL_SENDS:]
    await asyncio.gather(*tail)


async def wrap_up_owed(ctx: FlowContext, session: Session, current: Round,
                       people: list[Participant], pairs: list[TandemPeople]) -> list[Owed]:
    """The round's end, now (a coordinator ended it early): the evaluation to
    ``people`` and the channels' thank-you, as owed in the transaction that ends the
    round, with the same delivery keys as at its planned end, so nobody gets them
    twice."""
    answers = await checkins.checkins(session, current.id)
    s = Situation(ctx, ctx.clock.now(), current, RoundDates.of(current, ctx.config.timezone),
                  pairs, answers)
    messages = [o for person in people for o in owe(s, BY_NAME["evaluation"], Due(person=person))]
    return messages + owe(s, BY_NAME["wrapup"], wrapup_outcome(s))
