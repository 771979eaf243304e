"""The rhythm of a round: everything due at an instant, sent exactly once.

Who sees what, in order (each step optional in app.yaml ``rhythm.messages``):
1. Sign-up opens: the programme channels get an announcement with how to join
   and a "Sign up" button; some days before it closes, a reminder.
2. Sign-up closes: the coordinators are told how many juniors and seniors
   signed up and are asked to run the matching.
3. Kick-off, on the round's first day: each tandem gets the kick-off guide.
4. Every month: each tandem gets its meeting nudge with a topic suggestion and
   "We met" / "Not yet, remind me in a week" / "We need help". A tandem that has
   not met for ``stalled_after_periods`` months is flagged to the coordinators,
   once. "Remind me" comes back as a one-off reminder a week later.
5. Half-way: each participant gets a short pulse ("How is it going?").
6. Wrap-up, on the round's last day: each participant gets the closing
   evaluation, then the channels get a thank-you with the round's outcome
   (counts only, nothing private).

``run_due(ctx, now)`` sends whatever is due at ``now``; the scheduler, ``tandem
run-due`` and the demo only call it. Missed messages go out late only within
``rhythm.grace``; of missed nudges only the latest is sent.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from bot.core.i18n import t
from conversations import announce, outbox, privacy
from conversations.context import FlowContext
from conversations.introductions import guide
from conversations.messages import Button, Message, Paragraph, command_button
from conversations.outbox import Sent
from conversations.schedule import RoundDates, in_grace, zone_of
from conversations.summary import format_day, topic_labels
from conversations.tandem_delivery import (
    Compose,
    group_capable,
    to_channels,
    to_coordinators,
    to_person,
    to_tandem,
)
from storage import checkins, deliveries, participants, processed_events, rounds, tandems
from storage.models import Participant, ParticipantStatus, Round, RoundStatus
from storage.tandems import TandemPeople

#: How many sends run at once: one slow recipient never holds up the batch.
PARALLEL_SENDS = 16

CHECKIN_MET, CHECKIN_LATER, CHECKIN_HELP = "checkin.met", "checkin.later", "checkin.help"
PULSE_GOOD, PULSE_MEH, PULSE_HELP = "pulse.good", "pulse.meh", "pulse.help"
EVALUATE = "evaluation.open"


@dataclass
class DueReport:
    at: datetime
    sent: Counter[str] = field(default_factory=Counter)

    def count(self, kind: str, results: list[Sent] | Sent) -> None:
        for result in results if isinstance(results, list) else [results]:
            self.sent[f"{kind}.{result.value}"] += 1

    def summary(self) -> str:
        done = ", ".join(f"{k}: {v}" for k, v in sorted(self.sent.items()))
        return f"due at {self.at.isoformat()}: " + (done or "nothing")


def _zones(ctx: FlowContext, people: tuple[Participant, ...]) -> list[ZoneInfo]:
    return [zone_of(p.timezone, ctx.config.timezone) for p in people]


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
    token = outbox.settled.set(frozenset(known))
    try:
        await _run(ctx, current, pairs, now, report)
    finally:
        outbox.settled.reset(token)
    return report


async def _run(ctx: FlowContext, current: Round, pairs: list[TandemPeople], now: datetime,
               report: DueReport) -> None:
    dates = RoundDates.of(current, ctx.config.timezone)
    await announce.run_scheduled(ctx, current.id, now, report.count)
    await _signup_messages(ctx, current, dates, now, report)
    if pairs:
        await _tandem_messages(ctx, current, dates, pairs, now, report)
        await _pulse_and_wrapup(ctx, current, dates, pairs, now, report)


async def _parallel(ctx: FlowContext, jobs: list[Callable[[], Awaitable[None]]]) -> None:
    gate = asyncio.Semaphore(PARALLEL_SENDS)

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            # On shutdown nothing new is claimed; the next run (here or on another
            # instance) picks up what is left.
            if not ctx.stopping.is_set():
                await job()

    await asyncio.gather(*(run(job) for job in jobs))


async def _signup_messages(ctx: FlowContext, current: Round, dates: RoundDates,
                           now: datetime, report: DueReport) -> None:
    rhythm, enabled = ctx.config.rhythm, ctx.config.rhythm.enabled
    zone = ctx.config.timezone
    opens = current.signup_opens_at.astimezone(zone).date()
    closes = current.signup_closes_at.astimezone(zone).date()
    last_day = closes - timedelta(days=1)

    def announcement(title_key: str, body_key: str) -> Callable[[str], Message]:
        def compose(language: str) -> Message:
            return Message(
                title=t(language, title_key, round=current.name),
                blocks=(Paragraph(t(language, body_key, programme=ctx.config.programme_name,
                                    round=current.name, closes=format_day(last_day, language),
                                    starts=format_day(dates.start, language))),),
                buttons=(Button(command_button("signup"), t(language, "rhythm.signup_button"),
                                style="primary"),),
            )
        return compose

    if "signup_opened" in enabled and in_grace(dates.lifecycle_at(opens, rhythm), now, rhythm):
        await to_channels(ctx, f"signup-opened:{current.id}", current.id,
                          announcement("rhythm.signup_opened.title", "rhythm.signup_opened.body"))
        report.sent["signup_opened"] += 1
    reminder_day = closes - timedelta(days=rhythm.signup_reminder_days)
    if ("signup_reminder" in enabled and reminder_day > opens
            and in_grace(dates.lifecycle_at(reminder_day, rhythm), now, rhythm)):
        await to_channels(ctx, f"signup-reminder:{current.id}", current.id,
                          announcement("rhythm.signup_reminder.title",
                                       "rhythm.signup_reminder.body"))
        report.sent["signup_reminder"] += 1
    if "signup_closed" in enabled and in_grace(dates.lifecycle_at(closes, rhythm), now, rhythm):
        async with ctx.db.session() as session:
            counts = await participants.signups_by_role(session, current.id)

        def closed(language: str) -> Message:
            cmd = "/tandem " if "slack" in ctx.messengers else ""
            return Message.text(t(language, "rhythm.signup_closed", round=current.name,
                                  juniors=counts.get("mentor", 0),
                                  seniors=counts.get("mentee", 0), cmd=cmd))

        await to_coordinators(ctx, f"signup-closed:{current.id}", current.id, closed)
        report.sent["signup_closed"] += 1


async def _tandem_messages(ctx: FlowContext, current: Round, dates: RoundDates,
                           pairs: list[TandemPeople], now: datetime, report: DueReport) -> None:
    rhythm = ctx.config.rhythm
    async with ctx.db.session() as session:
        answers = await checkins.checkins(session, current.id)
        reminders = await checkins.due_reminders(session, current.id, now)
    by_id = {pair.tandem.id: pair for pair in pairs}
    jobs: list[Callable[[], Awaitable[None]]] = []

    def nudging(pair: TandemPeople, period: int, reminder: bool) -> Compose:
        return lambda lang, _reader: nudge(ctx, pair, period, lang, reminder=reminder,
                                           total=dates.periods)

    for pair in pairs:
        zones = _zones(ctx, pair.people)
        for audience, audience_zones in _audiences(ctx, pair):
            if "kickoff" in rhythm.enabled and in_grace(
                dates.kickoff_at(rhythm, audience_zones), now, rhythm
            ):
                jobs.append(_job(report, "kickoff", _send(
                    ctx, pair, audience, current.id, "kickoff", f"kickoff:{pair.tandem.id}",
                    partial(guide, ctx, pair, current, title_key="kickoff.title"))))
            latest = dates.latest_nudge(rhythm, audience_zones, now)
            if latest is None:
                continue
            period, due = latest
            if in_grace(due, now, rhythm) and answers.get((pair.tandem.id, period)) != "met":
                jobs.append(_job(report, "nudge", _send(
                    ctx, pair, audience, current.id, "nudge",
                    f"nudge:{pair.tandem.id}:{period}", nudging(pair, period, reminder=False))))
        latest = dates.latest_nudge(rhythm, zones, now)
        if latest is None:
            continue
        stalled_since = _stalled_since(answers, pair.tandem.id, latest[0],
                                       rhythm.stalled_after_periods)
        if stalled_since is not None:
            jobs.append(_job(report, "stalled",
                             partial(_flag_stalled, ctx, current, pair, stalled_since)))
    ended = now >= dates.end_at(rhythm)
    for reminder in reminders:
        reminded = by_id.get(reminder.tandem_id)
        if reminded is None or answers.get((reminder.tandem_id, reminder.period)) == "met":
            continue
        if ended or not in_grace(reminder.due_at, now, rhythm):
            continue  # a reminder after the round, or long overdue, helps nobody
        jobs.append(_job(report, "reminder", partial(
            to_tandem, ctx, reminded, current.id, "reminder",
            f"reminder:{reminded.tandem.id}:{reminder.period}",
            nudging(reminded, reminder.period, reminder=True))))
    await _parallel(ctx, jobs)


def _audiences(ctx: FlowContext, pair: TandemPeople
               ) -> list[tuple[Participant | None, list[ZoneInfo]]]:
    """Who gets a tandem message at which local time: both at once in a shared chat
    (at the later of their two local times), or each in their own time zone."""
    if group_capable(ctx, pair):
        return [(None, _zones(ctx, pair.people))]
    return [(person, _zones(ctx, (person,))) for person in pair.people]


def _send(ctx: FlowContext, pair: TandemPeople, audience: Participant | None, round_id: int,
          kind: str, key: str, compose: Compose) -> Callable[[], Awaitable[list[Sent] | Sent]]:
    async def send() -> list[Sent] | Sent:
        if audience is None:
            return await to_tandem(ctx, pair, round_id, kind, key, compose)
        if audience.unreachable_at is not None or audience.status == ParticipantStatus.LEFT:
            return []
        return await to_person(ctx, audience, round_id, kind, f"{key}:{audience.id}", compose)

    return send


def _job(report: DueReport, kind: str, work: Callable[[], Awaitable[list[Sent] | Sent | None]]
         ) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        result = await work()
        if result is not None:
            report.count(kind, result)

    return run


def _stalled_since(answers: dict[tuple[int, int], str], tandem_id: int, period: int,
                   needed: int) -> int | None:
    """The first month of the current run without a meeting, once that run is
    ``needed`` finished months long (``period`` has just begun). One run is one
    flag: it is keyed by its first month, so it is sent once, not every day."""
    met = [p for p in range(1, period) if answers.get((tandem_id, p)) == "met"]
    since = (met[-1] + 1) if met else 1
    return since if period - since >= needed else None


async def _flag_stalled(ctx: FlowContext, current: Round, pair: TandemPeople,
                        since: int) -> list[Sent]:
    mentor, mentee = pair.people

    def compose(language: str) -> Message:
        return Message.text(t(language, "rhythm.stalled", round=current.name,
                              mentor=mentor.display_name or mentor.user_id,
                              mentee=mentee.display_name or mentee.user_id,
                              months=ctx.config.rhythm.stalled_after_periods))

    return await to_coordinators(ctx, f"stalled:{pair.tandem.id}:{since}", current.id,
                                 compose)


def suggested_topic(ctx: FlowContext, pair: TandemPeople, period: int, language: str) -> str:
    """A topic for this month: the ones the junior offers and the senior wants first,
    in turn; then the senior's other wishes."""
    offered = list(pair.tandem.explanation.get("offered_wished") or [])
    wished = [tp for tp in pair.mentee.topics if tp not in offered]
    topics = offered + wished or list(pair.mentor.topics)
    if not topics:
        return t(language, "nudge.topic_open")
    return topic_labels(ctx.config, [topics[(period - 1) % len(topics)]], language)


def nudge(ctx: FlowContext, pair: TandemPeople, period: int, language: str,
          reminder: bool, total: int) -> Message:
    value = f"{pair.tandem.id}:{period}"
    prefix = "reminder" if reminder else "nudge"
    return Message(
        title=t(language, f"{prefix}.title", month=period),
        blocks=(
            Paragraph(t(language, f"{prefix}.body", month=period, total=total)),
            Paragraph(t(language, "nudge.topic",
                        topic=suggested_topic(ctx, pair, period, language))),
        ),
        buttons=(
            Button(CHECKIN_MET, t(language, "checkin.met_button"), value, "primary"),
            Button(CHECKIN_LATER, t(language, "checkin.later_button"), value),
            Button(CHECKIN_HELP, t(language, "checkin.help_button"), value),
        ),
    )


async def _pulse_and_wrapup(ctx: FlowContext, current: Round, dates: RoundDates,
                            pairs: list[TandemPeople], now: datetime, report: DueReport
                            ) -> None:
    rhythm = ctx.config.rhythm
    people = [p for pair in pairs for p in pair.people]
    jobs: list[Callable[[], Awaitable[None]]] = []
    pulse_day = dates.pulse_day()
    if ("pulse" in rhythm.enabled and pulse_day is not None
            and in_grace(dates.lifecycle_at(pulse_day, rhythm), now, rhythm)):
        for person in people:
            jobs.append(_job(report, "pulse", partial(
                to_person, ctx, person, current.id, "pulse", f"pulse:{current.id}:{person.id}",
                lambda lang, _reader: pulse(current, lang))))
    end_at = dates.end_at(rhythm)
    if "wrapup" in rhythm.enabled and in_grace(end_at, now, rhythm):
        for person in people:
            jobs.append(_job(report, "evaluation", partial(
                to_person, ctx, person, current.id, "evaluation",
                f"evaluation:{current.id}:{person.id}",
                lambda lang, _reader: evaluation_invite(current, lang))))
    await _parallel(ctx, jobs)
    if "wrapup" in rhythm.enabled and in_grace(end_at, now, rhythm):
        await _wrapup_channels(ctx, current, pairs)
        report.sent["wrapup"] += 1
    if now >= end_at and current.status != RoundStatus.ENDED:
        async with ctx.db.session() as session:
            await rounds.end_round(session, current.id)


def pulse(current: Round, language: str) -> Message:
    value = str(current.id)
    return Message(
        title=t(language, "pulse.title"),
        blocks=(Paragraph(t(language, "pulse.body", round=current.name)),),
        buttons=(
            Button(PULSE_GOOD, t(language, "pulse.good"), value, "primary"),
            Button(PULSE_MEH, t(language, "pulse.meh"), value),
            Button(PULSE_HELP, t(language, "checkin.help_button"), value),
        ),
    )


def evaluation_invite(current: Round, language: str) -> Message:
    return Message(
        title=t(language, "evaluation.title", round=current.name),
        blocks=(Paragraph(t(language, "evaluation.invite", round=current.name)),),
        buttons=(Button(EVALUATE, t(language, "evaluation.button"), str(current.id),
                        "primary"),),
    )


async def _wrapup_channels(ctx: FlowContext, current: Round, pairs: list[TandemPeople]
                           ) -> None:
    async with ctx.db.session() as session:
        answers = await checkins.checkins(session, current.id)
    meetings = sum(1 for answer in answers.values() if answer == "met")
    met_once = len({tandem for (tandem, _), answer in answers.items() if answer == "met"})

    def compose(language: str) -> Message:
        return Message(
            title=t(language, "wrapup.title", round=current.name),
            blocks=(Paragraph(t(language, "wrapup.body", programme=ctx.config.programme_name,
                                round=current.name, tandems=len(pairs), meetings=meetings,
                                met_once=met_once)),),
        )

    await to_channels(ctx, f"wrapup:{current.id}", current.id, compose)
