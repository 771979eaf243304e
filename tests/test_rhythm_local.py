"""A whole round's rhythm on the local platform and a fake clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from adapters.local.platform import LocalPlatform
from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from conversations.outcomes import FormDone, Reply, ShowForm
from conversations.rhythm import run_due
from storage.db import Database
from storage.models import Delivery, Response
from tests.helpers.local import (
    ANNA,
    BEN,
    CHANNEL,
    KATRIN,
    SARAH,
    last_buttons,
    match_and_confirm,
    matched,
    newest_button,
    signed_up,
)


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return replace(config, coordinators={**config.coordinators, "local": ("coord",)},
                   channels={**config.channels, "local": (CHANNEL,)})


def titles(platform: LocalPlatform, user: str) -> list[str]:
    return [s.message.title or "" for s in platform.messenger.inbox[user] if s.message]


async def test_a_whole_round(platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await matched(platform, clock)
    ctx = platform.ctx
    day = datetime(2027, 1, 17, 11, 0, tzinfo=UTC)
    end = datetime(2027, 8, 5, 11, 0, tzinfo=UTC)
    pressed: set[str] = set()
    while day <= end:
        for hour in (0,):
            clock.set(day + timedelta(hours=hour))
            await run_due(ctx)
            # Anna's tandem meets every month; Ben's never answers.
            value = newest_button(platform, "anna", "checkin.met")
            if value is not None and value not in pressed:
                pressed.add(value)
                outcome = await platform.press(ANNA, "checkin.met", value)
                assert isinstance(outcome, Reply) and "vermerkt" in outcome.message.plain()
        day += timedelta(days=1)

    anna = titles(platform, "anna")
    assert anna.count("Heute startet euer Tandem") == 1
    nudges = [x for x in anna if x.startswith("Tandem: Zeit für Treffen")]
    assert nudges == [f"Tandem: Zeit für Treffen {m}" for m in range(1, 7)]
    assert sum(x.startswith("Eine kurze Reflexion") for x in anna) == 6
    assert anna.count("Halbzeit: Wie läuft euer Tandem?") == 1
    assert anna.count("Die Runde 2027-spring ist vorbei: Wie war es?") == 1

    ben = titles(platform, "ben")
    assert ben.count("Your tandem starts today") == 1
    assert [x for x in ben if x.startswith("Tandem: time for meeting")] == [
        f"Tandem: time for meeting {m}" for m in range(1, 7)]
    coordinator = [s.text() for s in platform.messenger.inbox["coord"]]
    # Coordinators read app.yaml's default language, German.
    stalled = [x for x in coordinator if "seit 2 Monaten nicht getroffen" in x]
    assert len(stalled) == 1 and "Ben → Sarah" in stalled[0]
    assert not any("Anna → Katrin" in x and "nicht getroffen" in x for x in coordinator)

    channel = [m.title for m in platform.messenger.channels[CHANNEL]]
    assert channel == ["Die Tandems der Runde 2027-spring stehen",
                       "Die Runde 2027-spring ist abgeschlossen"]
    assert "2 Tandems" in platform.messenger.channels[CHANNEL][1].plain()
    assert "6 Treffen" in platform.messenger.channels[CHANNEL][1].plain()

    # Run everything again at every instant: nothing more is sent.
    async with db.session() as session:
        before = await session.scalar(select(func.count(Delivery.id)))
    counts = {u: len(platform.messenger.inbox[u]) for u in ("anna", "ben", "coord")}
    day = datetime(2027, 1, 17, 11, 0, tzinfo=UTC)
    while day <= end:
        clock.set(day)
        await run_due(ctx)
        day += timedelta(days=3)
    assert {u: len(platform.messenger.inbox[u]) for u in counts} == counts
    async with db.session() as session:
        assert await session.scalar(select(func.count(Delivery.id))) == before


async def test_buttons_twice_outsiders_and_after_the_end(
    platform: LocalPlatform, clock: FixedClock, db: Database
) -> None:
    await matched(platform, clock)
    # The first nudge: Tuesday 9 February, 10:00 in Berlin; for Ben and Sarah 10:00 in
    # New York (16:00 UTC), the later of their two mornings.
    clock.set(datetime(2027, 2, 9, 16, 0, tzinfo=UTC))
    await run_due(platform.ctx)
    value = last_buttons(platform, "anna", "checkin.met")

    outsider = await platform.press(BEN, "checkin.met", value)
    assert isinstance(outsider, Reply) and "another tandem" in outsider.message.plain()
    later = await platform.press(ANNA, "checkin.later", value)
    assert isinstance(later, Reply) and "erinnere euch am 16.02.2027" in later.message.plain()
    again = await platform.press(KATRIN, "checkin.later", value)
    assert isinstance(again, Reply) and "16.02.2027" in again.message.plain()
    met = await platform.press(KATRIN, "checkin.met", value)
    assert isinstance(met, Reply) and "vermerkt" in met.message.plain()
    twice = await platform.press(ANNA, "checkin.met", value)
    assert isinstance(twice, Reply) and "Schon vermerkt" in twice.message.plain()
    clock.set(datetime(2027, 2, 17, 12, 0, tzinfo=UTC))
    await run_due(platform.ctx)
    assert not any(t.startswith("Erinnerung") for t in titles(platform, "anna"))

    help_value = last_buttons(platform, "ben", "checkin.help")
    helped = await platform.press(BEN, "checkin.help", help_value)
    assert isinstance(helped, Reply) and "coordinators" in helped.message.plain()
    await platform.press(SARAH, "checkin.help", help_value)
    alerts = [s.text() for s in platform.messenger.inbox["coord"] if "um Hilfe gebeten" in s.text()]
    assert len(alerts) == 1

    clock.set(datetime(2027, 8, 2, 12, 0, tzinfo=UTC))
    closed = await platform.press(ANNA, "checkin.met", value)
    assert isinstance(closed, Reply) and "beendet" in closed.message.plain()
    stale = await platform.press(ANNA, "checkin.met", "999:1")
    assert isinstance(stale, Reply) and "nicht mehr verwendet" in stale.message.plain()


async def test_reflection_private_by_default_updated_not_duplicated(
    platform: LocalPlatform, clock: FixedClock, db: Database
) -> None:
    await matched(platform, clock)
    clock.set(datetime(2027, 2, 9, 16, 0, tzinfo=UTC))
    await run_due(platform.ctx)
    await platform.press(BEN, "checkin.met", last_buttons(platform, "ben", "checkin.met"))
    reflect = last_buttons(platform, "sarah", "reflect.open")
    form = await platform.press(SARAH, "reflect.open", reflect)
    assert isinstance(form, ShowForm) and form.form.context == reflect
    bad = await platform.submit(SARAH, {"learned": "x" * 1001, "usefulness": "9"},
                                form_id="reflection")
    assert not isinstance(bad, FormDone)
    done = await platform.submit(SARAH, {"learned": "TikTok basics", "usefulness": "4"},
                                 form_id="reflection")
    assert isinstance(done, FormDone) and "just for you" in done.message.plain()  # type: ignore[union-attr]
    await platform.press(SARAH, "reflect.open", reflect)
    await platform.submit(SARAH, {"learned": "TikTok, really", "usefulness": "5",
                                  "visibility": "partner"}, form_id="reflection")
    async with db.session() as session:
        rows = list(await session.scalars(select(Response).where(Response.kind == "reflection")))
    assert len(rows) == 1 and rows[0].rating == 5 and rows[0].visibility == "partner"
    shared = [s.text() for s in platform.messenger.inbox["ben"]
              if "shared a reflection" in s.text()]
    assert len(shared) == 1 and "TikTok, really" in shared[0]
    assert not any("TikTok" in m.plain() for m in platform.messenger.channels[CHANNEL])


async def test_a_meeting_is_never_overwritten_by_a_racing_not_yet(
    platform: LocalPlatform, clock: FixedClock, db: Database
) -> None:
    import asyncio

    from storage.models import Checkin, Reminder

    await matched(platform, clock)
    clock.set(datetime(2027, 2, 9, 16, 0, tzinfo=UTC))
    await run_due(platform.ctx)
    value = last_buttons(platform, "anna", "checkin.met")
    for _ in range(5):
        await asyncio.gather(platform.press(ANNA, "checkin.met", value),
                             platform.press(KATRIN, "checkin.later", value))
    async with db.session() as session:
        answers = list(await session.scalars(select(Checkin.answer)))
        reminders = await session.scalar(select(func.count(Reminder.id)))
    assert answers == ["met"]
    assert reminders in (0, 1)  # a "not yet" that landed first may have booked one...
    clock.set(datetime(2027, 2, 17, 12, 0, tzinfo=UTC))
    await run_due(platform.ctx)
    # ...but it is never sent for a month in which the tandem met.
    assert not any(t.startswith("Erinnerung") for t in titles(platform, "anna"))


async def test_sign_up_closing_after_an_early_matching_does_not_ask_for_one(
        platform: LocalPlatform, clock: FixedClock) -> None:
    await signed_up(platform, ANNA, department="Marketing", topics=["ai_tools"])
    await signed_up(platform, KATRIN, role="mentee", department="Finance",
                    topics=["ai_tools"])
    # Three days before sign-up closes (at the end of Jan 15; the note comes on the 16th).
    await match_and_confirm(platform, clock, on=datetime(2027, 1, 12, 9, 0, tzinfo=UTC))
    notes = [s.text() for s in platform.messenger.inbox["coord"]]
    assert not any("Anmeldung für die Runde" in note for note in notes)

    clock.set(datetime(2027, 1, 16, 12, 0, tzinfo=UTC))
    await run_due(platform.ctx)
    closed = [s.text() for s in platform.messenger.inbox["coord"]
              if "Anmeldung für die Runde 2027-spring ist beendet" in s.text()]
    assert len(closed) == 1, [s.text()[:80] for s in platform.messenger.inbox["coord"]]
    assert "1 Juniors und 1 Seniors" in closed[0]
    assert "schon bestätigt" in closed[0] and "Bitte starte das Matching" not in closed[0]
