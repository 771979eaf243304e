"""The org chart from the company directory, through the real matching flow on the
local platform: people who never signed up still count, the survey is a fallback,
and the proposal says what was kept apart and where that came from."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from adapters.local.platform import LocalPlatform, LocalUser
from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from storage import directory, rounds, workspaces
from storage.db import Database
from storage.directory import Record
from storage.models import Participant
from tests.helpers.local import local_platform, signed_up

COORDINATOR = LocalUser("coord", "Clara Coordinator", locale="en")
LENA = LocalUser("lena", "Lena", locale="en")
TOM = LocalUser("tom", "Tom", locale="en")
HANS = LocalUser("hans", "Hans", locale="en")
MO = LocalUser("mo", "Mo", locale="en")
CEO = LocalUser("ceo", "Carla", locale="en")
SVEN = LocalUser("sven", "Sven", locale="en")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _person(user: LocalUser, manager: str | None, department: str) -> Record:
    return Record(key=f"{user.user_id}@example.com", email=f"{user.user_id}@example.com",
                  display_name=user.display_name, department=department,
                  manager_key=f"{manager}@example.com" if manager else None,
                  accounts=(("local", user.user_id),))


#: Carla (CEO) > Hans (head of sales) > Mo (team lead) > Lena and Sven. Mo never signs up.
ORG = [
    _person(CEO, None, "Board"), _person(HANS, "ceo", "Sales Management"),
    _person(MO, "hans", "Sales Team A"), _person(LENA, "mo", "Sales Team A Juniors"),
    _person(SVEN, "mo", "Sales Team A Seniors"), _person(TOM, None, "Finance"),
]


def _config(config: AppConfig, depth: int = 2) -> AppConfig:
    return replace(config, coordinators={**config.coordinators, "local": ("coord",)},
                   matching=replace(config.matching, reporting_line_depth=depth))


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return _config(config)


async def _load(db: Database, records: list[Record]) -> None:
    async with db.session() as session:
        await directory.save_snapshot(session, "csv", records, NOW)


async def _proposal(platform: LocalPlatform) -> str:
    await platform.command(COORDINATOR, "match")
    message = platform.messenger.inbox["coord"][-2].message
    assert message is not None and message.title.startswith("Matching proposal")
    return message.plain()


async def _junior_and_senior(platform: LocalPlatform, senior: LocalUser) -> None:
    # Both typed nothing about managers: only the directory knows the reporting line.
    await signed_up(platform, LENA, department="Marketing", topics=["ai_tools"],
                    languages=["en"])
    await signed_up(platform, senior, role="mentee", department="Executive Board",
                    topics=["ai_tools"], languages=["en"], capacity="1")


async def test_skip_level_boss_is_never_the_juniors_partner(
        platform: LocalPlatform, db: Database) -> None:
    await _load(db, ORG)
    await _junior_and_senior(platform, HANS)
    text = await _proposal(platform)
    assert "Lena → Hans" not in text
    assert "Lena and Hans: Hans is 2 levels above Lena (company directory)" in text
    assert "Everyone left to pair you with is in your reporting line" in text
    assert "Org chart: 2 of the people found in the company directory" in text


async def test_without_the_directory_the_same_people_would_be_paired(
        platform: LocalPlatform) -> None:
    await _junior_and_senior(platform, HANS)
    text = await _proposal(platform)
    assert "Lena → Hans" in text and "Org chart" not in text


@pytest.mark.parametrize(("depth", "senior", "paired"), [
    (1, MO, False), (1, HANS, True), (2, HANS, False), (2, CEO, True), (3, CEO, False),
])
async def test_reporting_line_depth_counts_people_who_never_signed_up(
        config: AppConfig, clock: FixedClock, db: Database,
        depth: int, senior: LocalUser, paired: bool) -> None:
    platform = local_platform(_config(config, depth), clock, db)
    await _load(db, ORG)
    await _junior_and_senior(platform, senior)
    text = await _proposal(platform)
    assert (f"Lena → {senior.display_name}" in text) is paired
    if not paired:
        assert f"Lena and {senior.display_name}: {senior.display_name} is" in text


async def test_a_junior_above_the_senior_is_kept_apart_too(
        platform: LocalPlatform, db: Database) -> None:
    await _load(db, ORG)
    await signed_up(platform, MO, department="Marketing", topics=["ai_tools"],
                    languages=["en"])
    await signed_up(platform, LENA, role="mentee", department="Executive Board",
                    topics=["ai_tools"], languages=["en"], capacity="1")
    text = await _proposal(platform)
    assert "Mo → Lena" not in text and "Lena and Mo: Mo is Lena's manager" in text


async def test_siblings_under_one_manager_are_never_paired(
        platform: LocalPlatform, db: Database) -> None:
    await _load(db, ORG)
    await _junior_and_senior(platform, SVEN)
    text = await _proposal(platform)
    assert "Lena → Sven" not in text
    assert "Lena and Sven: both report to Mo (company directory)" in text
    assert "Everyone left to pair you with is in your own team" in text


async def test_department_comes_from_the_directory_and_disagreements_are_shown(
        platform: LocalPlatform, db: Database) -> None:
    # Lena typed Marketing, Tom typed Finance, before the directory was imported (after
    # it, the survey would not ask them): the directory puts both in one department.
    await signed_up(platform, LENA, department="Marketing", manager="tom",
                    topics=["ai_tools"], languages=["en"])
    await signed_up(platform, TOM, role="mentee", department="Finance",
                    topics=["ai_tools"], languages=["en"], capacity="1")
    await _load(db, [*ORG, replace(_person(TOM, None, "Sales Team A Juniors"))])
    text = await _proposal(platform)
    assert "Lena → Tom" not in text
    assert "Lena: the survey says department Marketing, the directory says " \
           "Sales Team A Juniors" in text
    assert "Lena: the survey names Tom as manager, the directory Mo" in text
    assert "Every senior colleague who speaks English works in your department" in text


async def test_survey_is_the_fallback_and_joins_the_directory_chain(
        platform: LocalPlatform, db: Database) -> None:
    # Ben is not in the directory; he names Mo, whose manager Hans signed up as senior.
    await _load(db, ORG)
    ben = LocalUser("ben", "Ben", locale="en")
    await signed_up(platform, ben, department="Marketing", manager="mo",
                    topics=["ai_tools"], languages=["en"])
    await signed_up(platform, HANS, role="mentee", department="Executive Board",
                    topics=["ai_tools"], languages=["en"], capacity="1")
    text = await _proposal(platform)
    assert "Ben → Hans" not in text
    assert "Ben and Hans: Hans is 2 levels above Ben (survey)" in text
    assert "1 not in the directory" in text


async def test_cycles_and_dangling_managers_are_reported_not_fatal(
        platform: LocalPlatform, db: Database) -> None:
    broken = [
        _person(CEO, "hans", "Board"), _person(HANS, "ceo", "Sales Management"),
        _person(LENA, "nobody", "Marketing"), _person(TOM, None, "Finance"),
    ]
    await _load(db, broken)
    await signed_up(platform, LENA, department="Marketing", topics=["ai_tools"],
                    languages=["en"])
    await signed_up(platform, TOM, role="mentee", department="Finance",
                    topics=["ai_tools"], languages=["en"], capacity="1")
    text = await _proposal(platform)
    assert "Lena → Tom" in text
    assert "The manager data contains a cycle: Carla → Hans → Carla" in text
    assert "Lena: the directory names a manager nobody in it has (nobody@example.com)" in text


async def test_the_introduction_says_where_the_org_facts_came_from(
        platform: LocalPlatform, db: Database) -> None:
    await _load(db, ORG)
    await _junior_and_senior(platform, TOM)
    await platform.command(COORDINATOR, "match")
    proposal = platform.messenger.inbox["coord"][-2].message
    assert proposal is not None and "Lena → Tom" in proposal.plain()
    assert "org chart: company directory" in proposal.plain()
    button = next(b for b in proposal.buttons if b.action_id == "match.confirm")
    await platform.press(COORDINATOR, button.action_id, button.value)
    intro = _introduction(platform, "lena")
    assert "Departments and reporting lines were checked against the company directory" \
        in intro



def _introduction(platform: LocalPlatform, user_id: str) -> str:
    """The junior's introduction: after it comes their guide to mentoring a senior."""
    return next(text for text in reversed(platform.transcript(user_id))
                if not text.startswith("How to mentor a senior colleague"))


async def _teams_senior(db: Database, config: AppConfig, clock: FixedClock) -> None:
    """Tom signed up on Teams (written as the Teams sign-up writes him)."""
    async with db.session() as session:
        current = await rounds.sync_round(session, config.round, clock.now())
        space = await workspaces.workspace_id(session, "teams", "tenant-1", clock.now())
        await session.execute(insert(Participant).values(
            workspace_id=space, platform="teams", user_id="aad-tom", display_name="Tom",
            round_id=current.id, role="mentee", department="Finance", topics=["ai_tools"],
            languages=["en"], meeting_mode="either", capacity=1, locale="en",
            consent_at=clock.now(), status="active", created_at=clock.now(),
            updated_at=clock.now()))


async def test_slack_or_local_and_teams_people_are_never_paired_without_emails(
        config: AppConfig, platform: LocalPlatform, db: Database, clock: FixedClock) -> None:
    await signed_up(platform, LENA, department="Marketing", topics=["ai_tools"],
                    languages=["en"])
    await _teams_senior(db, config, clock)
    text = await _proposal(platform)
    assert "Lena → Tom" not in text
    assert "Everyone left to pair you with uses another chat platform" in text


async def test_with_directory_emails_they_are_paired_and_told_how_to_reach_each_other(
        config: AppConfig, platform: LocalPlatform, db: Database, clock: FixedClock) -> None:
    tom = Record(key="tom@example.com", email="tom@example.com", display_name="Tom",
                 department="Finance", accounts=(("teams", "aad-tom"),))
    await _load(db, [_person(LENA, None, "Marketing"), tom])
    await signed_up(platform, LENA, department="Marketing", topics=["ai_tools"],
                    languages=["en"])
    await _teams_senior(db, config, clock)
    await platform.command(COORDINATOR, "match")
    proposal = platform.messenger.inbox["coord"][-2].message
    assert proposal is not None and "Lena → Tom" in proposal.plain()
    button = next(b for b in proposal.buttons if b.action_id == "match.confirm")
    await platform.press(COORDINATOR, button.action_id, button.value)
    intro = _introduction(platform, "lena")
    assert "Tom uses Microsoft Teams, not local: write to tom@example.com" in intro
