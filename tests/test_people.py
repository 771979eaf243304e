"""``storage.people``: who a person is, looked up and saved in batches, on SQLite and PostgreSQL.

Proves that ``workspace_id`` creates a workspace row once (also when many ask at
once) and then answers from memory without touching the database; that
``participant`` answers None for strangers and, by platform user id, the one row
that stands for everyone else (a person with rows in two workspaces gets the same
one answer from either), also for fifty concurrent lookups, in a handful of
statements; that ``save_survey`` creates the row, updates it on a second save
while keeping the consent given first, and that saves gathered into one batch
behave as they would one after the other (one row per person, the last answers
win, the first consent is kept, every caller gets its own person's row); that
``current_round`` is app.yaml's round, one row for concurrent callers; and that
``standing`` names the round and the partners of active tandems only (an ended
tandem's partner does not appear, a partner without a display name is None).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from conversations.survey import Answers
from storage.db import Database
from storage.models import Participant, Round, Tandem, Workspace
from storage.people import People, Standing, SurveyAnswers, people

SURVEY = Answers(
    role="mentor", department="Sales", manager_user_id="U0BOSS", topics=["ai", "tools"],
    goals="Learn how the others work", languages=["en", "de"], meeting_mode="remote",
    location=None, capacity=1, consent=True,
)


def survey_answers(workspace: int, user: str, now: datetime, round_id: int,
                   survey: Answers = SURVEY, **columns: Any) -> SurveyAnswers:
    """What ``conversations.signup.submit`` saves for a person."""
    return SurveyAnswers(workspace, user, {
        **survey.as_columns(),
        "platform": "slack",
        "display_name": user.title(),
        "round_id": round_id,
        "timezone": "Europe/Berlin",
        "locale": "en",
        "consent_at": now,
        "status": "active",
        "left_at": None,
        **columns,
    }, now)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent to the database (either engine) inside the block."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    engines = {db.engine.sync_engine, db.read_engine.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


async def count(db: Database, model: type[Any]) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def add_person(db: Database, workspace: int, user: str, now: datetime, *,
                     round_id: int | None = None, display_name: str | None = None,
                     consent_at: datetime | None = None) -> Participant:
    async with db.session() as session:
        person = Participant(
            workspace_id=workspace, platform="slack", user_id=user, display_name=display_name,
            round_id=round_id, role="mentor", consent_at=consent_at, created_at=now,
            updated_at=now,
        )
        session.add(person)
    return person


@dataclass(frozen=True)
class Acme:
    """The set-up most tests share: the lookups, a workspace and app.yaml's round."""

    found: People
    workspace: int
    round: Round


@pytest.fixture
async def acme(db: Database, config: AppConfig, clock: FixedClock) -> Acme:
    found = people(db)
    workspace = await found.workspace_id("slack", "T0ACME", clock.now())
    return Acme(found, workspace, await found.current_round(config.round, clock.now()))


async def stored(db: Database, workspace: int, user: str) -> Participant | None:
    async with db.session() as session:
        return await session.scalar(select(Participant).where(
            Participant.workspace_id == workspace, Participant.user_id == user))


# -- workspace_id ---------------------------------------------------------------------


async def test_people_is_one_instance_per_database(db: Database) -> None:
    assert people(db) is people(db)
    assert isinstance(people(db), People)


async def test_workspace_id_creates_the_row_once_then_answers_from_memory(
    db: Database, clock: FixedClock
) -> None:
    found = people(db)

    first = await found.workspace_id("slack", "T0ACME", clock.now())
    assert await count(db, Workspace) == 1
    with statements(db) as sent:
        again = await found.workspace_id("slack", "T0ACME", clock.now())
    assert again == first
    assert sent == []  # remembered: no round trip at all
    assert await count(db, Workspace) == 1

    # Not only remembered but stored: a fresh instance finds the same row.
    assert await People(db).workspace_id("slack", "T0ACME", clock.now()) == first
    # Another platform's workspace with the same external id is another row.
    other = await found.workspace_id("teams", "T0ACME", clock.now())
    assert other != first
    assert await count(db, Workspace) == 2
    async with db.session() as session:
        row = await session.get(Workspace, first)
    assert row is not None
    assert (row.platform, row.external_id, row.created_at) == ("slack", "T0ACME", clock.now())


async def test_workspace_id_seen_first_by_many_at_once_is_one_row(
    db: Database, clock: FixedClock
) -> None:
    found = people(db)

    ids = await asyncio.gather(*(found.workspace_id("slack", "T0MANY", clock.now())
                                 for _ in range(10)))

    assert len(set(ids)) == 1
    assert await count(db, Workspace) == 1


# -- participant ----------------------------------------------------------------------


async def test_participant_is_none_for_strangers_and_the_row_for_people_known(
    db: Database, clock: FixedClock
) -> None:
    found = people(db)
    workspace = await found.workspace_id("slack", "T0ACME", clock.now())
    anna = await add_person(db, workspace, "U0ANNA", clock.now(), display_name="Anna")

    assert await found.participant("slack", "U0NOBODY") is None
    person = await found.participant("slack", "U0ANNA")
    assert person is not None
    assert (person.id, person.user_id, person.display_name) == (anna.id, "U0ANNA", "Anna")
    # The same user id on another platform is somebody else.
    assert await found.participant("teams", "U0ANNA") is None


async def test_fifty_concurrent_lookups_each_get_their_own_answer(
    db: Database, clock: FixedClock
) -> None:
    found = people(db)
    acme = await found.workspace_id("slack", "T0ACME", clock.now())
    other = await found.workspace_id("slack", "T0OTHER", clock.now())
    known: dict[tuple[int, str], int] = {}
    for n in range(0, 40, 2):  # the even users of acme are signed up
        person = await add_person(db, acme, f"U{n:03}", clock.now(), display_name=f"P{n}")
        known[(acme, person.user_id)] = person.id
    for n in range(0, 40, 4):  # in the other workspace: every fourth, other rows
        person = await add_person(db, other, f"U{n:03}", clock.now())
        known[(other, person.user_id)] = person.id
    asks = [f"U{n:03}" for n in range(40)] + [f"U{n:03}" for n in range(10)]

    with statements(db) as sent:
        answers = await asyncio.gather(*(found.participant("slack", u) for u in asks))

    assert len(answers) == 50
    for user, answer in zip(asks, answers, strict=True):
        # Someone with a row in each workspace is one person: the newer row stands
        # for them, whichever workspace asks.
        expected = known.get((other, user), known.get((acme, user)))
        if expected is not None:
            assert answer is not None, user
            assert (answer.id, answer.user_id) == (expected, user)
        else:
            assert answer is None, user
    assert sum(a is not None for a in answers) == 20 + 5  # U000 to U008 asked twice
    twice = [answers[n] for n in (0, 4, 8, 40, 44, 48)]
    assert {a.id for a in twice if a is not None} == {known[(other, f"U{n:03}")]
                                                     for n in (0, 4, 8)}
    # Batched: one statement per platform, not one per lookup.
    assert len([s for s in sent if s.lstrip().upper().startswith("SELECT")]) <= 4


# -- save_survey ----------------------------------------------------------------------


async def test_save_survey_creates_the_row(
    db: Database, acme: Acme, clock: FixedClock
) -> None:
    found, workspace, current = acme.found, acme.workspace, acme.round
    now = clock.now()

    saved = await found.save_survey(survey_answers(workspace, "U0ANNA", now, current.id))

    assert isinstance(saved, Participant)
    assert saved.id is not None
    row = await stored(db, workspace, "U0ANNA")
    assert row is not None
    for person in (saved, row):
        assert person.id == saved.id
        assert (person.workspace_id, person.user_id, person.platform) == (
            workspace, "U0ANNA", "slack")
        assert (person.role, person.department, person.manager_user_id) == (
            "mentor", "Sales", "U0BOSS")
        assert (person.topics, person.languages) == (["ai", "tools"], ["en", "de"])
        assert (person.goals, person.meeting_mode, person.location, person.capacity) == (
            "Learn how the others work", "remote", None, 1)
        assert (person.display_name, person.round_id, person.timezone, person.locale) == (
            "U0Anna", current.id, "Europe/Berlin", "en")
        assert (person.status, person.left_at) == ("active", None)
        assert person.consent_at == person.created_at == person.updated_at == now
    assert await count(db, Participant) == 1
    assert await found.participant("slack", "U0ANNA") is not None


async def test_a_second_save_updates_the_row_and_keeps_the_first_consent(
    db: Database, acme: Acme, clock: FixedClock
) -> None:
    found, workspace, current = acme.found, acme.workspace, acme.round
    first_at = clock.now()
    first = await found.save_survey(survey_answers(workspace, "U0ANNA", first_at, current.id))

    clock.advance(timedelta(days=3))
    later = clock.now()
    second = await found.save_survey(survey_answers(
        workspace, "U0ANNA", later, current.id,
        replace(SURVEY, role="mentee", department="Legal", topics=["law"], capacity=2),
        display_name="Anna B.", locale="de", status="active"))

    assert await count(db, Participant) == 1
    row = await stored(db, workspace, "U0ANNA")
    assert row is not None
    for person in (second, row):
        assert person.id == first.id
        assert (person.role, person.department, person.topics, person.capacity) == (
            "mentee", "Legal", ["law"], 2)
        assert (person.display_name, person.locale) == ("Anna B.", "de")
        assert person.consent_at == first_at  # the consent given first
        assert person.created_at == first_at
        assert person.updated_at == later


async def test_saving_again_after_leaving_clears_left_at(
    db: Database, acme: Acme, clock: FixedClock
) -> None:
    found, workspace, current = acme.found, acme.workspace, acme.round
    now = clock.now()
    await found.save_survey(survey_answers(workspace, "U0ANNA", now, current.id,
                                           status="left", left_at=now))

    clock.advance(timedelta(hours=1))
    saved = await found.save_survey(survey_answers(workspace, "U0ANNA", clock.now(),
                                                   current.id))

    assert (saved.status, saved.left_at) == ("active", None)
    assert saved.consent_at == now


async def test_a_row_without_consent_gets_the_consent_of_the_save(
    db: Database, acme: Acme, clock: FixedClock
) -> None:
    found, workspace, current = acme.found, acme.workspace, acme.round
    await add_person(db, workspace, "U0ANNA", clock.now(), consent_at=None)

    clock.advance(timedelta(days=1))
    saved = await found.save_survey(survey_answers(workspace, "U0ANNA", clock.now(),
                                                   current.id))

    assert saved.consent_at == clock.now()
    assert await count(db, Participant) == 1


async def test_saves_for_one_person_in_one_batch_leave_one_row_as_one_after_the_other(
    db: Database, acme: Acme, clock: FixedClock
) -> None:
    found, workspace, current = acme.found, acme.workspace, acme.round
    now = clock.now()
    first = survey_answers(workspace, "U0ANNA", now, current.id,
                           replace(SURVEY, department="Sales"))
    other = survey_answers(workspace, "U0BEN", now, current.id,
                           replace(SURVEY, role="mentee", department="Finance"))
    last = survey_answers(workspace, "U0ANNA", now + timedelta(seconds=1), current.id,
                          replace(SURVEY, department="Legal", goals="Changed my mind"),
                          display_name="Anna B.")

    with statements(db) as sent:
        results = await asyncio.gather(found.save_survey(first), found.save_survey(other),
                                       found.save_survey(last))

    assert len([s for s in sent if s.lstrip().upper().startswith("INSERT")]) == 1
    assert all(isinstance(r, Participant) for r in results)
    anna_first, ben, anna_last = results
    assert anna_first.id == anna_last.id
    assert (anna_first.user_id, ben.user_id) == ("U0ANNA", "U0BEN")
    assert ben.id != anna_first.id
    assert ben.department == "Finance"
    assert await count(db, Participant) == 2
    row = await stored(db, workspace, "U0ANNA")
    assert row is not None
    for person in (anna_first, anna_last, row):
        assert (person.department, person.goals, person.display_name) == (
            "Legal", "Changed my mind", "Anna B.")  # the last answers win
        assert person.updated_at == now + timedelta(seconds=1)
        # As one after the other: the creation and the consent given first are kept.
        assert person.created_at == now
        assert person.consent_at == now


async def test_concurrent_saves_for_a_known_person_keep_the_stored_consent(
    db: Database, acme: Acme, clock: FixedClock
) -> None:
    found, workspace, current = acme.found, acme.workspace, acme.round
    signed_up_at = clock.now()
    await found.save_survey(survey_answers(workspace, "U0ANNA", signed_up_at, current.id))
    clock.advance(timedelta(days=2))
    now = clock.now()

    results = await asyncio.gather(*(
        found.save_survey(survey_answers(workspace, "U0ANNA", now, current.id,
                                         replace(SURVEY, capacity=n)))
        for n in (1, 2, 3)))

    assert len({r.id for r in results}) == 1
    assert all(r.capacity == 3 for r in results)
    assert all(r.consent_at == signed_up_at for r in results)
    assert await count(db, Participant) == 1


async def test_a_row_the_database_refuses_fails_its_own_caller_only(
    db: Database, acme: Acme, clock: FixedClock
) -> None:
    found, workspace, current = acme.found, acme.workspace, acme.round
    now = clock.now()
    broken = survey_answers(workspace, "U0BROKEN", now, current.id, role=None)  # NOT NULL

    results = await asyncio.gather(
        found.save_survey(survey_answers(workspace, "U0ANNA", now, current.id)),
        found.save_survey(broken),
        found.save_survey(survey_answers(workspace, "U0BEN", now, current.id)),
        return_exceptions=True)

    assert isinstance(results[0], Participant) and isinstance(results[2], Participant)
    assert isinstance(results[1], Exception)
    assert {p.user_id for p in results if isinstance(p, Participant)} == {"U0ANNA", "U0BEN"}
    assert await count(db, Participant) == 2


async def test_saves_need_no_returning_clause(
    db: Database, config: AppConfig, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite has RETURNING only from 3.35 (Debian 11 ships 3.34): saving must work
    where SQLAlchemy turns it off."""
    dialect = db.engine.sync_engine.dialect
    for flag in ("insert_returning", "insert_executemany_returning",
                 "update_returning", "delete_returning"):
        monkeypatch.setattr(dialect, flag, False)
    found = people(db)
    now = clock.now()
    workspace = await found.workspace_id("slack", "T0ACME", now)
    current = await found.current_round(config.round, now)
    saved = await asyncio.gather(*(found.save_survey(
        survey_answers(workspace, f"U0P{n}", now, current.id)) for n in range(3)))
    assert sorted(p.user_id for p in saved) == ["U0P0", "U0P1", "U0P2"]
    assert all(p.id is not None and p.role == "mentor" for p in saved)


# -- current_round --------------------------------------------------------------------


async def test_current_round_is_app_yaml_s_round(
    db: Database, config: AppConfig, clock: FixedClock
) -> None:
    current = await people(db).current_round(config.round, clock.now())

    settings = config.round
    assert current.name == settings.name
    assert (current.signup_opens_at, current.signup_closes_at, current.starts_at) == (
        settings.signup_opens, settings.signup_closes, settings.starts)
    assert (current.length_months, current.meetings_per_month) == (
        settings.length_months, settings.meetings_per_month)
    assert current.created_at == clock.now()
    assert await count(db, Round) == 1


async def test_current_round_is_one_row_for_concurrent_callers(
    db: Database, config: AppConfig, clock: FixedClock
) -> None:
    found = people(db)

    with statements(db) as sent:
        rounds = await asyncio.gather(*(found.current_round(config.round, clock.now())
                                        for _ in range(10)))

    assert {r.id for r in rounds} == {rounds[0].id}
    assert {r.name for r in rounds} == {config.round.name}
    assert await count(db, Round) == 1
    # one sync for all ten: a lookup that finds no round, then in a writing session
    # the lookup, the insert and the re-read
    assert len(sent) <= 4, sent
    clock.advance(timedelta(days=1))
    again = await found.current_round(config.round, clock.now())
    assert again.id == rounds[0].id
    assert await count(db, Round) == 1


# -- standing -------------------------------------------------------------------------


async def test_standing_names_the_round_and_the_partners_of_active_tandems_only(
    db: Database, acme: Acme, clock: FixedClock
) -> None:
    found, workspace, current = acme.found, acme.workspace, acme.round
    now = clock.now()
    anna = await add_person(db, workspace, "U0ANNA", now, round_id=current.id,
                            display_name="Anna")
    bea = await add_person(db, workspace, "U0BEA", now, round_id=current.id,
                           display_name="Bea")
    nameless = await add_person(db, workspace, "U0X", now, round_id=current.id)
    dora = await add_person(db, workspace, "U0DORA", now, round_id=current.id,
                            display_name="Dora")
    loner = await add_person(db, workspace, "U0LONER", now, round_id=current.id,
                             display_name="Lone")
    async with db.session() as session:
        for mentee, status in ((bea, "active"), (dora, "ended"), (nameless, "active")):
            session.add(Tandem(round_id=current.id, mentor_id=anna.id, mentee_id=mentee.id,
                               status=status, created_at=now))
            await session.flush()  # ids in this order

    async def standing(person: Participant) -> Standing | None:
        return await found.standing(person.platform, person.user_id)

    name = current.name
    assert await standing(anna) == Standing(name, ("Bea", None))
    assert await standing(bea) == Standing(name, ("Anna",))
    assert await standing(nameless) == Standing(name, ("Anna",))
    assert await standing(dora) == Standing(name, ())  # ended
    assert await standing(loner) == Standing(name, ())
    assert await found.standing("slack", "U0NOBODY") is None


async def test_standing_for_many_at_once_answers_each_their_own(
    db: Database, acme: Acme, clock: FixedClock
) -> None:
    found, workspace, current = acme.found, acme.workspace, acme.round
    now = clock.now()
    async with db.session() as session:
        earlier = Round(name="2026-autumn", signup_opens_at=now - timedelta(days=300),
                        signup_closes_at=now - timedelta(days=250),
                        starts_at=now - timedelta(days=240), length_months=6,
                        meetings_per_month=1, status="closed", created_at=now)
        session.add(earlier)
    people_ = [await add_person(db, workspace, f"U{n:02}", now, round_id=current.id,
                                display_name=f"Person {n}") for n in range(10)]
    veteran = await add_person(db, workspace, "U0VET", now, round_id=earlier.id,
                               display_name="Vet")
    unrounded = await add_person(db, workspace, "U0NEW", now)
    async with db.session() as session:
        for n in range(0, 10, 2):  # pairs (0, 1), (2, 3), ...: all active but (4, 5)
            session.add(Tandem(round_id=current.id, mentor_id=people_[n].id,
                               mentee_id=people_[n + 1].id,
                               status="ended" if n == 4 else "active", created_at=now))
        session.add(Tandem(round_id=earlier.id, mentor_id=veteran.id,
                           mentee_id=unrounded.id, status="active", created_at=now))

    everyone = [*people_, veteran, unrounded]
    standings = await asyncio.gather(*(found.standing(p.platform, p.user_id)
                                       for p in everyone))

    name = current.name
    for n, standing in enumerate(standings[:10]):
        partner = n + 1 if n % 2 == 0 else n - 1
        expected = () if n in (4, 5) else (f"Person {partner}",)
        assert standing == Standing(name, expected), n
    assert standings[10] == Standing("2026-autumn", (None,))  # partner without a name
    assert standings[11] == Standing(None, ("Vet",))
