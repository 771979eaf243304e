"""Finding a time (bot.core.slots): every proposed slot lies in both people's
working hours in their own zones, on a working day that is no public holiday of
either, across the March and October daylight-saving changes; and three slots
are proposed whenever three exist.

The checks here restate the rules independently of the module: local wall
clock via ``astimezone``, holidays from the ``holidays`` package directly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.slots import STEP, Slot, WorkingTime, candidates, parse_country, propose

BERLIN, NEW_YORK, KOLKATA = (ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"),
                             ZoneInfo("Asia/Kolkata"))
ZONES = {"Europe/Berlin": ("DE", None), "America/New_York": ("US", "NY"),
         "Asia/Kolkata": ("IN", None), "Europe/London": ("GB", "ENG"),
         "Australia/Sydney": ("AU", "NSW")}
HOUR = timedelta(hours=1)

#: Around the changes of 2027: Europe 28 March / 31 October, US 14 March / 7 November
#: (India has none); and a plain stretch, and Christmas to New Year.
AROUND = [datetime(2027, 3, 8, tzinfo=UTC), datetime(2027, 3, 22, tzinfo=UTC),
          datetime(2027, 10, 25, tzinfo=UTC), datetime(2027, 11, 1, tzinfo=UTC),
          datetime(2027, 6, 7, tzinfo=UTC), datetime(2027, 12, 20, tzinfo=UTC)]


@st.composite
def people(draw: st.DrawFn) -> WorkingTime:
    zone = draw(st.sampled_from(sorted(ZONES)))
    country, region = ZONES[zone]
    start = draw(st.integers(6 * 2, 12 * 2)) * 30
    end = start + draw(st.integers(2 * 2, 10 * 2)) * 30
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    if draw(st.booleans()):
        days |= {0, 1, 2, 3, 4}
    return WorkingTime(ZoneInfo(zone), time(start // 60, start % 60),
                       time(end // 60, end % 60), days, country, region)


def in_working_time(person: WorkingTime, slot: Slot) -> bool:
    """The rules, restated: same local day, inside the hours, a working weekday,
    not a public holiday of that person's country and region."""
    start, end = slot.start.astimezone(person.zone), slot.end.astimezone(person.zone)
    return (start.date() == end.date()
            and person.start <= start.time() and end.time() <= person.end
            and start.weekday() in person.days
            and start.date() not in public_holidays(person.country, person.region,
                                                    start.year))


@cache
def public_holidays(country: str | None, region: str | None, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=region, years=year)


def every_slot(pair: list[WorkingTime], earliest: datetime, latest: datetime,
               length: timedelta) -> list[Slot]:
    """Brute force over every grid point of the window."""
    first = earliest.replace(minute=0, second=0, microsecond=0)
    found = []
    at = first
    while at <= latest:
        slot = Slot(at, at + length)
        if at >= earliest and all(in_working_time(p, slot) for p in pair):
            found.append(slot)
        at += STEP
    return found


@settings(max_examples=60, deadline=None)
@given(a=people(), b=people(), at=st.sampled_from(AROUND),
       offset=st.integers(0, 7 * 48).map(lambda n: n * timedelta(minutes=30) / 2),
       minutes=st.sampled_from([30, 45, 60, 90]))
def test_proposed_slots_fit_both_and_three_whenever_three_exist(
        a: WorkingTime, b: WorkingTime, at: datetime, offset: timedelta, minutes: int) -> None:
    earliest = at + offset
    latest = earliest + timedelta(days=14)
    length = timedelta(minutes=minutes)
    chosen = propose([a, b], earliest, latest, length)
    for slot in chosen:
        assert slot.end - slot.start == length
        assert earliest <= slot.start <= latest
        assert in_working_time(a, slot) and in_working_time(b, slot)
    possible = every_slot([a, b], earliest, latest, length)
    assert len(chosen) == min(3, len(possible))
    assert set(chosen) <= set(possible)
    assert len(set(chosen)) == len(chosen)


@settings(max_examples=40, deadline=None)
@given(a=people(), b=people(), at=st.sampled_from(AROUND),
       busy=st.lists(st.tuples(st.integers(0, 14 * 24), st.integers(1, 8)), max_size=12))
def test_busy_intervals_are_never_proposed(a: WorkingTime, b: WorkingTime, at: datetime,
                                           busy: list[tuple[int, int]]) -> None:
    taken = [(at + h * HOUR, at + (h + n) * HOUR) for h, n in busy]
    chosen = propose([a, b], at, at + timedelta(days=14), HOUR, busy=taken)
    for slot in chosen:
        assert not any(slot.start < e and s < slot.end for s, e in taken)
    free = [s for s in every_slot([a, b], at, at + timedelta(days=14), HOUR)
            if not any(s.start < e and b_ < s.end for b_, e in taken)]
    assert len(chosen) == min(3, len(free))


def test_berlin_and_new_york_across_the_march_changes() -> None:
    """Between 14 and 28 March 2027 New York is on summer time and Berlin is not:
    the shared hours are Berlin 14:00-17:00 (New York 09:00-12:00), one hour
    more than before and after. Each slot is checked on both wall clocks."""
    berlin = WorkingTime(BERLIN, country="DE")
    new_york = WorkingTime(NEW_YORK, country="US", region="NY")
    earliest = datetime(2027, 3, 8, tzinfo=UTC)
    slots = list(candidates([berlin, new_york], earliest, earliest + timedelta(days=28), HOUR))
    by_day: dict[date, list[str]] = {}
    for slot in slots:
        by_day.setdefault(slot.start.astimezone(BERLIN).date(), []).append(
            f"{slot.start.astimezone(BERLIN):%H:%M}/{slot.start.astimezone(NEW_YORK):%H:%M}")
    assert by_day[date(2027, 3, 12)][0] == "15:00/09:00"   # both on winter time
    assert by_day[date(2027, 3, 15)][0] == "14:00/09:00"   # New York moved
    assert by_day[date(2027, 3, 15)][-1] == "16:00/11:00"
    assert by_day[date(2027, 3, 30)][0] == "15:00/09:00"   # Berlin moved too
    assert date(2027, 3, 26) not in by_day                  # Good Friday in Germany
    assert date(2027, 3, 29) not in by_day                  # Easter Monday
    assert date(2027, 3, 13) not in by_day                  # a Saturday


def test_berlin_and_kolkata_across_the_october_change() -> None:
    """Kolkata (UTC+5:30, no daylight saving) and Berlin share 09:00-13:30 Berlin
    in summer time and 09:00-12:30 after 31 October."""
    berlin = WorkingTime(BERLIN, country="DE")
    kolkata = WorkingTime(KOLKATA, country="IN")
    earliest = datetime(2027, 10, 25, tzinfo=UTC)
    slots = list(candidates([berlin, kolkata], earliest, earliest + timedelta(days=10), HOUR))
    last = {}
    for slot in slots:
        last[slot.start.astimezone(BERLIN).date()] = (
            f"{slot.start.astimezone(BERLIN):%H:%M}/{slot.start.astimezone(KOLKATA):%H:%M}")
    assert last[date(2027, 10, 28)] == "12:30/16:00"
    assert date(2027, 10, 29) not in last                  # Diwali in India
    assert last[date(2027, 11, 2)] == "11:30/16:00"
    assert all(slot.start.astimezone(KOLKATA).minute in (0, 30) for slot in slots)


def test_three_slots_on_three_days_then_three_more() -> None:
    pair = [WorkingTime(BERLIN, country="DE"), WorkingTime(BERLIN, country="DE")]
    earliest = datetime(2027, 6, 7, 6, tzinfo=UTC)
    first = propose(pair, earliest, earliest + timedelta(days=14), HOUR)
    assert [s.start.astimezone(BERLIN).strftime("%a %H:%M") for s in first] == [
        "Mon 09:00", "Tue 09:00", "Wed 09:00"]
    more = propose(pair, earliest, earliest + timedelta(days=14), HOUR,
                   exclude=[s.start for s in first])
    assert [s.start.astimezone(BERLIN).strftime("%a %d %H:%M") for s in more] == [
        "Thu 10 09:00", "Fri 11 09:00", "Mon 14 09:00"]


def test_no_common_time_proposes_nothing() -> None:
    sydney = WorkingTime(ZoneInfo("Australia/Sydney"), time(9), time(12), country="AU")
    berlin = WorkingTime(BERLIN, time(9), time(12), country="DE")
    earliest = datetime(2027, 6, 7, tzinfo=UTC)
    assert propose([sydney, berlin], earliest, earliest + timedelta(days=14), HOUR) == []


def test_holidays_of_either_country_are_skipped() -> None:
    """4 July 2027 is a Sunday, observed on Monday 5 July in the US: a Monday with
    no slot, though Berlin works."""
    berlin = WorkingTime(BERLIN, country="DE")
    new_york = WorkingTime(NEW_YORK, country="US")
    earliest = datetime(2027, 7, 5, tzinfo=UTC)
    slots = list(candidates([berlin, new_york], earliest, earliest + timedelta(days=3), HOUR))
    assert {s.start.astimezone(BERLIN).date() for s in slots} == {date(2027, 7, 6),
                                                                  date(2027, 7, 7)}


@pytest.mark.parametrize(("written", "read"), [
    ("DE", ("DE", None)), ("de-by", ("DE", "BY")), ("Germany", ("DE", None)),
    ("Munich, Germany", ("DE", None)), ("Bangalore, IN", ("IN", None)),
    # A region after its country is the region, although BY also names Belarus.
    ("Germany, BY", ("DE", "BY")), ("Berlin, Germany, BE", ("DE", "BE")),
    ("Minsk, BY", ("BY", None)), ("Toronto, CA", ("CA", None)),
    ("Atlantis", None), ("", None), (None, None),
])
def test_a_country_and_region_are_read_as_people_write_them(
        written: str | None, read: tuple[str, str | None] | None) -> None:
    assert parse_country(written) == read
