"""When nudges are due: weekdays, local times, DST weeks and the grace after downtime."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.config import RhythmSettings
from conversations.schedule import RoundDates, add_months, in_grace

BERLIN, NEW_YORK, TOKYO = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo(
    "Asia/Tokyo")
TUESDAY_10 = RhythmSettings(nudge_weekday=1, nudge_time=time(10, 0))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 15), 3) == date(2028, 2, 15)


def test_nudges_fall_on_the_weekday_a_week_into_each_month() -> None:
    dates = RoundDates(date(2027, 2, 1), 6, 1, BERLIN)
    days = [dates.nudge_day(p, TUESDAY_10.nudge_weekday) for p in range(1, 7)]
    assert days == [date(2027, 2, 9), date(2027, 3, 9), date(2027, 4, 13), date(2027, 5, 11),
                    date(2027, 6, 8), date(2027, 7, 13)]
    assert all(day.weekday() == 1 for day in days)
    two_a_month = RoundDates(date(2027, 2, 1), 2, 2, BERLIN)
    assert [two_a_month.nudge_day(p, 1) for p in range(1, 5)] == [
        date(2027, 2, 9), date(2027, 2, 23), date(2027, 3, 9), date(2027, 3, 23)]


def test_ten_oclock_local_in_berlin_new_york_and_tokyo_across_dst_changes() -> None:
    # The US changes clocks on 14 March 2027, Europe on 28 March; Japan does not.
    dates = RoundDates(date(2027, 2, 7), 3, 1, BERLIN)
    assert dates.nudge_day(1, 1) == date(2027, 2, 16)
    assert dates.nudge_day(2, 1) == date(2027, 3, 16)  # the week after the US change
    assert dates.nudge_day(3, 1) == date(2027, 4, 20)
    at = {zone.key: [dates.nudge_at(p, TUESDAY_10, [zone]) for p in (1, 2, 3)]
          for zone in (BERLIN, NEW_YORK, TOKYO)}
    assert at["Europe/Berlin"] == [utc(2027, 2, 16, 9), utc(2027, 3, 16, 9), utc(2027, 4, 20, 8)]
    assert at["America/New_York"] == [utc(2027, 2, 16, 15), utc(2027, 3, 16, 14),
                                      utc(2027, 4, 20, 14)]
    assert at["Asia/Tokyo"] == [utc(2027, 2, 16, 1), utc(2027, 3, 16, 1), utc(2027, 4, 20, 1)]
    for zone, instants in at.items():
        assert all(i.astimezone(ZoneInfo(zone)).time() == time(10) for i in instants)

    # The European change itself: the Tuesday after 28 March.
    europe = RoundDates(date(2027, 2, 21), 2, 1, BERLIN)
    assert europe.nudge_day(2, 1) == date(2027, 3, 30)
    assert europe.nudge_at(1, TUESDAY_10, [BERLIN]) == utc(2027, 3, 2, 9)
    assert europe.nudge_at(2, TUESDAY_10, [BERLIN]) == utc(2027, 3, 30, 8)


def test_a_shared_chat_gets_the_later_of_two_mornings() -> None:
    dates = RoundDates(date(2027, 2, 7), 3, 1, BERLIN)
    assert dates.nudge_at(1, TUESDAY_10, [BERLIN, NEW_YORK]) == utc(2027, 2, 16, 15)
    assert dates.nudge_at(1, TUESDAY_10, [TOKYO, BERLIN]) == utc(2027, 2, 16, 9)


def test_after_downtime_only_the_latest_nudge_and_only_within_the_grace() -> None:
    dates = RoundDates(date(2027, 2, 1), 6, 1, BERLIN)
    rhythm = replace(TUESDAY_10, grace=timedelta(hours=72))
    # Down from 1 February to 10 March: two nudge dates (9 Feb, 9 Mar) passed.
    back = utc(2027, 3, 10, 12)
    period, due = dates.latest_nudge(rhythm, [BERLIN], back) or (0, back)
    assert (period, due) == (2, utc(2027, 3, 9, 9))
    assert in_grace(due, back, rhythm)
    assert not in_grace(dates.nudge_at(1, rhythm, [BERLIN]), back, rhythm)
    # Back only on 20 March: the latest is beyond the grace too; nothing to send.
    late = utc(2027, 3, 20, 12)
    _, due = dates.latest_nudge(rhythm, [BERLIN], late) or (0, late)
    assert not in_grace(due, late, rhythm)
    assert dates.latest_nudge(rhythm, [BERLIN], utc(2027, 2, 9, 8, 59)) is None
