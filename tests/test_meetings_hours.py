"""Each person's own working time on the local platform with a real database: the
survey's hours, days, zone and country, and the country of the directory's
location, decide which slots Find a time proposes and the day of the check-in after
a meeting; bad answers get a message per
field; app.yaml's defaults stay for everyone who leaves them empty."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from adapters.local.platform import LocalPlatform, LocalUser
from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from conversations.outcomes import FormInvalid
from conversations.rhythm import run_due
from storage import directory
from storage.db import Database
from storage.directory import Record
from storage.models import Meeting, Participant
from tests.helpers.local import (
    ANNA,
    BEN,
    KATRIN,
    SARAH,
    match_and_confirm,
    matched,
    newest_button,
    signed_up,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    survey = replace(config.survey, questions=(*config.survey.questions, "working_time"))
    return replace(config, survey=survey,
                   coordinators={**config.coordinators, "local": ("coord",)})


async def participant(db: Database, user_id: str) -> Participant:
    async with db.session() as session:
        found = await session.scalar(select(Participant).where(Participant.user_id == user_id))
    assert found is not None
    return found


async def test_own_hours_days_and_the_directory_country_decide_the_slots(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    # Anna works Thursday afternoons only; Katrin keeps app.yaml's hours, and the
    # directory places her in Tokyo: Japan's National Foundation Day, Thursday
    # 11 February 2027, is a holiday for her.
    await signed_up(platform, ANNA, department="Marketing", topics=["ai_tools"],
                    languages=["de"], work_hours="13:00 - 15:00", work_days=["thursday"])
    await signed_up(platform, BEN, department="IT", topics=["sustainability"],
                    languages=["en"])
    await signed_up(platform, KATRIN, role="mentee", department="Finance",
                    topics=["ai_tools", "agile"], languages=["de"])
    await signed_up(platform, SARAH, role="mentee", department="Sales",
                    topics=["sustainability"], languages=["en"], country="us")
    async with db.session() as session:
        await directory.save_snapshot(session, "csv", [
            Record("k-1", email="katrin@example.com", location="Tokyo, Japan",
                   accounts=(("local", "katrin"),))], clock.now())
    anna = await participant(db, "anna")
    assert (anna.work_start, anna.work_end, anna.work_days) == ("13:00", "15:00", [3])
    sarah = await participant(db, "sarah")
    assert (sarah.country, sarah.region, sarah.work_start) == ("US", None, None)
    await match_and_confirm(platform, clock)

    outcome = await platform.press(ANNA, "meeting.find",
                                   newest_button(platform, "anna", "meeting.find") or "")
    slots = [datetime.fromtimestamp(int(b.value.rsplit(":", 1)[1]) * 60, UTC)
             for b in outcome.message.buttons  # type: ignore[union-attr]
             if b.action_id == "meeting.pick"]
    assert len(slots) == 3
    for start in slots:
        local = start.astimezone(BERLIN)
        assert local.weekday() == 3
        assert time(13, 0) <= local.time() and (local + timedelta(hours=1)).time() <= time(15, 0)
    # Without Katrin's country, the second Thursday would be offered first.
    assert {s.astimezone(BERLIN).date() for s in slots} == {date(2027, 2, 4)}


async def test_the_check_in_counts_the_holidays_of_the_directory_country(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    # Anna (Berlin, app.yaml's Germany) and Katrin meet on Monday 1 February 2027.
    # Katrin gave no country in the survey; the directory then places her in
    # Vaduz, Liechtenstein, where Tuesday 2 February is Candlemas: her first working
    # day after the meeting, and so the tandem's check-in, is Wednesday.
    await matched(platform, clock)
    slots = [b.value for b in (await platform.press(
        ANNA, "meeting.find", newest_button(platform, "anna", "meeting.find") or "")
                               ).message.buttons  # type: ignore[union-attr]
             if b.action_id == "meeting.pick"]
    await platform.press(ANNA, "meeting.pick", slots[0])
    await platform.press(KATRIN, "meeting.accept",
                         newest_button(platform, "katrin", "meeting.accept") or "")
    async with db.session() as session:
        [meeting] = list(await session.scalars(select(Meeting)))
    assert meeting.starts_at is not None
    assert meeting.starts_at.astimezone(BERLIN).date() == date(2027, 2, 1)
    katrin = await participant(db, "katrin")
    assert katrin.country is None
    async with db.session() as session:
        await directory.save_snapshot(session, "csv", [
            Record("k-1", email="katrin@example.com", location="Vaduz, Liechtenstein",
                   accounts=(("local", "katrin"),))], clock.now())

    # The confirmation already carries "We met"; the check-in is a message of its own.
    seen = {user: len(platform.messenger.inbox[user]) for user in ("anna", "katrin")}

    def checkins(user: str) -> list[str]:
        return [b.value for s in platform.messenger.inbox[user][seen[user]:] if s.message
                for b in s.message.buttons if b.action_id == "checkin.met"]

    tuesday = datetime(2027, 2, 2, 10, 0, tzinfo=BERLIN)
    clock.set(tuesday)
    await run_due(platform.ctx)
    assert checkins("anna") == checkins("katrin") == []
    clock.set(tuesday + timedelta(days=1))
    await run_due(platform.ctx)
    for user in seen:
        assert checkins(user) == [f"{meeting.tandem_id}:1"]


async def test_bad_answers_are_named_and_a_zone_is_taken_when_the_platform_has_none(
        platform: LocalPlatform, db: Database) -> None:
    await platform.command(ANNA, "signup")
    outcome = await platform.submit(ANNA, {
        "role": "mentor", "department": "IT", "topics": ["ai_tools"], "languages": ["de"],
        "consent": ["yes"], "work_hours": "17:00-09:00", "work_days": ["someday"],
        "timezone": "Mars/Olympus", "country": "Narnia"})
    assert isinstance(outcome, FormInvalid)
    assert set(outcome.errors) == {"work_hours", "work_days", "timezone", "country"}

    lena = LocalUser("lena", "Lena", locale="en", timezone=None)  # type: ignore[arg-type]
    await signed_up(platform, lena, timezone="Asia/Kolkata", country="DE-BY",
                    work_hours="8-16")
    found = await participant(db, "lena")
    assert (found.timezone, found.country, found.region) == ("Asia/Kolkata", "DE", "BY")
    assert (found.work_start, found.work_end, found.work_days) == ("08:00", "16:00", None)
    # The platform's zone wins over a typed one.
    await signed_up(platform, BEN, timezone="Asia/Tokyo")
    assert (await participant(db, "ben")).timezone == "America/New_York"
