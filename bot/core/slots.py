"""Finding meeting times for two people: pure functions, no I/O, no clock.

A slot is a UTC start and end. It *fits* a person when, in that person's own
time zone, it starts and ends on one working day (not a weekend day they do
not work, not a public holiday of their country or region) inside their
working hours. ``candidates`` lists every slot on a fixed grid (``STEP`` past
the hour in UTC, so half-hour zones such as Asia/Kolkata land on whole or half
hours too) that fits everyone and overlaps no busy interval; ``propose`` picks
``count`` of them, spread over different days first.

Working hours are compared in local wall-clock time after converting the UTC
instant, never by adding hours to a local date, so a daylight-saving change
between the two people's zones cannot shift a slot outside anyone's day.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

#: The grid slots start on, counted from midnight UTC.
STEP = timedelta(minutes=30)
#: Monday to Friday (Monday is 0).
WORKDAYS = frozenset(range(5))


@dataclass(frozen=True)
class WorkingTime:
    """When one person can meet: their zone, hours, weekdays and public holidays."""

    zone: ZoneInfo
    start: time = time(9, 0)
    end: time = time(17, 0)
    days: frozenset[int] = WORKDAYS
    #: ISO 3166 country code (``DE``) and, optionally, subdivision (``BY``).
    country: str | None = None
    region: str | None = None

    def is_holiday(self, day: date) -> bool:
        return self.country is not None and day in _holidays(self.country, self.region, day.year)

    def works_on(self, day: date) -> bool:
        return day.weekday() in self.days and not self.is_holiday(day)

    def fits(self, start: datetime, end: datetime) -> bool:
        """Whether ``start``..``end`` lies within one of this person's working days."""
        local_start, local_end = start.astimezone(self.zone), end.astimezone(self.zone)
        return (local_start.date() == local_end.date()
                and self.works_on(local_start.date())
                and self.start <= local_start.time()
                and local_end.time() <= self.end
                and local_start < local_end)


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    end: datetime = field(compare=False)

    def overlaps(self, other_start: datetime, other_end: datetime) -> bool:
        return self.start < other_end and other_start < self.end


def is_known_country(country: str, region: str | None = None) -> bool:
    """Whether the ``holidays`` package knows this country (and region)."""
    try:
        holidays.country_holidays(country, subdiv=region, years=2027)
    except (NotImplementedError, KeyError, ValueError):
        return False
    return True


def parse_country(text: str | None) -> tuple[str, str | None] | None:
    """A country (and region) from ``DE``, ``de-by``, ``Germany`` or a directory's
    location such as ``Munich, Germany`` or ``Bangalore, IN``: the last part that names
    a country the ``holidays`` package knows; None when none does. A country followed
    by one of its regions (``Germany, BY``) is that region, not the country the region's
    code also names (BY is Belarus too)."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if len(parts) >= 2:
        country = _countries().get(parts[-2].replace(" ", "").lower())
        region = parts[-1].upper()
        if country is not None and "-" not in parts[-2] and is_known_country(country, region):
            return country, region
    for part in reversed(parts):
        code, _, region = part.partition("-")
        found = _countries().get(code.strip().replace(" ", "").lower())
        if found is not None and region and len(code.strip()) == 2:
            region = region.strip().upper()
            return (found, region) if is_known_country(found, region) else None
        if found is not None and not region:
            return found, None
    return None


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    """Lower-case ISO alpha-2 and English name (no spaces) -> alpha-2 (not alpha-3: a
    city's short name could read as one)."""
    found: dict[str, str] = {}
    for name, (title, alpha2, *_rest) in holidays.registry.COUNTRIES.items():
        for key in (alpha2, title, name.replace("_", "")):
            found[key.lower()] = alpha2
    return found


@lru_cache(maxsize=256)
def _holidays(country: str, region: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=region, years=year))


def _grid_after(instant: datetime) -> datetime:
    """The first grid point at or after ``instant``."""
    utc = instant.astimezone(UTC)
    midnight = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = -(-(utc - midnight) // STEP)
    return midnight + steps * STEP


def candidates(people: Sequence[WorkingTime], earliest: datetime, latest: datetime,
               length: timedelta, busy: Iterable[tuple[datetime, datetime]] = ()
               ) -> Iterator[Slot]:
    """Every grid slot of ``length`` starting in ``earliest``..``latest`` that fits
    everyone and overlaps no busy interval, earliest first."""
    taken = sorted((b.astimezone(UTC), e.astimezone(UTC)) for b, e in busy)
    start = _grid_after(earliest)
    while start <= latest:
        slot = Slot(start, start + length)
        if (all(p.fits(slot.start, slot.end) for p in people)
                and not any(slot.overlaps(b, e) for b, e in taken)):
            yield slot
        start += STEP


def propose(people: Sequence[WorkingTime], earliest: datetime, latest: datetime,
            length: timedelta, busy: Iterable[tuple[datetime, datetime]] = (),
            count: int = 3, exclude: Iterable[datetime] = ()) -> list[Slot]:
    """``count`` slots (fewer only when fewer exist), in time order: first the
    earliest slot of as many different days as possible (days in the first
    person's zone), then further slots that overlap none already chosen, then any.
    Slots starting at an ``exclude``d instant (offered before) are left out, and
    their days count as taken."""
    skipped = {e.astimezone(UTC) for e in exclude}
    found = [s for s in candidates(people, earliest, latest, length, busy)
             if s.start not in skipped]
    zone = people[0].zone if people else ZoneInfo("UTC")
    chosen: list[Slot] = []
    # Days offered before come last, so "three more" are other days where possible.
    days: set[date] = {start.astimezone(zone).date() for start in skipped}
    for slot in found:
        day = slot.start.astimezone(zone).date()
        if day not in days and len(chosen) < count:
            chosen.append(slot)
            days.add(day)
    for slot in found:
        if len(chosen) >= count:
            break
        if slot not in chosen and not any(slot.overlaps(c.start, c.end) for c in chosen):
            chosen.append(slot)
    for slot in found:
        if len(chosen) >= count:
            break
        if slot not in chosen:
            chosen.append(slot)
    return sorted(chosen)
