"""Find a time at its edges on the local platform with a real database, found by
mutation testing (issue 19): the offer's numbered slots and meeting length, a partner
without a display name, the last month of the round (its slots end before the round
does; no month after it), and buttons once the tandem or the round has ended."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from adapters.local.platform import LocalPlatform, LocalUser
from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from conversations.events import Actor
from conversations.messages import Facts
from conversations.outcomes import Reply
from conversations.schedule import RoundDates
from storage import directory
from storage.db import Database
from storage.directory import Record
from storage.models import Meeting, MeetingStatus, Round, RoundStatus, Tandem, TandemStatus
from tests.helpers.local import (
    ANNA,
    CHANNEL,
    KATRIN,
    last_buttons,
    match_and_confirm,
    matched,
    signed_up,
)

BERLIN = ZoneInfo("Europe/Berlin")
STALE = "Dieser Button wird nicht mehr verwendet"


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    # Everyone works every day: app.yaml's round ends on a Sunday.
    return replace(config, coordinators={**config.coordinators, "local": ("coord",)},
                   channels={**config.channels, "local": (CHANNEL,)},
                   meetings=replace(config.meetings, working_days=frozenset(range(7))))


def offer_of(outcome: object) -> Reply:
    assert isinstance(outcome, Reply), outcome
    return outcome


def starts_of(offer: Reply) -> list[datetime]:
    return [datetime.fromtimestamp(int(b.value.rsplit(":", 1)[1]) * 60, UTC)
            for b in offer.message.buttons if b.action_id == "meeting.pick"]


async def the_round(db: Database) -> Round:
    async with db.session() as session:
        [current] = await session.scalars(select(Round))
    return current


async def test_the_offer_numbers_its_slots_and_names_the_meeting_s_length(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await matched(platform, clock)
    offer = offer_of(await platform.press(ANNA, "meeting.find",
                                          last_buttons(platform, "anna", "meeting.find")))
    shown = offer.message.plain()
    assert "Freie 60 Minuten für dich und Katrin" in shown
    [facts] = [b for b in offer.message.blocks if isinstance(b, Facts)]
    assert [label for label, _ in facts.items] == ["1", "2", "3"]
    picks = [b for b in offer.message.buttons if b.action_id == "meeting.pick"]
    assert [b.label for b in picks] == ["1 nehmen", "2 nehmen", "3 nehmen"]
    assert [b.style for b in picks] == ["primary", None, None]
    # Each numbered line is the start its button takes, in Anna's zone.
    for (_, line), start in zip(facts.items, starts_of(offer), strict=True):
        assert start.astimezone(BERLIN).strftime("%H:%M") in line


async def test_a_partner_without_a_display_name_is_named_by_their_user_id(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    nameless = LocalUser("kim", "", locale="de", timezone="Europe/Berlin")
    await signed_up(platform, ANNA, department="Marketing", topics=["ai_tools"],
                    languages=["de"])
    await signed_up(platform, nameless, role="mentee", department="Finance",
                    topics=["ai_tools"], languages=["de"])
    await match_and_confirm(platform, clock)
    offer = offer_of(await platform.press(ANNA, "meeting.find",
                                          last_buttons(platform, "anna", "meeting.find")))
    assert "für dich und kim in den" in offer.message.plain()


async def test_the_last_month_offers_slots_that_end_before_the_round_does(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await matched(platform, clock)
    current = await the_round(db)
    dates = RoundDates.of(current, platform.ctx.config.timezone)
    ends = dates.end_at(platform.ctx.config.rhythm)
    # The round ends at 10:00 Berlin: the day before at 16:00, only 09:00-10:00
    # on the last morning is left.
    assert ends.astimezone(BERLIN).hour == 10, ends
    tandem_id = last_buttons(platform, "anna", "meeting.find").split(":")[0]
    clock.set(ends - timedelta(hours=18))
    offer = offer_of(await platform.press(ANNA, "meeting.find",
                                          f"{tandem_id}:{dates.periods}"))
    assert starts_of(offer) == [ends - timedelta(hours=1)]
    # There is no month after the last.
    late = await platform.press(ANNA, "meeting.find", f"{tandem_id}:{dates.periods + 1}")
    assert STALE in late.message.plain()  # type: ignore[union-attr]


async def test_find_a_time_is_closed_once_the_tandem_or_the_round_has_ended(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await matched(platform, clock)
    value = last_buttons(platform, "anna", "meeting.find")
    tandem_id = int(value.split(":")[0])
    async with db.session() as session:
        [tandem] = await session.scalars(select(Tandem).where(Tandem.id == tandem_id))
        tandem.status = TandemStatus.ENDED
    closed = await platform.press(ANNA, "meeting.find", value)
    assert "ist beendet" in closed.message.plain()  # type: ignore[union-attr]
    async with db.session() as session:
        [tandem] = await session.scalars(select(Tandem).where(Tandem.id == tandem_id))
        tandem.status = TandemStatus.ACTIVE
        [current] = await session.scalars(select(Round))
        current.status = RoundStatus.ENDED
    closed = await platform.press(KATRIN, "meeting.find", value)
    assert "ist beendet" in closed.message.plain()  # type: ignore[union-attr]


async def test_a_slot_can_be_taken_until_two_hours_before_it_starts(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await matched(platform, clock)
    offer = offer_of(await platform.press(ANNA, "meeting.find",
                                          last_buttons(platform, "anna", "meeting.find")))
    first = next(b.value for b in offer.message.buttons if b.action_id == "meeting.pick")
    start = starts_of(offer)[0]
    clock.set(start - timedelta(hours=2) + timedelta(seconds=1))
    late = await platform.press(ANNA, "meeting.pick", first)
    assert "vorbei" in late.message.plain()  # type: ignore[union-attr]
    assert any(b.action_id == "meeting.find" for b in late.message.buttons)  # type: ignore[union-attr]
    assert not platform.messenger.inbox["katrin"] or all(
        "meeting.accept" not in {b.action_id for b in seen.message.buttons}
        for seen in platform.messenger.inbox["katrin"] if seen.message)
    clock.set(start - timedelta(hours=2))
    taken = await platform.press(ANNA, "meeting.pick", first)
    assert "Katrin" in taken.message.plain()  # type: ignore[union-attr]
    # Katrin can still accept at the very instant it starts; it lasts the hour.
    clock.set(start)
    accepted = await platform.press(KATRIN, "meeting.accept",
                                    last_buttons(platform, "katrin", "meeting.accept"))
    assert "Erledigt" in text(accepted)
    async with db.session() as session:
        [meeting] = await session.scalars(select(Meeting))
    assert (meeting.starts_at, meeting.ends_at) == (start, start + timedelta(hours=1))
    [(_, content)] = platform.messenger.files["anna"]
    event = icalendar.Calendar.from_ical(content).walk("VEVENT")[0]
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(hours=1)
    # Each is told whom they meet: the other one.
    assert any("Du triffst Katrin am" in x for x in platform.transcript("anna"))
    assert any("Du triffst Anna am" in x for x in platform.transcript("katrin"))
    assert not any("Du triffst Anna am" in x for x in platform.transcript("anna"))


def text(outcome: object) -> str:
    assert isinstance(outcome, Reply), outcome
    return outcome.message.plain()


async def test_accept_again_is_already_accepted_and_older_accepts_are_stale(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    """Accept pressed twice names the agreed time; the Accept of a time that has been
    moved, or of a meeting that was cancelled, is used up (nothing changes)."""
    await matched(platform, clock)
    offer = offer_of(await platform.press(ANNA, "meeting.find",
                                          last_buttons(platform, "anna", "meeting.find")))
    picks = [b.value for b in offer.message.buttons if b.action_id == "meeting.pick"]
    await platform.press(ANNA, "meeting.pick", picks[0])
    first = last_buttons(platform, "katrin", "meeting.accept")
    assert "Erledigt" in text(await platform.press(KATRIN, "meeting.accept", first))
    assert "Schon zugesagt" in text(await platform.press(KATRIN, "meeting.accept", first))
    # Katrin moves it; Anna accepts the new time.
    moved = offer_of(await platform.press(KATRIN, "meeting.find",
                                          last_buttons(platform, "katrin", "meeting.find")))
    await platform.press(KATRIN, "meeting.pick", [
        b.value for b in moved.message.buttons if b.action_id == "meeting.pick"][1])
    second = last_buttons(platform, "anna", "meeting.accept")
    assert second.rsplit(":", 1)[1] != first.rsplit(":", 1)[1]  # another time
    assert "Erledigt" in text(await platform.press(ANNA, "meeting.accept", second))
    assert STALE in text(await platform.press(KATRIN, "meeting.accept", first))
    assert "Schon zugesagt" in text(await platform.press(ANNA, "meeting.accept", second))
    # Cancelled: its Accept is used up too.
    await platform.press(ANNA, "meeting.cancel", last_buttons(platform, "anna", "meeting.cancel"))
    assert STALE in text(await platform.press(ANNA, "meeting.accept", second))


async def test_forged_accept_and_decline_values_change_nothing(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    """An Accept or Decline for another time at the current version, or for the picked
    time at an older version, is used up, whoever presses it: the pick stays open."""
    await matched(platform, clock)
    offer = offer_of(await platform.press(ANNA, "meeting.find",
                                          last_buttons(platform, "anna", "meeting.find")))
    await platform.press(ANNA, "meeting.pick", next(
        b.value for b in offer.message.buttons if b.action_id == "meeting.pick"))
    meeting_id, version, minutes = last_buttons(platform, "katrin", "meeting.accept").split(":")
    other_time = f"{meeting_id}:{version}:{int(minutes) + 30}"
    older = f"{meeting_id}:{int(version) - 1}:{minutes}"
    for user, action, value in ((KATRIN, "meeting.accept", other_time),
                                (KATRIN, "meeting.decline", other_time),
                                (ANNA, "meeting.accept", older),
                                (ANNA, "meeting.decline", older)):
        assert STALE in text(await platform.press(user, action, value)), (action, value)
    async with db.session() as session:
        [meeting] = await session.scalars(select(Meeting))
    assert meeting.status == MeetingStatus.OPEN and meeting.picked_at is not None
    assert int(meeting.picked_at.timestamp() // 60) == int(minutes)
    assert not platform.messenger.files["anna"] and not platform.messenger.files["katrin"]


async def test_without_calendars_known_e_mails_go_into_the_ics(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    """No Outlook calendars configured, but the directory knows both e-mails: the
    meeting is an .ics (organiser and attendees by e-mail) with the one-click links,
    not an Outlook event nobody would make."""
    async with db.session() as session:
        await directory.save_snapshot(session, "csv", [
            Record(f"d-{user}", email=f"{user}@example.com", accounts=(("local", user),))
            for user in ("anna", "katrin")], clock.now())
    await matched(platform, clock)
    offer = offer_of(await platform.press(ANNA, "meeting.find",
                                          last_buttons(platform, "anna", "meeting.find")))
    await platform.press(ANNA, "meeting.pick", next(
        b.value for b in offer.message.buttons if b.action_id == "meeting.pick"))
    await platform.press(KATRIN, "meeting.accept",
                         last_buttons(platform, "katrin", "meeting.accept"))
    async with db.session() as session:
        [meeting] = await session.scalars(select(Meeting))
    assert meeting.calendar_owed is None
    for user in ("anna", "katrin"):
        [(_, content)] = platform.messenger.files[user]
        event = icalendar.Calendar.from_ical(content).walk("VEVENT")[0]
        assert str(event["ORGANIZER"]) == "mailto:katrin@example.com"
        assert any("outlook.office.com" in x for x in platform.transcript(user))


async def test_pressing_twice_or_at_once_leaves_one_answer_standing(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    """A second pick says whose proposal stands; the picker cannot decline their own;
    two Accepts or two Cancels at once: one is done, the other changes nothing; a
    button naming a tandem or meeting that does not exist is used up."""
    await matched(platform, clock)
    find = last_buttons(platform, "anna", "meeting.find")
    offer = offer_of(await platform.press(ANNA, "meeting.find", find))
    picks = [b.value for b in offer.message.buttons if b.action_id == "meeting.pick"]
    await platform.press(ANNA, "meeting.pick", picks[0])
    assert "Du hast schon" in text(await platform.press(ANNA, "meeting.pick", picks[1]))
    assert "Anna hat gerade" in text(await platform.press(KATRIN, "meeting.pick", picks[1]))
    proposal = last_buttons(platform, "katrin", "meeting.decline")
    assert "dein eigener Vorschlag" in text(
        await platform.press(ANNA, "meeting.decline", proposal))
    accepted = await asyncio.gather(*(platform.press(KATRIN, "meeting.accept", proposal)
                                      for _ in range(2)))
    assert sum("Erledigt" in text(a) for a in accepted) == 1, [text(a) for a in accepted]
    assert len(platform.messenger.files["anna"]) == 1
    cancel = last_buttons(platform, "anna", "meeting.cancel")
    cancelled = await asyncio.gather(*(platform.press(user, "meeting.cancel", cancel)
                                       for user in (ANNA, KATRIN)))
    assert sum("Abgesagt;" in text(c) for c in cancelled) == 1, [text(c) for c in cancelled]
    assert len(platform.messenger.files["katrin"]) == 2  # the invite, one cancel
    tandem_id, period = find.split(":")
    meeting_id = cancel.split(":")[0]
    for action, value in (("meeting.find", f"{int(tandem_id) + 99}:{period}"),
                          ("meeting.cancel", f"{int(meeting_id) + 99}:1")):
        assert STALE in text(await platform.press(ANNA, action, value)), action


@dataclass
class OnTeams(LocalUser):
    """Someone on another platform whose user id happens to be a local person's."""

    @property
    def actor(self) -> Actor:
        return replace(super().actor, platform="teams")


async def test_the_same_user_id_on_another_platform_is_not_the_partner(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await matched(platform, clock)
    value = last_buttons(platform, "katrin", "meeting.find")
    other = await platform.press(OnTeams("katrin", "Katrin", locale="de"), "meeting.find", value)
    assert "anderen Tandem" in text(other)
    async with db.session() as session:
        assert list(await session.scalars(select(Meeting))) == []


async def test_moving_a_meeting_to_the_time_it_has_sends_it_again(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    """Its own time is free for the meeting being moved: Katrin proposes it again, Anna
    accepts, and both get the invite once more (SEQUENCE 1); the pick is settled."""
    await matched(platform, clock)
    offer = offer_of(await platform.press(ANNA, "meeting.find",
                                          last_buttons(platform, "anna", "meeting.find")))
    first = next(b.value for b in offer.message.buttons if b.action_id == "meeting.pick")
    await platform.press(ANNA, "meeting.pick", first)
    await platform.press(KATRIN, "meeting.accept",
                         last_buttons(platform, "katrin", "meeting.accept"))
    again = offer_of(await platform.press(KATRIN, "meeting.find",
                                          last_buttons(platform, "katrin", "meeting.find")))
    same = next(b.value for b in again.message.buttons if b.action_id == "meeting.pick"
                and b.value.rsplit(":", 1)[1] == first.rsplit(":", 1)[1])
    await platform.press(KATRIN, "meeting.pick", same)
    accepted = await platform.press(ANNA, "meeting.accept",
                                    last_buttons(platform, "anna", "meeting.accept"))
    assert "Erledigt" in text(accepted)
    async with db.session() as session:
        [meeting] = await session.scalars(select(Meeting))
    assert meeting.sequence == 1 and meeting.picked_at is None
    assert [icalendar.Calendar.from_ical(c).walk("VEVENT")[0]["SEQUENCE"]
            for _, c in platform.messenger.files["katrin"]] == [0, 1]


async def test_two_declines_at_once_tell_the_picker_once(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await matched(platform, clock)
    offer = offer_of(await platform.press(ANNA, "meeting.find",
                                          last_buttons(platform, "anna", "meeting.find")))
    await platform.press(ANNA, "meeting.pick", next(
        b.value for b in offer.message.buttons if b.action_id == "meeting.pick"))
    proposal = last_buttons(platform, "katrin", "meeting.decline")
    declined = await asyncio.gather(*(platform.press(KATRIN, "meeting.decline", proposal)
                                      for _ in range(2)))
    answers = [text(d) for d in declined]
    assert sum("Ich habe es Anna gesagt" in a for a in answers) == 1, answers
    assert sum(STALE in a for a in answers) == 1, answers
    assert sum("Katrin kann" in x for x in platform.transcript("anna")) == 1
