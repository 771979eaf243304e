"""Find a time on the local platform with a real database: introduction -> Find a
time -> pick -> accept -> both get the invite -> the month's nudge is skipped ->
the check-in comes the working day after ("We met" also before); reminders and
stalled detection leave a scheduled tandem alone; a person's other tandem meeting is
never offered again; decline; move and cancel; and bad input (stale
or forged slots, a slot that has passed, both partners picking at once) gets a
kind answer and leaves one meeting."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import func, select

from adapters.local.platform import LocalPlatform, LocalUser
from bot.core.clock import FixedClock
from bot.core.config import AppConfig, ReportSettings
from bot.core.settings import Settings
from bot.report import write_report
from conversations.outcomes import Reply
from conversations.rhythm import run_due
from storage.db import Database
from storage.models import Meeting, MeetingStatus
from tests.helpers.local import (
    ANNA,
    BEN,
    CHANNEL,
    COORDINATOR,
    KATRIN,
    match_and_confirm,
    matched,
    newest_button,
    signed_up,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    # Figures over two tandems are shown (the report's threshold is for real rounds).
    return replace(config, coordinators={**config.coordinators, "local": ("coord",)},
                   channels={**config.channels, "local": (CHANNEL,)},
                   report=ReportSettings(min_group_size=1))


def slots_of(outcome: object) -> list[str]:
    assert isinstance(outcome, Reply), outcome
    return [b.value for b in outcome.message.buttons if b.action_id == "meeting.pick"]


def texts(platform: LocalPlatform, user: str) -> list[str]:
    return platform.transcript(user)


async def meetings_in(db: Database) -> list[Meeting]:
    async with db.session() as session:
        return list(await session.scalars(select(Meeting).order_by(Meeting.id)))


async def find(platform: LocalPlatform, user: LocalUser) -> list[str]:
    value = newest_button(platform, user.user_id, "meeting.find")
    assert value is not None, f"{user.user_id} has no Find a time button"
    return slots_of(await platform.press(user, "meeting.find", value))


async def scheduled(platform: LocalPlatform) -> tuple[str, str]:
    """Anna finds a time and takes the first slot; Katrin accepts it."""
    slots = await find(platform, ANNA)
    picked = await platform.press(ANNA, "meeting.pick", slots[0])
    assert "Katrin" in picked.message.plain()  # type: ignore[union-attr]
    proposal = newest_button(platform, "katrin", "meeting.accept")
    assert proposal is not None
    accepted = await platform.press(KATRIN, "meeting.accept", proposal)
    assert isinstance(accepted, Reply)
    return slots[0], accepted.message.plain()


async def test_from_introduction_to_invite_then_the_check_in_follows(
        platform: LocalPlatform, clock: FixedClock, db: Database, tmp_path: Path) -> None:
    await matched(platform, clock)
    # The introduction carries Find a time for the first month.
    assert newest_button(platform, "anna", "meeting.find", ) is not None
    slots = await find(platform, ANNA)
    assert len(slots) == 3
    offer = platform.messenger.inbox["anna"][-1].message
    assert offer is not None and "Katrin" in offer.plain()
    # Three more are three others.
    more = newest_button(platform, "anna", "meeting.more")
    assert more is not None
    others = slots_of(await platform.press(ANNA, "meeting.more", more))
    assert len(others) == 3 and not {v.rsplit(":", 1)[1] for v in others} & {
        v.rsplit(":", 1)[1] for v in slots}

    picked = await platform.press(ANNA, "meeting.pick", others[0])
    assert "Katrin" in picked.message.plain()  # type: ignore[union-attr]
    proposal = platform.messenger.inbox["katrin"][-1]
    assert proposal.kind == "dm" and proposal.message is not None
    assert "Anna schlägt" in proposal.message.plain()
    accepted = await platform.press(KATRIN, "meeting.accept",
                                    newest_button(platform, "katrin", "meeting.accept") or "")
    assert "Erledigt" in accepted.message.plain()  # type: ignore[union-attr]

    # Both have the invite file and the message with the calendar links.
    [meeting] = await meetings_in(db)
    assert meeting.status == MeetingStatus.SCHEDULED and meeting.sequence == 0
    assert meeting.starts_at is not None
    for user in ("anna", "katrin"):
        [(name, content)] = platform.messenger.files[user]
        assert name.endswith(".ics")
        calendar = icalendar.Calendar.from_ical(content)
        assert calendar["METHOD"] == "REQUEST"
        [event] = calendar.walk("VEVENT")
        assert event.decoded("DTSTART") == meeting.starts_at
        assert str(event["UID"]).startswith(f"tandem-{meeting.tandem_id}-month-1@")
        assert "KI-Werkzeuge" in str(event["DESCRIPTION"])
        assert any("outlook.office.com" in line for line in texts(platform, user))
    local = meeting.starts_at.astimezone(BERLIN)
    assert local.weekday() < 5 and 9 <= local.hour and local.hour + 1 <= 17
    assert local.date() >= datetime(2027, 2, 1).date()

    # The check-in comes the first working day after the meeting, at 10:00 Berlin.
    next_day = local.date() + timedelta(days=1)
    while next_day.weekday() >= 5:
        next_day += timedelta(days=1)
    morning = datetime.combine(next_day, datetime.min.time(), tzinfo=BERLIN).replace(hour=10)
    clock.set(morning - timedelta(minutes=1))
    await run_due(platform.ctx)
    assert not any("Hat es stattgefunden" in x for x in texts(platform, "anna"))
    clock.set(morning)
    await run_due(platform.ctx)
    assert any("Hat es stattgefunden" in x for x in texts(platform, "anna"))
    value = newest_button(platform, "anna", "checkin.met")
    assert value == f"{meeting.tandem_id}:1"
    assert any("Hat es stattgefunden" in x for x in texts(platform, "katrin"))
    # The month's nudge is skipped for this tandem (not for Ben's).
    nudge_day = datetime(2027, 2, 9, 16, 0, tzinfo=UTC)
    clock.set(nudge_day)
    await run_due(platform.ctx)
    assert not any("Zeit für Treffen 1" in x for x in texts(platform, "anna"))
    assert any("time for meeting 1" in x for x in texts(platform, "ben"))

    answered = await platform.press(ANNA, "checkin.met", value)
    assert "vermerkt" in answered.message.plain()  # type: ignore[union-attr]
    await run_due(platform.ctx)
    assert sum("Hat es stattgefunden" in x for x in texts(platform, "anna")) == 1

    # Coordinators see meetings scheduled beside meetings held: counts, no times.
    report = await platform.command(COORDINATOR, "report")
    shown = report.message.plain()  # type: ignore[union-attr]
    assert "1 put in the calendar" in shown
    assert f"{local:%H:%M}" not in shown
    # And the dashboard, with the same figures.
    dashboard = await platform.command(COORDINATOR, "dashboard")
    shown = dashboard.message.plain()  # type: ignore[union-attr]
    assert "1 put in the calendar" in shown
    assert f"{local:%H:%M}" not in shown
    # So does the HTML report: month 1 has one meeting scheduled and one held (Ben's
    # tandem neither), month 2 has not begun.
    config = platform.ctx.config
    html = (await write_report(Settings(database_url=db.url), config, config.round.name,
                               "html", tmp_path / "r.html", clock=clock)).read_text()
    rows = dict((month, (scheduled, held)) for month, scheduled, held in re.findall(
        r'<tr id="meetings-month-(\d+)"><th scope="row">[^<]+</th>'
        r'<td class="num">([^<]+)</td><td class="num">([^<]+)</td></tr>', html))
    assert rows["1"] == ("1", "1") and rows["2"] == ("–", "–")
    assert f"{local:%H:%M}" not in html


async def test_move_keeps_the_uid_and_cancel_removes_it(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await matched(platform, clock)
    await scheduled(platform)
    # Katrin moves it: Find a time from the confirmation, pick, Anna accepts.
    moved = slots_of(await platform.press(
        KATRIN, "meeting.find", newest_button(platform, "katrin", "meeting.find") or ""))
    await platform.press(KATRIN, "meeting.pick", moved[1])
    await platform.press(ANNA, "meeting.accept",
                         newest_button(platform, "anna", "meeting.accept") or "")
    [meeting] = await meetings_in(db)
    assert meeting.sequence == 1
    first, second = (icalendar.Calendar.from_ical(c).walk("VEVENT")[0]
                     for _, c in platform.messenger.files["anna"])
    assert first["UID"] == second["UID"] and second["SEQUENCE"] == 1
    assert second.decoded("DTSTART") == meeting.starts_at != first.decoded("DTSTART")

    cancelled = await platform.press(ANNA, "meeting.cancel",
                                     newest_button(platform, "anna", "meeting.cancel") or "")
    assert isinstance(cancelled, Reply)
    again = await platform.press(ANNA, "meeting.cancel",
                                 newest_button(platform, "katrin", "meeting.cancel") or "")
    assert "schon abgesagt" in again.message.plain()  # type: ignore[union-attr]
    for user in ("anna", "katrin"):
        last = icalendar.Calendar.from_ical(platform.messenger.files[user][-1][1])
        assert last["METHOD"] == "CANCEL"
        assert last.walk("VEVENT")[0]["SEQUENCE"] == 2
        assert last.walk("VEVENT")[0]["UID"] == first["UID"]
        assert len(platform.messenger.files[user]) == 3
    [meeting] = await meetings_in(db)
    assert meeting.status == MeetingStatus.CANCELLED


async def test_bad_input_gets_a_kind_answer_and_one_meeting(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await matched(platform, clock)
    slots = await find(platform, ANNA)
    meeting_id, version, minutes = slots[0].split(":")
    stale = "Dieser Button wird nicht mehr verwendet"
    for forged in (f"{meeting_id}:{version}:{int(minutes) + 1}",   # a slot never offered
                   f"{meeting_id}:{int(version) + 5}:{minutes}",   # an offer that never was
                   f"{int(meeting_id) + 1}:{version}:{minutes}",   # another meeting
                   f"{meeting_id}:{version}", "x:y:z", "١:٢:٣"):
        outcome = await platform.press(ANNA, "meeting.pick", forged)
        assert stale in outcome.message.plain(), forged  # type: ignore[union-attr]
    # Ben is not in this tandem.
    outcome = await platform.press(BEN, "meeting.pick", slots[0])
    assert "another tandem" in outcome.message.plain()  # type: ignore[union-attr]

    # Both partners pick at once (Katrin from her own, identical, offer): one pick stands.
    katrin_slots = await find(platform, KATRIN)
    assert katrin_slots == slots
    first, second = await asyncio.gather(platform.press(ANNA, "meeting.pick", slots[0]),
                                         platform.press(KATRIN, "meeting.pick", slots[1]))
    answers = sorted([first.message.plain(), second.message.plain()])  # type: ignore[union-attr]
    assert sum("hat gerade" in a for a in answers) == 1, answers
    proposals = [s for user in ("anna", "katrin") for s in platform.messenger.inbox[user]
                 if s.kind == "dm" and s.message and s.message.title
                 and "Termin für euer" in s.message.title]
    assert len(proposals) == 1
    # The picker cannot accept their own pick.
    [meeting] = await meetings_in(db)
    picker = KATRIN if "hat gerade" in first.message.plain() else ANNA  # type: ignore[union-attr]
    other = KATRIN if picker is ANNA else ANNA
    value = newest_button(platform, other.user_id, "meeting.accept") or ""
    own = await platform.press(picker, "meeting.accept", value)
    assert "eigener Vorschlag" in own.message.plain()  # type: ignore[union-attr]

    # The slot passes before the partner accepts: a kind answer, no meeting.
    assert meeting.picked_at is not None
    clock.set(meeting.picked_at + timedelta(minutes=1))
    late = await platform.press(other, "meeting.accept", value)
    assert "vorbei" in late.message.plain()  # type: ignore[union-attr]
    [meeting] = await meetings_in(db)
    assert meeting.status == MeetingStatus.OPEN and not platform.messenger.files["anna"]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Meeting)) == 1


async def test_we_met_can_be_answered_before_the_check_in(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await matched(platform, clock)
    await scheduled(platform)
    [meeting] = await meetings_in(db)
    assert meeting.starts_at is not None
    # The confirmation carries both one-click links and "We met" for the month.
    for user in ("anna", "katrin"):
        assert any("outlook.office.com" in x and "calendar.google.com" in x
                   for x in texts(platform, user))
    value = newest_button(platform, "katrin", "checkin.met")
    assert value == f"{meeting.tandem_id}:1"
    # Katrin answers the afternoon of the meeting, before the check-in would come.
    clock.set(meeting.starts_at + timedelta(hours=2))
    answered = await platform.press(KATRIN, "checkin.met", value)
    assert "vermerkt" in answered.message.plain()  # type: ignore[union-attr]
    # So the check-in the working day after never comes.
    day = meeting.starts_at.astimezone(BERLIN).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    clock.set(datetime.combine(day, datetime.min.time(), tzinfo=BERLIN).replace(hour=10))
    await run_due(platform.ctx)
    for user in ("anna", "katrin"):
        assert not any("Hat es stattgefunden" in x for x in texts(platform, user))


async def test_reminders_and_stalled_detection_leave_a_scheduled_tandem_alone(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await matched(platform, clock)
    # Month 1's nudge: both tandems say "not yet"; Anna's then finds a time.
    clock.set(datetime(2027, 2, 9, 16, 0, tzinfo=UTC))
    await run_due(platform.ctx)
    for user in (ANNA, BEN):
        await platform.press(user, "checkin.later",
                             newest_button(platform, user.user_id, "checkin.later") or "")
    await scheduled(platform)
    # A week later only Ben's tandem is reminded: Anna's month is in the calendar.
    clock.set(datetime(2027, 2, 16, 16, 1, tzinfo=UTC))
    await run_due(platform.ctx)
    assert any("Reminder: meeting 1" in x for x in texts(platform, "ben"))
    assert not any("Erinnerung: Treffen 1" in x for x in texts(platform, "anna") +
                   texts(platform, "katrin"))

    # Nobody answers "We met". Month 2's nudge comes to both; four days before
    # month 3's (Tuesday 13 April), Anna finds a time from it. When month 3 begins,
    # two months without "We met" flag Ben's tandem to the coordinators, not Anna's:
    # it has a meeting in the calendar.
    clock.set(datetime(2027, 3, 9, 16, 0, tzinfo=UTC))
    await run_due(platform.ctx)
    assert newest_button(platform, "anna", "meeting.find") == newest_button(
        platform, "anna", "checkin.met")
    clock.set(datetime(2027, 4, 9, 9, 0, tzinfo=UTC))
    await scheduled(platform)
    clock.set(datetime(2027, 4, 13, 16, 0, tzinfo=UTC))
    await run_due(platform.ctx)
    stalled = [x for x in texts(platform, "coord") if "2027-spring) hat sich seit" in x]
    assert any("Ben → Sarah" in x for x in stalled), stalled
    assert not any("Anna → Katrin" in x for x in stalled), stalled


async def test_decline_tells_the_picker_and_offers_to_find_again(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await matched(platform, clock)
    slots = await find(platform, ANNA)
    await platform.press(ANNA, "meeting.pick", slots[0])
    proposal = newest_button(platform, "katrin", "meeting.decline")
    assert proposal is not None
    declined = await platform.press(KATRIN, "meeting.decline", proposal)
    assert "Anna" in declined.message.plain()  # type: ignore[union-attr]
    told = platform.messenger.inbox["anna"][-1].message
    assert told is not None and "Katrin kann" in told.plain()
    assert any(b.action_id == "meeting.find" for b in told.buttons)
    # Declined is no meeting: no invite, and the month's nudge still comes.
    assert not platform.messenger.files["anna"] and not platform.messenger.files["katrin"]
    clock.set(datetime(2027, 2, 9, 16, 0, tzinfo=UTC))
    await run_due(platform.ctx)
    assert any("Zeit für Treffen 1" in x for x in texts(platform, "anna"))


async def test_a_persons_other_tandem_meeting_is_never_offered_again(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    # Katrin mentors two seniors, all in Berlin with app.yaml's hours: without her
    # first meeting in the way, both tandems would be offered the same first slot.
    lena = LocalUser("lena", "Lena", locale="de", timezone="Europe/Berlin")
    await signed_up(platform, ANNA, department="Marketing", topics=["ai_tools"],
                    languages=["de"])
    await signed_up(platform, lena, department="Sales", topics=["ai_tools"],
                    languages=["de"])
    await signed_up(platform, KATRIN, role="mentee", department="Finance",
                    topics=["ai_tools"], languages=["de"], capacity="2")
    await match_and_confirm(platform, clock)
    finds = [b.value for seen in platform.messenger.inbox["katrin"] if seen.message
             for b in seen.message.buttons if b.action_id == "meeting.find"]
    assert len(finds) == 2, finds  # one introduction per tandem
    first = slots_of(await platform.press(KATRIN, "meeting.find", finds[0]))
    await platform.press(KATRIN, "meeting.pick", first[0])
    partner = ANNA if newest_button(platform, "anna", "meeting.accept") else lena
    await platform.press(partner, "meeting.accept",
                         newest_button(platform, partner.user_id, "meeting.accept") or "")
    [booked] = [m for m in await meetings_in(db) if m.status == MeetingStatus.SCHEDULED]
    assert booked.starts_at is not None
    length = platform.ctx.config.meetings.length
    second = slots_of(await platform.press(KATRIN, "meeting.find", finds[1]))
    assert len(second) == 3 and first[0].rsplit(":", 1)[1] not in {
        v.rsplit(":", 1)[1] for v in second}
    for value in second:
        start = datetime.fromtimestamp(int(value.rsplit(":", 1)[1]) * 60, UTC)
        assert start + length <= booked.starts_at or booked.starts_at + length <= start
