"""Matching into a running round: everyone still waiting for a tandem once the round
is confirmed (late sign-ups, people whose partner left, people re-matched).

Who sees what, in order:
1. While anyone waits, the coordinators are told privately how many people wait
   and how to match them (the scheduled kind ``waiting``): once, then at most once
   a week.
2. A coordinator types ``match`` (chat, or ``tandem match`` on the command line):
   the same engine, rules, proposal and review (pin / block / swap / reset) as the
   first matching (``conversations.matching``), over the people waiting only.
   Existing tandems are never touched; a pair the round already had (a tandem
   ended by a leave or a re-match) is never proposed again.
3. Confirm, once however often pressed, creates the new tandems; each gets its
   introduction (owed), the channels get nothing. A new tandem joins the rhythm
   at the round's current month: its first nudge is meeting 1 of what is left.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.config import RhythmSettings
from bot.core.i18n import t
from bot.matching.model import Person, Rules
from conversations.match_input import Key, key
from conversations.messages import Message
from conversations.schedule import RoundDates, shared_instant
from conversations.scheduling import Due, Situation
from storage import deliveries, participants, tandems
from storage.db import Session
from storage.models import (
    MatchProposal,
    Participant,
    ParticipantStatus,
    Round,
    RoundStatus,
    Tandem,
    TandemStatus,
)

#: Marks a proposal made for a running round (stored with its result).
RUNNING = "running"
#: The scheduled kind that tells the coordinators people wait (its key: "waiting:R:N").
WAITING = "waiting"


@dataclass(frozen=True)
class Waiting:
    """Who of a confirmed round has no tandem, and the pairs it must not repeat."""

    people: frozenset[int]
    ended_pairs: frozenset[tuple[int, int]]
    #: those of ``people`` a coordinator could match now (not paused, reachable)
    ready: frozenset[int] = frozenset()

    def restrict(self, people: list[Person], rules: Rules) -> tuple[list[Person], Rules]:
        """The engine's input narrowed to the waiting people: pins and blocks about
        anyone else are dropped, and the round's ended pairs are blocked."""
        keys: set[Key] = {key(p) for p in self.people}
        kept = [p for p in people if p.id in keys]

        def among(pairs: Collection[tuple[Key, Key]]) -> frozenset[tuple[Key, Key]]:
            return frozenset(pair for pair in pairs if set(pair) <= keys)

        ended = frozenset((key(m), key(s)) for m, s in self.ended_pairs)
        return kept, replace(rules, pins=among(rules.pins),
                             blocks=among(rules.blocks) | among(ended))


async def waiting(session: Session, current: Round) -> Waiting:
    """Everyone signed up for ``current`` (not erased) without an active tandem in it."""
    signed_up = await participants.round_participants(session, current.id)
    made = await tandems.round_tandems(session, current.id)
    busy = {person for t in made if t.status == TandemStatus.ACTIVE
            for person in (t.mentor_id, t.mentee_id)}
    without = [p for p in signed_up
               if p.id not in busy and p.status != ParticipantStatus.FORGOTTEN]
    return Waiting(
        frozenset(p.id for p in without),
        frozenset((t.mentor_id, t.mentee_id) for t in made if t.status != TandemStatus.ACTIVE),
        frozenset(p.id for p in without if ready(p)),
    )


def ready(person: Participant) -> bool:
    """Someone a coordinator could match now (not paused, reachable)."""
    return person.status == ParticipantStatus.ACTIVE and person.unreachable_at is None


def is_running(proposal: MatchProposal) -> bool:
    return bool(proposal.result.get(RUNNING))


def joined_period(current: Round, dates: RoundDates, now: datetime) -> int | None:
    """The period a tandem made ``now`` starts at: the round's current month (None
    before the round starts, when it takes part from the first)."""
    if now < current.starts_at:
        return None
    return max(p for p in range(1, dates.periods + 1) if dates.period_begins_at(p) <= now)


async def still_waiting(session: Session, current: Round, pairs: list[dict[str, Any]]
                        ) -> list[dict[str, Any]]:
    """The pairs of a proposal whose two people still wait and can be matched now
    (someone may have paused, left or been matched since the proposal was made)."""
    now_waiting = (await waiting(session, current)).people
    found = []
    for pair in pairs:
        people = [await participants.participant_by_id(session, pair[r])
                  for r in ("mentor", "mentee")]
        if all(p is not None and p.id in now_waiting and ready(p) for p in people):
            found.append(pair)
    return found


def latest_nudge(dates: RoundDates, rhythm: RhythmSettings, zones: list[ZoneInfo],
                 now: datetime, tandem: Tandem) -> tuple[int, datetime] | None:
    """The tandem's latest nudge due at ``now``, as ``RoundDates.latest_nudge``; a tandem
    matched into the running round starts at its joined period, whose nudge, if that
    day had passed when it was made, comes the next day at the nudge time."""
    first = tandem.joined_period
    if first is None:
        return dates.latest_nudge(rhythm, zones, now)
    found = None
    for period in range(first, dates.periods + 1):
        due = dates.nudge_at(period, rhythm, zones)
        if period == first and due < tandem.created_at:
            day = tandem.created_at.astimezone(dates.zone).date() + timedelta(days=1)
            due = shared_instant(day, rhythm.nudge_time, zones)
        if due > now:
            break
        found = (period, due)
    return found


def meeting_number(tandem: Tandem, period: int, periods: int) -> tuple[int, int]:
    """Meeting ``n`` of ``total`` as the tandem counts them (from when it joined)."""
    skipped = (tandem.joined_period or 1) - 1
    return period - skipped, periods - skipped


# -- the coordinators' notice (the scheduled kind ``waiting``) ---------------------------

#: At most one notice about waiting people in this time.
WAITING_EVERY = timedelta(days=7)


async def waiting_due(s: Situation) -> list[Due]:
    """Due at the lifecycle time while people wait in a confirmed round: the first
    time, then a week after the last notice at the earliest."""
    rhythm = s.ctx.config.rhythm
    if s.round.status != RoundStatus.MATCHED or s.now >= s.dates.end_at(rhythm):
        return []
    if s.now < s.dates.lifecycle_at(s.now.astimezone(s.dates.zone).date(), rhythm):
        return []
    async with s.ctx.db.session() as session:
        found = await waiting(session, s.round)
        if not found.ready:
            return []
        last = await deliveries.latest_keyed(session, f"{WAITING}:{s.round.id}:")
    if last is not None and s.now < last[1] + WAITING_EVERY:
        return []
    number = 1 if last is None else int(last[0].split(":")[2]) + 1
    return [Due({"n": number, "count": len(found.ready)})]


def waiting_message(s: Situation, due: Due, language: str, _reader: Participant | None
                    ) -> Message:
    cmd = next((m.command_prefix for m in s.ctx.messengers.values() if m.command_prefix), "")
    return Message.text(t(language, "running.waiting", count=due.params["count"],
                          round=s.round.name, cmd=cmd))
