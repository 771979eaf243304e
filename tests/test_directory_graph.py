"""The directory from Microsoft Graph, through the real MSAL and aiohttp clients
against the fake Entra login and Graph (HTTPS on loopback): paging, throttling,
a 503 mid-way, and leavers told once across instances and a restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from adapters.local.platform import LocalMessenger
from bot.core.clock import FixedClock
from bot.core.config import AppConfig, DirectorySettings
from bot.graph_directory import GraphSettings, GraphSource
from conversations import directory_sync
from conversations.context import FlowContext
from conversations.directory_sync import sync
from conversations.rhythm import run_due
from storage import directory, rounds, workspaces
from storage.db import Database
from storage.models import Delivery, Participant, Tandem
from tests.fakes.graph import FakeGraph
from tests.helpers.graph import Waits, running_graph

TENANT = "contoso.example"


def users(count: int) -> list[dict[str, object]]:
    """A chain of command: user 0 is the CEO, user n reports to user (n - 1) // 10."""
    return [{"id": f"aad-{n}", "displayName": f"Person {n}", "mail": f"p{n}@contoso.example",
             "userPrincipalName": f"p{n}@contoso.example", "department": f"Dept {n % 50}",
             "jobTitle": "Engineer", "officeLocation": "Munich", "preferredLanguage": "de-DE",
             "accountEnabled": True, "manager": f"aad-{(n - 1) // 10}" if n else None}
            for n in range(count)]


@pytest.fixture
async def graph(tmp_path: Path) -> AsyncIterator[FakeGraph]:
    async with running_graph(tmp_path, TENANT) as fake:
        yield fake


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return replace(config, coordinators={**config.coordinators, "teams": ("aad-coord",)},
                   directory=DirectorySettings(graph_tenant=TENANT, graph_nightly=True))


def source(graph: FakeGraph, waits: Waits | None = None) -> GraphSource:
    return GraphSource(GraphSettings.from_env(TENANT, graph.env()),
                       **({"sleep": waits} if waits else {}))


async def test_sync_reads_every_page_through_throttling_and_a_503(
        graph: FakeGraph, config: AppConfig, clock: FixedClock, db: Database) -> None:
    graph.users = users(2500)
    graph.users[7]["accountEnabled"] = False
    graph.throttle, graph.fail_page, graph.retry_after = 2, 1, "3"
    waits = Waits()
    ctx = FlowContext(config, clock, db, {})
    report = await sync(ctx, source(graph, waits))
    assert graph.calls == ["token", "users:0:429", "users:0:429", "users:0", "users:1:503",
                           "users:1", "users:2"]
    assert waits.seconds == [3.0, 3.0, 3.0]
    assert report.people == 2500 and report.counts.added == 2500
    assert "2500 people read; 2500 new" in report.text("en")
    async with db.session() as session:
        chart = {e.key: e for e in await directory.org_chart(session)}
        person = await directory.person_for(session, "teams", "aad-123")
    assert len(chart) == 2499  # aad-7 is deactivated
    assert chart["aad-123"].manager_key == "aad-12" and chart["aad-0"].manager_key is None
    assert chart["aad-123"].accounts == (("teams", "aad-123"),)
    # Written in batches of 2000: nobody's account is lost between two batches.
    assert all(entry.accounts == (("teams", key),) for key, entry in chart.items())
    assert person is not None and person.email == "p123@contoso.example"
    assert (person.department, person.location, person.preferred_language) == (
        "Dept 23", "Munich", "de-DE")


async def test_a_wrong_secret_is_a_clear_error(
        graph: FakeGraph, config: AppConfig, clock: FixedClock, db: Database) -> None:
    from bot.core.errors import user_text
    from bot.graph_directory import GraphError

    wrong = GraphSource(replace(GraphSettings.from_env(TENANT, graph.env()), secret="nope"))
    with pytest.raises(GraphError) as caught:
        await sync(FlowContext(config, clock, db, {}), wrong)
    assert user_text(caught.value, "en").startswith("Microsoft Graph: no token for tenant")
    async with db.session() as session:
        assert await directory.count_people(session) == 0


async def _a_tandem(db: Database, config: AppConfig, clock: FixedClock,
                    names: tuple[str | None, str | None] = ("Lena", "Hans")) -> int:
    """Lena (junior) and Hans (senior), on Teams, in a confirmed tandem."""
    now = clock.now()
    async with db.session() as session:
        current = await rounds.sync_round(session, config.round, now)
        space = await workspaces.workspace_id(session, "teams", "tenant-1", now)
        ids = []
        for user_id, name, role in (("aad-15", names[0], "mentor"),
                                    ("aad-3", names[1], "mentee")):
            ids.append(await session.scalar(insert(Participant).values(
                workspace_id=space, platform="teams", user_id=user_id, display_name=name,
                round_id=current.id, role=role, department="IT", topics=["ai_tools"],
                languages=["de"], meeting_mode="either", capacity=1, locale="en",
                consent_at=now, status="active", created_at=now, updated_at=now,
            ).returning(Participant.id)))
        await session.execute(insert(Tandem).values(
            round_id=current.id, mentor_id=ids[0], mentee_id=ids[1], score=80.0,
            explanation={}, status="active", created_at=now))
        return current.id


async def test_a_leaver_is_marked_and_partner_and_coordinators_told_once(
        graph: FakeGraph, config: AppConfig, clock: FixedClock, db: Database) -> None:
    graph.users = users(40)
    teams = LocalMessenger()
    first = FlowContext(config, clock, db, {"teams": teams})
    await sync(first, source(graph))
    await _a_tandem(db, config, clock)
    assert teams.inbox == {} or not any(teams.inbox.values())

    # Hans (aad-3) leaves the company: his account is disabled.
    graph.users[3]["accountEnabled"] = False
    clock.set(datetime(2027, 2, 1, 2, 0, tzinfo=UTC))
    # A second instance: its own connections to the same database.
    second_db = Database(db.engine.url.render_as_string(hide_password=False))
    other = FlowContext(config, clock, second_db, {"teams": teams})
    reports = await asyncio.gather(sync(first, source(graph)), sync(other, source(graph)))
    assert sorted(len(r.leavers) for r in reports) in ([0, 1], [1, 1])
    # A restart: a new process state, the same database; nothing more is sent.
    restarted = FlowContext(config, clock, db, {"teams": LocalMessenger()})
    assert (await sync(restarted, source(graph))).leavers == []

    lena = [seen.message.plain() for seen in teams.inbox["aad-15"] if seen.message]
    assert len(lena) == 1 and "Your tandem partner has left the company" in lena[0]
    coordinator = [seen.message.plain() for seen in teams.inbox["aad-coord"] if seen.message]
    assert len(coordinator) == 1
    # In app.yaml's language until the coordinator's own is known.
    assert "Hans hat das Unternehmen verlassen (laut Verzeichnisabgleich)" in coordinator[0]
    assert "Tandempartner*in Lena wurde privat informiert" in coordinator[0]
    assert "aad-3" not in teams.inbox  # the leaver gets nothing
    async with db.session() as session:
        hans = await session.scalar(select(Participant).where(Participant.user_id == "aad-3"))
        tandem = await session.scalar(select(Tandem))
        sent = await session.scalar(select(func.count(Delivery.id)).where(
            Delivery.status == "sent"))
    assert hans is not None and hans.status == "left"
    assert tandem is not None and tandem.status == "ended"
    assert sent == 2
    await second_db.close()


async def test_the_nightly_sync_runs_once_a_night_across_instances(
        graph: FakeGraph, config: AppConfig, clock: FixedClock, db: Database) -> None:
    graph.users = users(30)
    directory_sync.use_nightly([source(graph)])
    second_db = Database(db.engine.url.render_as_string(hide_password=False))
    teams = LocalMessenger()
    try:
        one = FlowContext(config, clock, db, {"teams": teams})
        two = FlowContext(config, clock, second_db, {"teams": teams})
        clock.set(datetime(2027, 2, 2, 0, 30, tzinfo=UTC))  # 01:30 in Berlin: not yet
        await run_due(one)
        assert graph.calls == []
        clock.set(datetime(2027, 2, 2, 1, 30, tzinfo=UTC))  # 02:30 in Berlin
        await asyncio.gather(run_due(one), run_due(two))
        clock.set(datetime(2027, 2, 2, 3, 0, tzinfo=UTC))
        await run_due(two)
        assert graph.calls.count("users:0") == 1
        [note] = [seen.message.plain() for seen in teams.inbox["aad-coord"] if seen.message]
        assert "30 Personen gelesen; 30 neu" in note
        clock.set(datetime(2027, 2, 3, 1, 30, tzinfo=UTC))  # the next night
        await run_due(one)
        assert graph.calls.count("users:0") == 2
        # Nothing changed: the coordinators are not told again.
        assert len([s for s in teams.inbox["aad-coord"] if s.message]) == 1
    finally:
        directory_sync.use_nightly([])
        await second_db.close()


def _plain(teams: LocalMessenger, user_id: str) -> list[str]:
    return [seen.message.plain() for seen in teams.inbox.get(user_id, []) if seen.message]


async def test_the_coordinators_note_names_the_round_and_whoever_has_no_name_by_id(
        graph: FakeGraph, config: AppConfig, clock: FixedClock, db: Database) -> None:
    graph.users = users(40)
    teams = LocalMessenger()
    ctx = FlowContext(config, clock, db, {"teams": teams})
    await sync(ctx, source(graph))
    await _a_tandem(db, config, clock, names=(None, None))
    graph.users[3]["accountEnabled"] = False
    report = await sync(ctx, source(graph))
    assert len(report.leavers) == 1 and report.counts.left == ["aad-3"]
    [note] = _plain(teams, "aad-coord")
    assert note.startswith("aad-3 hat das Unternehmen verlassen"), note
    assert f"und wurde in {config.round.name} als ausgetreten markiert." in note, note
    assert "Tandempartner*in aad-15 wurde privat informiert" in note, note
    assert len(_plain(teams, "aad-15")) == 1


async def test_partners_who_leave_together_are_not_told_about_each_other(
        graph: FakeGraph, config: AppConfig, clock: FixedClock, db: Database) -> None:
    graph.users = users(40)
    teams = LocalMessenger()
    ctx = FlowContext(config, clock, db, {"teams": teams})
    await sync(ctx, source(graph))
    await _a_tandem(db, config, clock)
    # Lena and Hans both leave the company before the next sync.
    graph.users[3]["accountEnabled"] = False
    graph.users[15]["accountEnabled"] = False
    report = await sync(ctx, source(graph))
    assert len(report.leavers) == 2
    assert _plain(teams, "aad-15") == [] and _plain(teams, "aad-3") == []
    notes = _plain(teams, "aad-coord")
    assert len(notes) == 2 and not any("Tandempartner*in" in note for note in notes), notes
    async with db.session() as session:
        statuses = set(await session.scalars(select(Participant.status)))
        tandem = await session.scalar(select(Tandem))
    assert statuses == {"left"} and tandem is not None and tandem.status == "ended"


async def test_the_night_window_runs_from_two_until_before_six_local_time(
        graph: FakeGraph, config: AppConfig, clock: FixedClock, db: Database) -> None:
    graph.users = users(5)
    ctx = FlowContext(config, clock, db, {"teams": LocalMessenger()})
    # Without a nightly source the night passes quietly.
    clock.set(datetime(2027, 2, 1, 1, 30, tzinfo=UTC))  # 02:30 in Berlin
    await run_due(ctx)
    directory_sync.use_nightly([source(graph)])
    try:
        for moment, reads in ((datetime(2027, 2, 2, 0, 59, 59, tzinfo=UTC), 0),  # 01:59:59
                              (datetime(2027, 2, 2, 1, 0, tzinfo=UTC), 1),  # 02:00
                              (datetime(2027, 2, 3, 4, 59, 59, tzinfo=UTC), 2),  # 05:59:59
                              (datetime(2027, 2, 4, 5, 0, tzinfo=UTC), 2)):  # 06:00
            clock.set(moment)
            await run_due(ctx)
            assert graph.calls.count("users:0") == reads, moment
    finally:
        directory_sync.use_nightly([])


async def test_a_failed_nightly_sync_is_tried_again_at_the_next_tick(
        graph: FakeGraph, config: AppConfig, clock: FixedClock, db: Database) -> None:
    graph.users = users(5)
    teams = LocalMessenger()
    ctx = FlowContext(config, clock, db, {"teams": teams})
    directory_sync.use_nightly([source(graph)])
    try:
        graph.secret = "rotated"  # the app's secret no longer works
        clock.set(datetime(2027, 2, 2, 1, 30, tzinfo=UTC))
        await run_due(ctx)
        assert "users:0" not in graph.calls and _plain(teams, "aad-coord") == []
        graph.secret = FakeGraph.secret  # IT fixed it
        clock.set(datetime(2027, 2, 2, 1, 35, tzinfo=UTC))
        await run_due(ctx)
        clock.set(datetime(2027, 2, 2, 1, 40, tzinfo=UTC))
        await run_due(ctx)
        assert graph.calls.count("users:0") == 1
        [note] = _plain(teams, "aad-coord")
        assert "5 Personen gelesen; 5 neu" in note
    finally:
        directory_sync.use_nightly([])


async def test_a_display_name_as_long_as_entra_allows_is_kept_as_far_as_it_fits(
        graph: FakeGraph, config: AppConfig, clock: FixedClock, db: Database) -> None:
    graph.users = users(3)
    graph.users[2]["displayName"] = "Dr. " + "N" * 252  # Entra allows 256 characters
    report = await sync(FlowContext(config, clock, db, {}), source(graph))
    assert report.counts.added == 3
    async with db.session() as session:
        person = await directory.person_by_key(session, "aad-2")
    assert person is not None and person.display_name == ("Dr. " + "N" * 252)[:200]
