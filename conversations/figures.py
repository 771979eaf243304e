"""The programme's figures for one round: counts and averages, never a person's words.

Who sees what: nothing here sends anything. ``programme`` gives aggregates only
(no names, no text) for the chat ``report``, the dashboard and the board report
(``bot/report``); ``attention`` gives what only a coordinator may see, privately,
in their dashboard: the stalled tandems and the unreachable people by name, and
the reflections whose author chose "Me and the programme coordinators".

Privacy rules, in one place:
- A breakdown over a group smaller than ``report.min_group_size`` (app.yaml,
  default 5) is hidden (``None``, shown as "fewer than 5"): a topic chosen or
  discussed by fewer people or tandems, a month with fewer tandems running, a
  rating distribution or average over fewer authors, the evaluation answers of
  fewer respondents. An empty group (0) is shown: it identifies nobody.
- Totals (sign-ups by role, tandems, the funnel, stalled and unreachable counts)
  are programme-level numbers the coordinators already know from their work.
- Reflection ratings of every visibility are averaged: a number over many
  authors is an aggregate. Reflection *text* appears only in ``attention`` and
  only where the author chose visibility ``coordinators``; it is shown with the
  author's name, because that is what the author was promised ("the programme
  coordinators may read it") and a coordinator can only follow up on a note
  whose author they know. It never reaches the board report, the CSV or the chat
  ``report``: the author shared it with the coordinators, not with a board.
- Evaluation answers are totals only, whatever their stored visibility: the
  invitation promised "the coordinators only see totals".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.core.config import AppConfig
from conversations.schedule import RoundDates, add_months
from storage import checkins, meetings, participants, responses, tandems
from storage.db import Database
from storage.models import Participant, ParticipantStatus, Response, Round, Tandem, TandemStatus

FUNNEL = ("signed_up", "matched", "met_once", "met_every_month", "completed")
CONTINUE = ("same", "new", "no")


@dataclass(frozen=True)
class MonthFigures:
    month: int  # 1 is the round's first month
    first_day: date
    started: bool
    finished: bool
    tandems: int
    #: meetings held (check-ins "met") and meetings expected; None when hidden
    meetings: int | None
    expected: int
    #: meetings put in the calendar with Find a time; None when hidden
    scheduled: int | None = None

    @property
    def rate(self) -> float | None:
        if self.meetings is None or not self.expected:
            return None
        return self.meetings / self.expected


@dataclass(frozen=True)
class TopicFigures:
    topic_id: str
    #: people who chose the topic in the survey; None when hidden
    chosen: int | None
    #: meetings whose suggested topic it was; None when hidden
    discussed: int | None


@dataclass(frozen=True)
class Ratings:
    """Usefulness of the meetings (reflections, 1 to 5), of all visibilities."""

    ratings: int
    authors: int
    average: float | None
    #: how many ratings of 1, 2, 3, 4, 5; None when hidden
    distribution: tuple[int, int, int, int, int] | None


@dataclass(frozen=True)
class EvaluationFigures:
    respondents: int
    average: float | None
    distribution: tuple[int, int, int, int, int] | None
    recommend_percent: float | None
    #: same, new, no
    continue_counts: tuple[int, int, int] | None


@dataclass(frozen=True)
class FitFigures:
    """Answers to "Does this pairing work for you?" (``conversations.fit_check``)."""

    respondents: int = 0
    #: yes, not sure, no; None when hidden
    counts: tuple[int, int, int] | None = None


@dataclass(frozen=True)
class Figures:
    round_name: str
    as_of: datetime
    min_group: int
    starts: date
    ends: date
    months_total: int
    months_finished: int
    signups: int
    signups_by_role: tuple[tuple[str, int], ...]
    left: int
    tandems: int
    tandems_active: int
    meetings: int
    months: tuple[MonthFigures, ...]
    stalled: int
    unreachable: int
    ratings: Ratings
    funnel: tuple[tuple[str, int], ...]
    topics: tuple[TopicFigures, ...]
    evaluation: EvaluationFigures
    fit: FitFigures = FitFigures()

    def role(self, role: str) -> int:
        return dict(self.signups_by_role).get(role, 0)


@dataclass(frozen=True)
class SharedReflection:
    author: str
    month: int
    learned: str
    try_next: str
    rating: int | None


@dataclass(frozen=True)
class Attention:
    """For a coordinator's own eyes: who may need them, and what was shared with them."""

    stalled: tuple[tuple[str, str], ...]  # (junior, senior)
    unreachable: tuple[str, ...]
    shared: tuple[SharedReflection, ...]


@dataclass(frozen=True)
class RoundData:
    """Everything the figures are made of, read in one go."""

    current: Round
    people: tuple[Participant, ...]
    tandems: tuple[Tandem, ...]
    checkins: dict[tuple[int, int], str]
    responses: tuple[Response, ...]
    #: meetings in the calendar (Find a time) per period: counts only
    scheduled: Counter[int] = field(default_factory=Counter)


async def load(db: Database, current: Round) -> RoundData:
    async with db.session() as session:
        pairs = tuple(await tandems.round_tandems(session, current.id))
        member_ids = {t.mentor_id for t in pairs} | {t.mentee_id for t in pairs}
        people = tuple(await participants.in_round_or_tandems(session, current.id, member_ids))
        answers = await checkins.checkins(session, current.id)
        written = tuple(await responses.round_responses(session, current.id))
        scheduled = await meetings.scheduled_by_period(session, current.id)
    return RoundData(current, people, pairs, answers, written, scheduled)


def _hide(value: int, group: int, k: int) -> int | None:
    return value if group == 0 or group >= k else None


def _distribution(values: Iterable[int]) -> tuple[int, int, int, int, int]:
    counts = Counter(values)
    return (counts[1], counts[2], counts[3], counts[4], counts[5])


def topic_of_period(pair: tuple[Participant, Participant], tandem: Tandem, period: int
                    ) -> str | None:
    """The id of the topic a tandem's nudge suggested for ``period``: the same choice
    as ``conversations.scheduled.suggested_topic``, which shows its label."""
    mentor, mentee = pair
    offered = list(tandem.explanation.get("offered_wished") or [])
    wished = [tp for tp in mentee.topics if tp not in offered]
    topics = offered + wished or list(mentor.topics)
    return topics[(period - 1) % len(topics)] if topics else None


class _Calendar:
    def __init__(self, config: AppConfig, current: Round, now: datetime) -> None:
        self.dates = RoundDates.of(current, config.timezone)
        self.per_month = current.meetings_per_month
        zones = [config.timezone]
        self.started = sum(
            1 for p in range(1, self.dates.periods + 1)
            if self.dates.nudge_at(p, config.rhythm, zones) <= now)
        ended = now >= self.dates.end_at(config.rhythm)
        # A period is over when the next one has begun; the last one when the round ends.
        self.finished = self.dates.periods if ended else max(self.started - 1, 0)

    def month_of(self, period: int) -> int:
        return (period - 1) // self.per_month + 1


def programme(config: AppConfig, data: RoundData, now: datetime) -> Figures:
    """The round's aggregates as of ``now``; nothing in them names a person."""
    k = config.report.min_group_size
    calendar = _Calendar(config, data.current, now)
    dates = calendar.dates
    signed = [p for p in data.people if p.round_id == data.current.id]
    by_id = {p.id: p for p in data.people}
    met = {(t, p) for (t, p), answer in data.checkins.items() if answer == "met"}
    met_tandems = {t for t, _ in met}

    months: list[MonthFigures] = []
    for month in range(1, dates.months + 1):
        periods = range((month - 1) * calendar.per_month + 1, month * calendar.per_month + 1)
        held = sum(1 for t in data.tandems for p in periods if (t.id, p) in met)
        started = any(p <= calendar.started for p in periods)
        months.append(MonthFigures(
            month=month, first_day=add_months(dates.start, month - 1), started=started,
            finished=all(p <= calendar.finished for p in periods), tandems=len(data.tandems),
            meetings=_hide(held, len(data.tandems), k) if started else None,
            expected=len(data.tandems) * calendar.per_month if started else 0,
            scheduled=_hide(sum(data.scheduled[p] for p in periods), len(data.tandems), k),
        ))

    finished = calendar.finished
    every = {t.id for t in data.tandems
             if all((t.id, p) in met for p in range(1, finished + 1))} & met_tandems
    last = {t for t, p in met if p == dates.periods}
    evaluated = {r.participant_id for r in data.responses if r.kind == "evaluation"}

    def people_of(tandem_ids: set[int]) -> set[int]:
        return {pid for t in data.tandems if t.id in tandem_ids
                for pid in (t.mentor_id, t.mentee_id)}

    matched = people_of({t.id for t in data.tandems})
    funnel = (
        ("signed_up", len({p.id for p in signed} | matched)),
        ("matched", len(matched)),
        ("met_once", len(people_of(met_tandems))),
        ("met_every_month", len(people_of(every))),
        ("completed", len(people_of(last) | (evaluated & matched))),
    )

    stalled = 0
    need = config.rhythm.stalled_after_periods
    for tandem in data.tandems:
        if tandem.status != TandemStatus.ACTIVE or finished < need:
            continue
        if not any((tandem.id, p) in met for p in range(finished - need + 1, finished + 1)):
            stalled += 1

    return Figures(
        round_name=data.current.name, as_of=now, min_group=k, starts=dates.start,
        ends=dates.end, months_total=dates.months,
        months_finished=finished // calendar.per_month,
        signups=funnel[0][1],
        signups_by_role=tuple(sorted(Counter(p.role for p in signed).items())),
        left=sum(1 for p in signed if p.status == ParticipantStatus.LEFT),
        tandems=len(data.tandems),
        tandems_active=sum(1 for t in data.tandems if t.status == TandemStatus.ACTIVE),
        meetings=len(met), months=tuple(months), stalled=stalled,
        unreachable=sum(1 for p in data.people if p.unreachable_at is not None),
        ratings=_ratings(data.responses, k),
        funnel=funnel,
        topics=_topics(config, data, signed, by_id, met, k),
        evaluation=_evaluation(data.responses, k),
        fit=_fit(data.responses, k),
    )


def _fit(responses: Sequence[Response], k: int) -> FitFigures:
    """Counts only, and only over ``k`` people or more: a "no" is never traceable."""
    answers = Counter(str(r.answers.get("fit")) for r in responses if r.kind == "fit")
    total = sum(answers.values())
    if total < k or not total:
        return FitFigures(total, None)
    return FitFigures(total, (answers["yes"], answers["unsure"], answers["no"]))


def _ratings(responses: Sequence[Response], k: int) -> Ratings:
    rated = [r for r in responses if r.kind == "reflection" and r.rating is not None]
    authors = len({r.participant_id for r in rated})
    shown = authors >= k
    values = [int(r.rating) for r in rated if r.rating is not None]
    return Ratings(
        ratings=len(values), authors=authors,
        average=sum(values) / len(values) if shown and values else None,
        distribution=_distribution(values) if shown else None,
    )


def _topics(config: AppConfig, data: RoundData, signed: Sequence[Participant],
            by_id: dict[int, Participant], met: set[tuple[int, int]], k: int
            ) -> tuple[TopicFigures, ...]:
    chosen = Counter(tp for p in signed for tp in set(p.topics))
    meetings: Counter[str] = Counter()
    tandems_on: dict[str, set[int]] = {}
    for tandem in data.tandems:
        mentor, mentee = by_id.get(tandem.mentor_id), by_id.get(tandem.mentee_id)
        if mentor is None or mentee is None:
            continue
        for tandem_id, period in met:
            if tandem_id != tandem.id:
                continue
            topic = topic_of_period((mentor, mentee), tandem, period)
            if topic is not None:
                meetings[topic] += 1
                tandems_on.setdefault(topic, set()).add(tandem.id)
    ids = [tp.id for tp in config.survey.topics]
    ids += sorted((set(chosen) | set(meetings)) - set(ids))
    return tuple(
        TopicFigures(tp, _hide(chosen[tp], chosen[tp], k),
                     _hide(meetings[tp], len(tandems_on.get(tp, ())), k))
        for tp in ids
    )


def _evaluation(responses: Sequence[Response], k: int) -> EvaluationFigures:
    answers = [r for r in responses if r.kind == "evaluation"]
    if len(answers) < k or not answers:
        return EvaluationFigures(len(answers), None, None, None, None)
    ratings = [int(r.rating) for r in answers if r.rating is not None]
    recommend = [r.answers.get("recommend") for r in answers
                 if r.answers.get("recommend") in ("yes", "no")]
    going_on = Counter(r.answers.get("continue") for r in answers)
    return EvaluationFigures(
        respondents=len(answers),
        average=sum(ratings) / len(ratings) if ratings else None,
        distribution=_distribution(ratings),
        recommend_percent=100 * recommend.count("yes") / len(recommend) if recommend else None,
        continue_counts=(going_on["same"], going_on["new"], going_on["no"]),
    )


def attention(config: AppConfig, data: RoundData, now: datetime) -> Attention:
    """What a coordinator sees by name in their own dashboard, and nowhere else."""
    calendar = _Calendar(config, data.current, now)
    by_id = {p.id: p for p in data.people}
    need, finished = config.rhythm.stalled_after_periods, calendar.finished

    def name(person: Participant | None) -> str:
        return (person.display_name or person.user_id) if person else "?"

    stalled = tuple(
        (name(by_id.get(t.mentor_id)), name(by_id.get(t.mentee_id)))
        for t in data.tandems
        if t.status == TandemStatus.ACTIVE and finished >= need and not any(
            data.checkins.get((t.id, p)) == "met"
            for p in range(finished - need + 1, finished + 1))
    )
    shared = tuple(
        SharedReflection(name(by_id.get(r.participant_id)), calendar.month_of(r.period),
                         str(r.answers.get("learned") or ""),
                         str(r.answers.get("try_next") or ""), r.rating)
        for r in data.responses
        if r.kind == "reflection" and r.visibility == "coordinators"
    )
    return Attention(
        stalled=stalled,
        unreachable=tuple(name(p) for p in data.people if p.unreachable_at is not None),
        shared=shared,
    )

