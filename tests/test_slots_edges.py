"""Finding a time at its edges (bot.core.slots), found by mutation testing (issue 19):
a slot right before or after a busy hour, the last slot of a window, days counted in
the presser's zone where a working day spans two UTC dates, a day with room for fewer
than three separate slots, nobody's country, and country answers that are not read."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import pytest

from bot.core.slots import WorkingTime, candidates, parse_country, propose

BERLIN, AUCKLAND = ZoneInfo("Europe/Berlin"), ZoneInfo("Pacific/Auckland")
HOUR = timedelta(hours=1)
#: Monday 7 June 2027, 09:00 in Berlin (summer time).
MONDAY_9 = datetime(2027, 6, 7, 7, 0, tzinfo=UTC)


def berlin_times(slots: list) -> list[str]:  # type: ignore[type-arg]
    return [s.start.astimezone(BERLIN).strftime("%a %H:%M") for s in slots]


def test_a_slot_right_before_or_after_a_busy_hour_is_offered() -> None:
    """Busy 10:00-11:00: 09:00-10:00 and 11:00-12:00 touch it and are free; every
    slot that shares a minute with it is not."""
    pair = [WorkingTime(BERLIN, country="DE"), WorkingTime(BERLIN, country="DE")]
    busy = [(MONDAY_9 + HOUR, MONDAY_9 + 2 * HOUR)]
    slots = list(candidates(pair, MONDAY_9, MONDAY_9 + 3 * HOUR, HOUR, busy))
    assert berlin_times(slots) == ["Mon 09:00", "Mon 11:00", "Mon 11:30", "Mon 12:00"]


def test_the_last_slot_of_the_window_is_offered_and_slots_come_in_time_order() -> None:
    pair = [WorkingTime(BERLIN, country="DE")]
    # Earliest first, and onwards: the first two of a long window (taken one by one,
    # so that a search running the wrong way fails here instead of never ending).
    first, second = islice(candidates(pair, MONDAY_9, MONDAY_9 + timedelta(days=365), HOUR),
                           2)
    assert first.start == MONDAY_9 and second.start == MONDAY_9 + timedelta(minutes=30)
    # A window of one instant: the slot starting there.
    assert berlin_times(list(candidates(pair, MONDAY_9, MONDAY_9, HOUR))) == ["Mon 09:00"]


def test_days_are_the_presser_s_days_where_one_spans_two_utc_dates() -> None:
    """In Auckland (UTC+12 in June) 09:00-17:00 is 21:00-05:00 UTC: three slots on
    three Auckland days, each at 09:00, whoever the partner is (here someone who
    works around the clock in UTC)."""
    auckland = WorkingTime(AUCKLAND, time(9), time(17))
    anywhere = WorkingTime(ZoneInfo("UTC"), time(0), time(23, 59), frozenset(range(7)))
    earliest = datetime(2027, 6, 6, 20, 0, tzinfo=UTC)  # Monday 08:00 in Auckland
    chosen = propose([auckland, anywhere], earliest, earliest + timedelta(days=14), HOUR)
    assert [s.start.astimezone(AUCKLAND).strftime("%a %H:%M") for s in chosen] == [
        "Mon 09:00", "Tue 09:00", "Wed 09:00"]


def test_one_short_day_gives_separate_slots_first_then_overlapping_ones() -> None:
    """Room on one day only: three slots that do not overlap when there is room for
    them (09:00, 10:00, 11:00), else the ones there are, each once."""
    three_hours = WorkingTime(BERLIN, time(9), time(12), country="DE")
    chosen = propose([three_hours, three_hours], MONDAY_9, MONDAY_9 + 3 * HOUR, HOUR)
    assert berlin_times(chosen) == ["Mon 09:00", "Mon 10:00", "Mon 11:00"]
    ninety_minutes = WorkingTime(BERLIN, time(9), time(10, 30), country="DE")
    chosen = propose([ninety_minutes, ninety_minutes], MONDAY_9, MONDAY_9 + 3 * HOUR, HOUR)
    assert berlin_times(chosen) == ["Mon 09:00", "Mon 09:30"]


def test_without_a_country_no_day_is_a_holiday() -> None:
    """Friday 25 December 2026 is a working day for someone whose country nobody
    knows (no survey answer, no directory location, none in app.yaml)."""
    nowhere = WorkingTime(BERLIN)
    christmas = datetime(2026, 12, 25, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    slots = list(candidates([nowhere, nowhere], christmas, christmas + 8 * HOUR, HOUR))
    assert slots and {s.start.astimezone(BERLIN).date() for s in slots} == {date(2026, 12, 25)}
    assert not list(candidates([WorkingTime(BERLIN, country="DE")], christmas,
                               christmas + 8 * HOUR, HOUR))


@pytest.mark.parametrize(("written", "read"), [
    # An unknown region is not guessed: after a code nothing is read, after a
    # name the country alone is.
    ("de-zz", None), ("Germany, ZZ", ("DE", None)), ("Germany, Berlin", ("DE", None)),
    # A part after the country that looks like code-region but names no country.
    ("Munich, Germany, EU-Central", ("DE", None)),
    # A region follows a two-letter code only: a country's name before a dash is
    # not split, so Guinea-Bissau (unknown to the holidays package) is not Guinea.
    ("Germany-BY", None), ("Bissau, Guinea-Bissau", None),
])
def test_country_answers_that_are_not_read_as_written(
        written: str, read: tuple[str, str | None] | None) -> None:
    assert parse_country(written) == read
