"""The directory from Slack: the workspace's custom profile fields (``team.profile.get``,
paged ``users.list``, ``users.profile.get``) through the real slack_sdk client, and
Slack's SCIM API through aiohttp, both against fakes on loopback, on both databases.
The org chart they build keeps a skip-level pair apart, a deactivated member becomes
a leaver (partner and coordinators told once), bad config is a clear config error,
and Slack's 429s are waited out."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from adapters.local.platform import LocalMessenger
from adapters.slack.adapter import make_client
from adapters.slack.clients import OneWorkspace
from adapters.slack.profile_directory import SlackProfileSource
from adapters.slack.scim_directory import ScimSource
from bot.core.clock import FixedClock
from bot.core.config import AppConfig, DirectorySettings
from bot.core.errors import ConfigError, user_text
from bot.core.settings import Settings
from conversations.context import FlowContext
from conversations.directory_sync import DirectorySource, sync
from storage import directory
from storage.db import Database
from storage.models import Participant, Tandem
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.fakes.slack_scim import TOKEN, FakeScim, scim_user
from tests.helpers import ROOT
from tests.helpers.graph import Waits
from tests.helpers.seed import seed_tandems
from tests.helpers.servers import Served, post
from tests.helpers.slack_requests import GOOD, slash_command, survey_state, view_submission

COORDINATOR = "U0COORD01"  # app.yaml's coordinator
DEPARTMENT, MANAGER = "Xf0DEPT", "Xf0BOSS"
FIELDS = [{"id": "Xf0TEAM", "label": "Team", "type": "text"},
          {"id": DEPARTMENT, "label": "Abteilung", "type": "options_list"},
          {"id": MANAGER, "label": "Vorgesetzte(r)", "type": "user"}]
#: Carla (CEO) > Hans > Mo > Lena. Mo never signs up; Tom is elsewhere; Jo has left.
ORG = [("U0CEO", "Carla", "Board", None), ("U0HANS", "Hans", "Sales Management", "U0CEO"),
       ("U0MO", "Mo", "Sales Team A", "U0HANS"), ("U0LENA", "Lena", "Sales Juniors", "U0MO"),
       ("U0TOM", "Tom", "Finance", "U0CEO"), ("U0JO", "Jo", "Finance", "U0TOM")]


def members(org: list[tuple[str, str, str, str | None]] = ORG) -> list[FakeUser]:
    people = [FakeUser(user_id, name, email=f"{name.lower()}@example.com", title="Staff",
                       locale="de-DE", fields={DEPARTMENT: department,
                                               **({MANAGER: boss} if boss else {})})
              for user_id, name, department, boss in org]
    people[-1].deleted = True  # Jo
    return [*people, FakeUser(COORDINATOR, "Clara", locale="en-US")]


def scim_users(org: list[tuple[str, str, str, str | None]] = ORG, version: int = 2
               ) -> list[dict[str, object]]:
    return [scim_user(user_id, name, f"{name.lower()}@example.com", department=department,
                      manager=boss, active=name != "Jo", version=version)
            for user_id, name, department, boss in org]


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return members()


@pytest.fixture
async def scim() -> AsyncIterator[FakeScim]:
    fake = FakeScim(users=scim_users())
    await fake.start()
    yield fake
    await fake.stop()


PROFILE_FIELDS = {"department": "abteilung", "manager": MANAGER}  # a label and an id


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return replace(config, directory=DirectorySettings(slack_fields=PROFILE_FIELDS))


def profiles(slack: FakeSlack, fields: dict[str, str] = PROFILE_FIELDS) -> SlackProfileSource:
    client = make_client("xoxb-test", slack.base_url + "api/")
    return SlackProfileSource(OneWorkspace(client), fields, "app.yaml")


def scim_source(scim: FakeScim, waits: Waits | None = None, version: str = "v2") -> ScimSource:
    return ScimSource(scim.url(version), TOKEN, page=2, **({"sleep": waits} if waits else {}))


def source_of(kind: str, slack: FakeSlack, scim: FakeScim) -> DirectorySource:
    return profiles(slack) if kind == "profiles" else scim_source(scim)


async def _chart(db: Database) -> dict[str, tuple[str | None, ...]]:
    async with db.session() as session:
        chart = await directory.org_chart(session)
    return {e.key: (e.name, e.department, e.manager_key, e.email, *[
        f"{p}:{u}" for p, u in e.accounts]) for e in chart}


async def test_profile_fields_build_the_org_chart_page_by_page_through_a_429(
        slack: FakeSlack, config: AppConfig, clock: FixedClock, db: Database) -> None:
    slack.profile_fields, slack.list_page = FIELDS, 3
    slack.rate_limited = {"users.list": 1}
    report = await sync(FlowContext(config, clock, db, {}), profiles(slack))
    assert [c.method for c in slack.calls if c.method.startswith("users.list")] == [
        "users.list:429", "users.list", "users.list", "users.list"]
    assert [args.get("cursor") for args in slack.of("users.list")] == [None, "3", "6"]
    assert report.people == 7 and report.counts.added == 7
    chart = await _chart(db)
    assert set(chart) == {"U0CEO", "U0HANS", "U0MO", "U0LENA", "U0TOM", COORDINATOR}
    assert chart["U0LENA"] == ("Lena", "Sales Juniors", "U0MO", "lena@example.com",
                               "slack:U0LENA")
    assert chart["U0CEO"][2] is None
    # users.list carried no custom fields: asked per member, never for the deleted one.
    asked = sorted(args["user"] for args in slack.of("users.profile.get"))
    assert asked == sorted([COORDINATOR, "U0CEO", "U0HANS", "U0LENA", "U0MO", "U0TOM"])
    async with db.session() as session:
        jo = await directory.person_by_key(session, "U0JO")
        lena = await directory.person_by_key(session, "U0LENA")
    assert jo is not None and not jo.active and jo.source == "slack"
    assert lena is not None and (lena.job_title, lena.preferred_language) == ("Staff", "de-DE")


async def test_fields_on_the_list_are_read_without_asking_each_profile(
        slack: FakeSlack, config: AppConfig, clock: FixedClock, db: Database) -> None:
    slack.profile_fields, slack.list_fields = FIELDS, True
    await sync(FlowContext(config, clock, db, {}), profiles(slack))
    assert slack.of("users.profile.get") == []
    assert (await _chart(db))["U0HANS"][1:3] == ("Sales Management", "U0CEO")


@pytest.mark.parametrize(("fields", "expected"), [
    ({"department": "Abteilungen"}, "directory.slack.department: the Slack workspace has no "
     "profile field 'Abteilungen'; its fields are: Team (Xf0TEAM), Abteilung (Xf0DEPT), "
     "Vorgesetzte(r) (Xf0BOSS)"),
    ({"manager": "Team"}, "directory.slack.manager: the profile field 'Team' is of type text, "
     "not a user field"),
])
async def test_an_unknown_or_wrong_field_is_a_clear_config_error(
        slack: FakeSlack, config: AppConfig, clock: FixedClock, db: Database,
        fields: dict[str, str], expected: str) -> None:
    slack.profile_fields = FIELDS
    with pytest.raises(ConfigError) as caught:
        await sync(FlowContext(config, clock, db, {}), profiles(slack, fields))
    assert expected in caught.value.render("en")
    assert slack.of("users.list") == []
    async with db.session() as session:
        assert await directory.count_people(session) == 0


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_scim_builds_the_org_chart_page_by_page_through_a_429(
        scim: FakeScim, config: AppConfig, clock: FixedClock, db: Database,
        version: str) -> None:
    scim.users = scim_users(version=int(version[1]))
    scim.throttle_page = 2
    waits = Waits()
    report = await sync(FlowContext(config, clock, db, {}), scim_source(scim, waits, version))
    assert scim.calls == ["users:1", "users:3:429", "users:3", "users:5"]
    assert waits.seconds == [2.0]
    assert report.people == 6 and report.source == "slack-scim"
    chart = await _chart(db)
    assert set(chart) == {"U0CEO", "U0HANS", "U0MO", "U0LENA", "U0TOM"}
    assert chart["U0LENA"] == ("Lena", "Sales Juniors", "U0MO", "lena@example.com",
                               "slack:U0LENA")


async def test_scim_without_the_admin_token_is_a_clear_error(
        scim: FakeScim, config: AppConfig, clock: FixedClock, db: Database) -> None:
    from adapters.slack.scim_directory import ScimError

    with pytest.raises(ConfigError) as missing:
        ScimSource.from_env(scim.url(), {})
    assert "SLACK_SCIM_TOKEN: is needed to read the directory from Slack's SCIM API" in \
        missing.value.render("en")
    with pytest.raises(ScimError) as refused:
        await sync(FlowContext(config, clock, db, {}), ScimSource(scim.url(), "xoxp-wrong"))
    assert user_text(refused.value, "en").startswith("Slack SCIM: GET /Users answered 401")


async def _sign_up(server: Served, user: str, **answers: object) -> None:
    body = view_submission(user, "survey", survey_state(**{**GOOD, "manager": None, **answers}))
    assert (await post(server, body))[0] == 200
    assert await server.runtime.background.idle(60)


@pytest.mark.parametrize("kind", ["profiles", "scim"])
async def test_a_skip_level_boss_synced_from_slack_is_never_the_juniors_partner(
        server: Served, slack: FakeSlack, scim: FakeScim, kind: str) -> None:
    slack.profile_fields = FIELDS
    await sync(server.runtime.ctx, source_of(kind, slack, scim))
    # Lena names no manager and Mo never signs up: only the directory knows the line.
    await _sign_up(server, "U0LENA", department="Marketing", topics=["ai_tools"],
                   languages=["en"])
    await _sign_up(server, "U0HANS", role="mentee", department="Finance",
                   topics=["ai_tools"], languages=["en"], capacity="1")
    sent = len(slack.of("chat.postMessage"))
    assert (await post(server, slash_command(COORDINATOR, "match")))[0] == 200
    proposal = (await slack.wait_for("chat.postMessage", sent + 1))[-1]
    text = json.dumps(proposal["blocks"], ensure_ascii=False)
    assert "Lena → Hans" not in text
    assert "Lena and Hans: Hans is 2 levels above Lena (company directory)" in text


@pytest.mark.parametrize("kind", ["profiles", "scim"])
async def test_a_deactivated_member_is_a_leaver_told_once_across_instances(
        slack: FakeSlack, scim: FakeScim, config: AppConfig, clock: FixedClock,
        db: Database, kind: str) -> None:
    # The seeded tandem: junior UJ00000 ("Mentor 0") and senior US00000 ("Mentee 0").
    org = [("UJ00000", "Mentor Zero", "IT", None), ("US00000", "Mentee Zero", "Sales", None),
           ("U0JO", "Jo", "Finance", None)]
    slack.users = {u.id: u for u in members(org)}
    slack.profile_fields, scim.users = FIELDS, scim_users(org)
    await seed_tandems(db, config, 1, platform="slack")
    chat = LocalMessenger()
    first = FlowContext(config, clock, db, {"slack": chat})
    assert (await sync(first, source_of(kind, slack, scim))).leavers == []

    # The senior is deactivated in Slack.
    slack.users["US00000"].deleted = True
    scim.users[1]["active"] = False
    second_db = Database(db.engine.url.render_as_string(hide_password=False))
    other = FlowContext(config, clock, second_db, {"slack": chat})
    try:
        reports = await asyncio.gather(sync(first, source_of(kind, slack, scim)),
                                       sync(other, source_of(kind, slack, scim)))
    finally:
        await second_db.close()
    assert sorted(len(r.leavers) for r in reports) in ([0, 1], [1, 1])
    restarted = FlowContext(config, clock, db, {"slack": LocalMessenger()})
    assert (await sync(restarted, source_of(kind, slack, scim))).leavers == []

    junior = [seen.message.plain() for seen in chat.inbox["UJ00000"] if seen.message]
    assert len(junior) == 1 and "hat das Unternehmen verlassen" in junior[0]  # locale de
    [note] = [seen.message.plain() for seen in chat.inbox[COORDINATOR] if seen.message]
    assert "Mentee 0 hat das Unternehmen verlassen (laut Verzeichnisabgleich)" in note
    assert "US00000" not in chat.inbox
    async with db.session() as session:
        from sqlalchemy import select

        senior = await session.scalar(select(Participant).where(
            Participant.user_id == "US00000"))
        tandem = await session.scalar(select(Tandem))
    assert senior is not None and senior.status == "left"
    assert tandem is not None and tandem.status == "ended"


async def test_the_command_syncs_each_slack_source_in_turn(
        tmp_path: Path, slack: FakeSlack, scim: FakeScim) -> None:
    slack.profile_fields = FIELDS
    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    data["directory"] = {"slack": {"department": "Abteilung", "manager": "Vorgesetzte(r)"},
                         "scim": {"url": scim.url()}}
    app_yaml = tmp_path / "app.yaml"
    app_yaml.write_text(yaml.safe_dump(data, allow_unicode=True))
    env = {**os.environ, "TANDEM_CONFIG": str(app_yaml),
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/t.db",
           "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret",
           "SLACK_API_URL": slack.base_url + "api/", "SLACK_SCIM_TOKEN": TOKEN}

    async def tandem(*args: str, **more: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *args, cwd=ROOT, env={**env, **more},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await process.communicate()
        return process.returncode or 0, out.decode()

    assert (await tandem("migrate"))[0] == 0
    code, out = await tandem("directory", "sync")
    assert code == 0, out
    assert "Directory sync (slack): 7 people read; 7 new" in out
    assert "Directory sync (slack-scim): 6 people read; 0 new, 6 changed" in out
    code, out = await tandem("directory", "sync", SLACK_SCIM_TOKEN="")
    assert code != 0 and "SLACK_SCIM_TOKEN" in out and "Traceback" not in out, out


async def test_the_nightly_sync_reads_each_slack_source_once_across_instances(
        slack: FakeSlack, scim: FakeScim, config: AppConfig, clock: FixedClock,
        db: Database) -> None:
    from datetime import UTC, datetime

    from conversations import directory_sync
    from conversations.rhythm import run_due

    slack.profile_fields = FIELDS
    directory_sync.use_nightly([profiles(slack), scim_source(scim)])
    second_db = Database(db.engine.url.render_as_string(hide_password=False))
    chat = LocalMessenger()
    try:
        one = FlowContext(config, clock, db, {"slack": chat})
        two = FlowContext(config, clock, second_db, {"slack": chat})
        clock.set(datetime(2027, 2, 2, 1, 30, tzinfo=UTC))  # 02:30 in Berlin
        await asyncio.gather(run_due(one), run_due(two))
        clock.set(datetime(2027, 2, 2, 3, 0, tzinfo=UTC))
        await run_due(two)
        assert len(slack.of("team.profile.get")) == 1
        assert [c for c in scim.calls if c == "users:1"] == ["users:1"]
        [note] = [seen.message.plain() for seen in chat.inbox[COORDINATOR] if seen.message]
        assert "Verzeichnisabgleich (slack, slack-scim): 13 Personen gelesen; 7 neu" in note
    finally:
        directory_sync.use_nightly([])
        await second_db.close()


def test_the_manifest_asks_for_the_scopes_the_directory_needs(config: AppConfig) -> None:
    from adapters.slack.manifest import directory_scopes, manifest

    def scopes(settings: DirectorySettings) -> set[str]:
        chosen = replace(config, directory=settings)
        return set(manifest("https://t.example", scopes=directory_scopes(chosen))[
            "oauth_config"]["scopes"]["bot"])

    assert {"users:read", "users:read.email", "users.profile:read"} <= scopes(
        DirectorySettings(slack_fields=PROFILE_FIELDS))
    assert "users:read.email" in scopes(DirectorySettings(csv_columns={"email": "E-Mail"}))
    assert not {"users:read.email", "users.profile:read"} & scopes(DirectorySettings())


async def test_an_org_wide_grid_install_reads_each_workspace_once_per_person(
        config: AppConfig, clock: FixedClock, db: Database) -> None:
    from bot.directory_command import sources
    from tests.fakes.slack_grid import FakeGrid
    from tests.helpers.grid import BERLIN, ENTERPRISE, MUNICH, acme, install, serve_oauth

    grid = acme(FakeGrid())
    grid.profile_fields = FIELDS
    for user in members():
        grid.add_member(user.id, user.name, MUNICH if user.id == "U0TOM" else BERLIN)
        grid.users[user.id] = replace(user)
    await grid.start()
    try:
        async with serve_oauth(grid, replace(config, organisation={"slack": (ENTERPRISE,)}),
                               clock, db) as served:
            assert (await install(served, f"org:{ENTERPRISE}"))[0] == 200
            [source] = sources(Settings(), served.runtime.config, served.runtime)
            report = await sync(served.runtime.ctx, source)
    finally:
        await grid.stop()
    # The org token names each workspace the app is installed in (Slack refuses
    # users.list without one); a member seen in both is one person.
    assert sorted(args["team_id"] for args in grid.of("users.list")) == [BERLIN, MUNICH]
    assert sorted(args["team_id"] for args in grid.of("team.profile.get")) == [BERLIN, MUNICH]
    assert report.people == 7
    assert (await _chart(db))["U0LENA"][1:3] == ("Sales Juniors", "U0MO")
