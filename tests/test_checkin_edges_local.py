"""Check-in and pulse buttons at their edges: malformed values, the instant the
round ends, a "not yet" too close to the end for a reminder, the half-way pulse.
Through the local platform, a fake clock and the real database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from adapters.local.platform import LocalPlatform, LocalUser
from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.core.i18n import t
from conversations.outcomes import Reply
from conversations.rhythm import run_due
from conversations.schedule import RoundDates
from storage.db import Database
from storage.models import Checkin, Reminder, Response, Round, Tandem
from tests.helpers.local import BEN, CHANNEL, COORDINATOR, SARAH, last_buttons, matched
from tests.helpers.seed import nameless_tandem, seed_tandems


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    """The rhythm's programme: a local coordinator and channel."""
    return replace(config, coordinators={**config.coordinators, "local": ("coord",)},
                   channels={**config.channels, "local": (CHANNEL,)})


def text(outcome: object) -> str:
    assert isinstance(outcome, Reply), outcome
    return outcome.message.plain()


async def started(platform: LocalPlatform, clock: FixedClock) -> tuple[str, datetime]:
    """Ben (mentor) and Sarah (mentee) got their first nudge: its button value, and
    the instant the round ends."""
    await matched(platform, clock)
    clock.set(datetime(2027, 2, 9, 16, 0, tzinfo=UTC))
    await run_due(platform.ctx)
    async with platform.ctx.db.session() as session:
        [current] = await session.scalars(select(Round))
    ends = RoundDates.of(current, platform.ctx.config.timezone).end_at(
        platform.ctx.config.rhythm)
    return last_buttons(platform, "sarah", "checkin.met"), ends


async def test_malformed_or_foreign_button_values_change_nothing(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    value, _ = await started(platform, clock)
    tandem, period = value.split(":")
    stale = t("en", "error.stale_button")
    for bad in (f"x{tandem}:{period}", f"{tandem}:x", tandem, f"{tandem}:", f":{period}",
                f"{int(tandem) + 99}:{period}"):
        assert text(await platform.press(SARAH, "checkin.met", bad)) == stale, bad
        assert text(await platform.press(SARAH, "reflect.open", bad)) == stale, bad
    assert text(await platform.press(BEN, "checkin.met", value)) != stale
    async with db.session() as session:
        answered = list(await session.scalars(select(Response)))
    assert answered == []


async def test_buttons_close_at_the_instant_the_round_ends_or_the_tandem_stops(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    value, ends = await started(platform, clock)
    clock.set(ends)
    closed = text(await platform.press(SARAH, "checkin.met", value))
    assert "has ended" in closed
    clock.set(ends - timedelta(seconds=1))
    assert text(await platform.press(SARAH, "checkin.met", value)) == t(
        "en", "checkin.met_thanks", month=1)
    async with db.session() as session:
        [tandem] = await session.scalars(select(Tandem).where(
            Tandem.id == int(value.split(":")[0])))
        tandem.status = "ended"
    assert "has ended" in text(await platform.press(SARAH, "reflect.open", value))


async def test_not_yet_gets_a_reminder_only_when_it_falls_before_the_end(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    value, ends = await started(platform, clock)
    after = platform.ctx.config.rhythm.reminder_after
    clock.set(ends - after)  # the reminder would be due at the very end: none
    assert text(await platform.press(SARAH, "checkin.later", value)) == t(
        "en", "checkin.later_round_ends")
    async with db.session() as session:
        assert list(await session.scalars(select(Reminder))) == []
    clock.set(ends - after - timedelta(seconds=1))
    answered = text(await platform.press(BEN, "checkin.later", value))
    async with db.session() as session:
        [reminder] = await session.scalars(select(Reminder))
    assert reminder.due_at == ends - timedelta(seconds=1)
    assert reminder.period == 1 and str(reminder.tandem_id) == value.split(":")[0]
    assert answered.startswith(t("en", "checkin.later_ok", date="")[:10])


async def test_the_pulse_is_stored_once_per_person_and_help_alerts_coordinators(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await started(platform, clock)
    async with db.session() as session:
        [current] = await session.scalars(select(Round))
    round_id = str(current.id)
    assert text(await platform.press(SARAH, "pulse.good", round_id)) == t(
        "en", "pulse.thanks.good")
    assert text(await platform.press(SARAH, "pulse.meh", round_id)) == t(
        "en", "pulse.thanks.meh")
    helped = text(await platform.press(BEN, "pulse.help", round_id))
    assert helped == t("en", "checkin.help_ok")
    alerts = [s.text() for s in platform.messenger.inbox["coord"]
              if "Ben → Sarah" in s.text() and "Hilfe" in s.text()]
    assert len(alerts) == 1
    async with db.session() as session:
        pulses = {(r.participant_id, r.period, r.answers["mood"]) for r in
                  await session.scalars(select(Response).where(Response.kind == "pulse"))}
    assert {(period, mood) for _, period, mood in pulses} == {(0, "meh"), (0, "help")}
    stale = t("en", "error.stale_button")
    assert text(await platform.press(SARAH, "pulse.good", "x")) == stale
    assert text(await platform.press(SARAH, "pulse.good", "999")) == stale
    outsider = COORDINATOR
    assert text(await platform.press(outsider, "pulse.good", round_id)) == t(
        "en", "checkin.not_yours")
    async with db.session() as session:
        (await session.get(Round, current.id)).status = "ended"  # type: ignore[union-attr]
    assert "has ended" in text(await platform.press(SARAH, "pulse.good", round_id))


async def test_a_month_is_open_from_its_first_instant_and_none_after_the_last(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    value, ends = await started(platform, clock)
    tandem = value.split(":")[0]
    async with db.session() as session:
        [current] = await session.scalars(select(Round))
    dates = RoundDates.of(current, platform.ctx.config.timezone)
    stale = t("en", "error.stale_button")
    second = dates.period_begins_at(2)
    clock.set(second - timedelta(seconds=1))  # a forged button for next month
    assert text(await platform.press(SARAH, "checkin.met", f"{tandem}:2")) == stale
    clock.set(second)
    assert text(await platform.press(SARAH, "checkin.met", f"{tandem}:2")) == t(
        "en", "checkin.met_thanks", month=2)
    last = dates.periods
    clock.set(dates.period_begins_at(last))
    assert text(await platform.press(SARAH, "checkin.met", f"{tandem}:{last}")) == t(
        "en", "checkin.met_thanks", month=last)
    # the month after the last begins before the round's closing hour: still no month
    clock.set(dates.period_begins_at(last + 1))
    assert clock.now() < ends
    assert text(await platform.press(SARAH, "checkin.met", f"{tandem}:{last + 1}")) == stale
    assert text(await platform.press(SARAH, "reflect.open", f"{tandem}:{last + 1}")) == stale
    async with db.session() as session:
        answered = sorted(c.period for c in await session.scalars(select(Checkin)))
    assert answered == [2, last]


async def test_buttons_close_when_the_round_is_ended_early(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    value, _ = await started(platform, clock)
    async with db.session() as session:
        [current] = await session.scalars(select(Round))
        current.status = "ended"
    assert "has ended" in text(await platform.press(SARAH, "checkin.met", value))
    async with db.session() as session:
        assert list(await session.scalars(select(Checkin))) == []


async def test_the_same_user_id_on_another_platform_is_somebody_else(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    # A Slack tandem; on the local platform someone has its mentor's user id. A
    # person is the pair (platform, user id): their press is not the mentor's.
    seeded = await seed_tandems(db, platform.ctx.config, 1, platform="slack")
    [(tandem_id, mentor_id, _)] = seeded.tandems
    clock.set(datetime(2027, 3, 10, 12, 0, tzinfo=UTC))  # months 1 and 2 have begun
    namesake = LocalUser(mentor_id, "Namesake")
    assert text(await platform.press(namesake, "checkin.met", f"{tandem_id}:1")) == t(
        "en", "checkin.not_yours")
    async with db.session() as session:
        assert list(await session.scalars(select(Checkin))) == []


async def test_not_yet_after_the_partner_said_we_met_sets_no_reminder(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    value, _ = await started(platform, clock)
    assert text(await platform.press(SARAH, "checkin.met", value)) == t(
        "en", "checkin.met_thanks", month=1)
    assert text(await platform.press(BEN, "checkin.later", value)) == t(
        "en", "checkin.already_met", month=1)
    async with db.session() as session:
        assert list(await session.scalars(select(Reminder))) == []


async def test_we_need_help_after_we_met_alerts_nobody(
        platform: LocalPlatform, clock: FixedClock) -> None:
    value, _ = await started(platform, clock)
    await platform.press(SARAH, "checkin.met", value)
    assert text(await platform.press(BEN, "checkin.help", value)) == t(
        "en", "checkin.already_met", month=1)
    alerts = {t(lang, "checkin.help_alert", round=platform.ctx.config.round.name,
                mentor="Ben", mentee="Sarah") for lang in ("en", "de")}
    assert not [s for s in platform.messenger.inbox["coord"] if s.text() in alerts]


async def test_a_help_alert_names_people_without_a_display_name_by_their_user_id(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    tandem_id, mentor_id, mentee_id = await nameless_tandem(db, platform.ctx.config)
    clock.set(datetime(2027, 3, 10, 12, 0, tzinfo=UTC))  # months 1 and 2 have begun
    assert text(await platform.press(LocalUser(mentee_id, ""), "checkin.help",
                                     f"{tandem_id}:1")) == t("en", "checkin.help_ok")
    [alert] = [s.text() for s in platform.messenger.inbox["coord"] if "→" in s.text()]
    assert f"{mentor_id} → {mentee_id}" in alert


async def test_the_pulse_from_someone_whose_tandem_has_ended_is_refused(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    value, _ = await started(platform, clock)
    async with db.session() as session:
        [current] = await session.scalars(select(Round))
        tandem = await session.get(Tandem, int(value.split(":")[0]))
        tandem.status = "ended"  # type: ignore[union-attr]
    # Sarah still takes part in the round, but has no running tandem to rate.
    assert text(await platform.press(SARAH, "pulse.good", str(current.id))) == t(
        "en", "checkin.not_yours")
    async with db.session() as session:
        assert list(await session.scalars(select(Response))) == []
