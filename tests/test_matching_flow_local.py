"""The coordinator's matching flow on the local platform: preview, adjust, confirm once."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from adapters.local.platform import LocalPlatform, LocalUser
from bot.core.config import AppConfig
from bot.core.i18n import t
from conversations.outcomes import Reply, Working
from storage.db import Database
from storage.models import AuditEntry, Delivery, MatchRule, Tandem
from tests.helpers.local import signed_up

COORDINATOR = LocalUser("coord", "Clara Coordinator", locale="en")
JUNIORS = [
    LocalUser("j1", "Lena", locale="de"), LocalUser("j2", "Mehmet", locale="de"),
    LocalUser("j3", "Jamal", locale="en"),
]
SENIORS = [
    LocalUser("s1", "Katrin", locale="de"), LocalUser("s2", "Sarah", locale="en"),
]


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return replace(config, coordinators={**config.coordinators, "local": ("coord",)},
                   channels={**config.channels, "local": ("C-PROGRAMME",)})


async def sign_up_everyone(platform: LocalPlatform) -> None:
    await signed_up(platform, JUNIORS[0], department="Marketing", manager="s1",
                    topics=["ai_tools", "social_media"], languages=["de", "en"])
    await signed_up(platform, JUNIORS[1], department="Sales",
                    topics=["ai_tools"], languages=["de"])
    await signed_up(platform, JUNIORS[2], department="IT",
                    topics=["sustainability"], languages=["en"])
    await signed_up(platform, SENIORS[0], role="mentee", department="Executive Board",
                    topics=["ai_tools", "social_media"], languages=["de"], capacity="1")
    await signed_up(platform, SENIORS[1], role="mentee", department="Human Resources",
                    topics=["sustainability"], languages=["en", "de"], capacity="1")


async def test_non_coordinator_is_refused_and_nothing_happens(
    platform: LocalPlatform, db: Database
) -> None:
    await sign_up_everyone(platform)
    outcome = await platform.command(JUNIORS[0], "match")
    assert isinstance(outcome, Reply) and "Koordinator" in outcome.message.plain()
    confirm = await platform.press(JUNIORS[0], "match.confirm", "1")
    assert isinstance(confirm, Reply) and "Koordinator" in confirm.message.plain()
    async with db.session() as session:
        assert await session.scalar(select(func.count(AuditEntry.id))) == 0


async def test_preview_respects_rules_and_confirm_introduces_once(
    platform: LocalPlatform, db: Database
) -> None:
    await sign_up_everyone(platform)
    outcome = await platform.command(COORDINATOR, "match")
    assert isinstance(outcome, Working) and "Matching 5 people" in outcome.message.plain()
    proposal = platform.messenger.inbox["coord"][-2].message
    assert proposal is not None and proposal.title == "Matching proposal #1"
    text = proposal.plain()
    # Lena's manager is Katrin: never paired, whatever the topics say.
    assert "Lena → Katrin" not in text
    assert "Mehmet → Katrin" in text and "Jamal → Sarah" in text
    assert "Not matched:" in text and "Lena" in text.split("Not matched:")[1]
    [(name, content)] = platform.messenger.files["coord"]
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert name.endswith("proposal-1.csv") and rows[0][0] == "Pair" and len(rows) == 4

    confirm = next(b for b in proposal.buttons if b.action_id == "match.confirm")
    results = await asyncio.gather(
        platform.press(COORDINATOR, "match.confirm", confirm.value),
        platform.press(COORDINATOR, "match.confirm", confirm.value),
    )
    assert sum(isinstance(r, Working) for r in results) == 1
    assert sum(isinstance(r, Reply) and "already confirmed" in r.message.plain()
               for r in results) == 1
    async with db.session() as session:
        assert await session.scalar(select(func.count(Tandem.id))) == 2
        assert await session.scalar(
            select(func.count(Delivery.id)).where(
                Delivery.status == "sent",
                Delivery.kind.in_(("introduction", "announcement")))) == 3

    # Each junior's introduction is followed by their guide on mentoring a senior.
    *_, mehmet, guide = platform.transcript("j2")
    assert guide.startswith(t("de", "mentors.guide.title"))
    assert mehmet.startswith("Lernt euch kennen") and "Mehmet ist Mentor*in" in mehmet
    *_, jamal, guide = platform.transcript("j3")
    assert guide.startswith(t("en", "mentors.guide.title"))
    assert jamal.startswith("Meet your tandem partner") and "Lernt" not in jamal
    [announcement] = platform.messenger.channels["C-PROGRAMME"]
    assert "2 Tandems" in announcement.plain()
    assert "Mehmet" not in announcement.plain() and "Lena" not in announcement.plain()

    # Once confirmed, ``match`` looks only at whoever still waits (Lena).
    again = await platform.command(COORDINATOR, "match")
    assert isinstance(again, Working) and "Matching 1 person" in again.message.plain()


async def test_pin_block_swap_and_reset(platform: LocalPlatform, db: Database) -> None:
    await sign_up_everyone(platform)
    await platform.command(COORDINATOR, "match")
    await platform.command(COORDINATOR, "match swap 1 2")
    swapped = platform.messenger.inbox["coord"][-2].message
    assert swapped is not None and swapped.title == "Matching proposal #2"
    assert "pinned" in swapped.plain()
    await platform.command(COORDINATOR, "match block 1")
    blocked = platform.messenger.inbox["coord"][-2].message
    assert blocked is not None and blocked.title == "Matching proposal #3"
    bad = await platform.command(COORDINATOR, "match pin 9")
    assert isinstance(bad, Reply) and "no pair 9" in bad.message.plain()
    # Numbers that only look like one: refused the same way, no rule added.
    async with db.session() as session:
        rules = await session.scalar(select(func.count(MatchRule.id)))
    for typed in ("match pin ²", "match block ١", "match swap 1 " + "9" * 30, "match pin -1",
                  "match pin +1", "match swap ² 1"):
        bad = await platform.command(COORDINATOR, typed)
        assert isinstance(bad, Reply) and "no pair" in bad.message.plain(), typed
    async with db.session() as session:
        assert await session.scalar(select(func.count(MatchRule.id))) == rules
    bad = await platform.command(COORDINATOR, "match dance")
    assert isinstance(bad, Reply) and "did not understand" in bad.message.plain()
    await platform.command(COORDINATOR, "match reset")
    reset = platform.messenger.inbox["coord"][-2].message
    assert reset is not None and "pinned" not in reset.plain()


async def test_outdated_proposal_cannot_be_confirmed(platform: LocalPlatform) -> None:
    await sign_up_everyone(platform)
    await platform.command(COORDINATOR, "match")
    first = platform.messenger.inbox["coord"][-2].message
    await platform.command(COORDINATOR, "match")
    assert first is not None
    old = next(b for b in first.buttons if b.action_id == "match.confirm")
    outcome = await platform.press(COORDINATOR, "match.confirm", old.value)
    assert isinstance(outcome, Reply) and "latest proposal" in outcome.message.plain()
