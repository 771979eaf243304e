"""When things are due: pure date arithmetic over a round and app.yaml's rhythm.

All results are aware UTC instants. Nudges go out at a weekday and local time
in each person's own time zone; a message for two people at once (a Slack
group DM) goes out at the later of their two local times, so nobody gets it
before that hour. Nothing here reads a clock.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.config import RhythmSettings
from storage.models import Round


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def zone_of(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    if not name:
        return fallback
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``at`` o'clock on ``day`` in ``zone``, as UTC (zoneinfo handles DST changes)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def shared_instant(day: date, at: time, zones: Iterable[ZoneInfo]) -> datetime:
    return max(local_instant(day, at, zone) for zone in zones)


@dataclass(frozen=True)
class RoundDates:
    """The calendar of one round, in the programme's time zone."""

    start: date
    months: int
    per_month: int
    zone: ZoneInfo

    @classmethod
    def of(cls, current: Round, zone: ZoneInfo) -> RoundDates:
        return cls(current.starts_at.astimezone(zone).date(), current.length_months,
                   current.meetings_per_month, zone)

    @property
    def periods(self) -> int:
        return self.months * self.per_month

    @property
    def end(self) -> date:
        return add_months(self.start, self.months)

    def nudge_day(self, period: int, weekday: int) -> date:
        """Period 1 is the first meeting: its nudge comes a week into the round, on
        the configured weekday, so the kick-off has sunk in first."""
        month, slot = divmod(period - 1, self.per_month)
        base = add_months(self.start, month) + timedelta(days=7 + slot * (28 // self.per_month))
        return base + timedelta(days=(weekday - base.weekday()) % 7)

    def period_begins_at(self, period: int) -> datetime:
        """When meeting ``period`` (1, 2, …) may first be reported: the start of its
        month, or of its slot in that month, at midnight in the programme's zone."""
        month, slot = divmod(period - 1, self.per_month)
        day = add_months(self.start, month) + timedelta(days=slot * (28 // self.per_month))
        return local_instant(day, time(0), self.zone)

    def nudge_at(self, period: int, rhythm: RhythmSettings, zones: Iterable[ZoneInfo]
                 ) -> datetime:
        return shared_instant(self.nudge_day(period, rhythm.nudge_weekday), rhythm.nudge_time,
                              zones)

    def kickoff_at(self, rhythm: RhythmSettings, zones: Iterable[ZoneInfo]) -> datetime:
        return shared_instant(self.start, rhythm.nudge_time, zones)

    def latest_nudge(self, rhythm: RhythmSettings, zones: list[ZoneInfo], now: datetime
                     ) -> tuple[int, datetime] | None:
        """The most recent nudge period due at ``now`` (missed earlier ones are not
        caught up: one nudge, the latest, is what a tandem needs)."""
        found = None
        for period in range(1, self.periods + 1):
            due = self.nudge_at(period, rhythm, zones)
            if due > now:
                break
            found = (period, due)
        return found

    def lifecycle_at(self, day: date, rhythm: RhythmSettings) -> datetime:
        return local_instant(day, rhythm.lifecycle_time, self.zone)

    def end_at(self, rhythm: RhythmSettings) -> datetime:
        return self.lifecycle_at(self.end, rhythm)

    def pulse_day(self) -> date | None:
        return add_months(self.start, self.months // 2) if self.months >= 2 else None


def in_grace(due: datetime, now: datetime, rhythm: RhythmSettings) -> bool:
    """Due now, or missed by less than the grace (the bot was down)."""
    return due <= now <= due + rhythm.grace
