"""Slack's OAuth install mode against the fake Grid: installs through bolt's flow,
the installation store in Tandem's database (encrypted, on SQLite and
PostgreSQL), token rotation, uninstalls, and refusals from outside the
programme's organisation. Everything over HTTP with signed requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from adapters.slack.options import SlackOptions
from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from storage.db import Database
from storage.models import (
    ConversationRef,
    Installation,
    OAuthState,
    Participant,
    ProcessedEvent,
    Workspace,
)
from tests.fakes.slack_grid import FakeGrid
from tests.helpers.grid import (
    BERLIN,
    ELSEWHERE,
    ENTERPRISE,
    MUNICH,
    acme,
    command,
    event,
    install,
    of_organisation,
    post_event,
    serve_oauth,
)
from tests.helpers.servers import Served, post


@pytest.fixture
async def grid() -> AsyncIterator[FakeGrid]:
    fake = acme(FakeGrid())
    fake.add_member("W0ANNA", "Anna", BERLIN, locale="de-DE")
    fake.add_member("W0BEN", "Ben", MUNICH)
    fake.add_member("U0OTTO", "Otto", ELSEWHERE)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def served(grid: FakeGrid, config: AppConfig, clock: FixedClock, db: Database
                 ) -> AsyncIterator[Served]:
    async with serve_oauth(grid, config, clock, db) as running:
        yield running


async def rows(db: Database, model: type) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_org_wide_install_is_stored_encrypted_and_answers_every_workspace(
    served: Served, grid: FakeGrid, db: Database
) -> None:
    status, page = await install(served, f"org:{ENTERPRISE}")
    assert status == 200 and "Acme Group" in page
    token = grid.token_of(f"{ENTERPRISE}:")
    async with db.session() as session:
        [row] = (await session.scalars(select(Installation))).all()
    assert (row.enterprise_id, row.team_id, row.is_enterprise_install) == (ENTERPRISE, "", True)
    assert token not in row.secrets and token not in str(row.data)
    assert await rows(db, OAuthState) == 0  # the state was good once

    for user, team in (("W0ANNA", BERLIN), ("W0BEN", MUNICH)):
        status, answer = await post(served, command(user, "help", team))
        assert status == 200 and answer["response_type"] == "ephemeral"
    looked_up = grid.of("users.info")
    assert [c["user"] for c in looked_up] == ["W0ANNA", "W0BEN"]
    assert {c["_token"] for c in looked_up} == {token}


async def test_separate_workspaces_each_use_their_own_token(
    served: Served, grid: FakeGrid
) -> None:
    assert (await install(served, f"team:{BERLIN}"))[0] == 200
    assert (await install(served, f"team:{ELSEWHERE}"))[0] == 200
    await post(served, command("W0ANNA", "help", BERLIN, org_wide=False))
    await post(served, command("U0OTTO", "help", ELSEWHERE))
    assert grid.calls_of("users.info", f"{ENTERPRISE}:{BERLIN}")[0]["user"] == "W0ANNA"
    assert grid.calls_of("users.info", f":{ELSEWHERE}")[0]["user"] == "U0OTTO"


async def test_a_workspace_outside_the_organisation_is_refused_and_nothing_stored(
    grid: FakeGrid, config: AppConfig, clock: FixedClock, db: Database
) -> None:
    async with serve_oauth(grid, of_organisation(config, ENTERPRISE), clock, db) as served:
        status, page = await install(served, f"team:{ELSEWHERE}")
        assert status == 403 and "andere Organisation" in page
        status, answer = await post(served, command("U0OTTO", "signup", ELSEWHERE))
        assert status == 200 and "andere Organisation" in answer["text"]
        status, _ = await post_event(served, event(
            {"type": "app_home_opened", "user": "U0OTTO", "tab": "home"},
            team_id=ELSEWHERE, event_id="EvOUTSIDE"))
        assert status == 200
        # The org itself is welcome.
        assert (await install(served, f"org:{ENTERPRISE}"))[0] == 200
    for model in (Participant, Workspace, ConversationRef, ProcessedEvent):
        assert await rows(db, model) == 0, model
    assert await rows(db, Installation) == 1
    assert not [c for c in grid.calls if c.args.get("user") == "U0OTTO"]


async def test_a_forged_state_installs_nothing(served: Served, db: Database) -> None:
    status, _ = await install(served, f"org:{ENTERPRISE}", state="forged")
    assert status in (400, 401)
    assert await rows(db, Installation) == 0


async def test_expiring_bot_tokens_are_rotated_and_saved(
    served: Served, grid: FakeGrid, db: Database
) -> None:
    grid.rotation, grid.expires_in = True, 60  # expires within bolt's two hours
    await install(served, f"org:{ENTERPRISE}")
    first = grid.token_of(f"{ENTERPRISE}:")
    status, _ = await post(served, command("W0ANNA", "help", BERLIN))
    assert status == 200
    [refresh] = [c for c in grid.of("oauth.v2.access") if c.get("grant_type")]
    assert refresh["grant_type"] == "refresh_token"
    second = grid.token_of(f"{ENTERPRISE}:")
    assert second != first and grid.tokens[first].revoked
    assert grid.of("users.info")[-1]["_token"] == second
    async with db.session() as session:
        row = await session.scalar(select(Installation))
    assert row is not None and second not in row.secrets


async def test_app_uninstalled_deletes_the_installation(
    served: Served, grid: FakeGrid, db: Database
) -> None:
    await install(served, f"team:{ELSEWHERE}")
    assert await rows(db, Installation) == 1
    status, _ = await post_event(served, event({"type": "app_uninstalled"},
                                               team_id=ELSEWHERE, event_id="EvGONE"))
    assert status == 200
    assert await rows(db, Installation) == 0
    # Re-installing restores it.
    await install(served, f"team:{ELSEWHERE}")
    assert await rows(db, Installation) == 1


def test_the_manifest_of_oauth_mode_has_the_redirect_url_and_org_deploy() -> None:
    from adapters.slack.manifest import manifest

    token_mode = manifest("https://tandem.example.com/")
    oauth = manifest("https://tandem.example.com/", oauth=True)
    assert "redirect_urls" not in token_mode["oauth_config"]
    assert token_mode["settings"]["org_deploy_enabled"] is False
    assert oauth["oauth_config"]["redirect_urls"] == [
        "https://tandem.example.com/slack/oauth_redirect"]
    assert oauth["settings"]["org_deploy_enabled"] is True
    assert oauth["settings"]["token_rotation_enabled"] is True
    assert {"app_uninstalled", "tokens_revoked", "team_access_granted",
            "team_access_revoked"} <= set(oauth["settings"]["event_subscriptions"]["bot_events"])


async def test_readyz_counts_the_installations(served: Served) -> None:
    await install(served, f"org:{ENTERPRISE}")
    await install(served, f"team:{ELSEWHERE}")
    async with served.http.get(served.url + "/readyz") as response:
        body = await response.json()
    assert response.status == 200 and body["installations"] == {"slack": 2}


async def test_doctor_asks_slack_about_every_installation(
    served: Served, grid: FakeGrid, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.slack.doctor import check
    from tests.helpers.grid import oauth_settings

    settings = oauth_settings(grid).platforms["slack"]
    monkeypatch.setenv("DATABASE_URL", db.url)
    assert (await check(settings)).status == "PROBLEM"  # installed nowhere yet
    await install(served, f"org:{ENTERPRISE}")
    await install(served, f"team:{ELSEWHERE}")
    found = await check(settings)
    assert found.status == "OK", found.said()
    assert "org Acme Group (E0ACME, org-wide)" in found.said() and ELSEWHERE in found.said()
    tokens = {c["_token"] for c in grid.of("auth.test")}
    assert {grid.token_of(f"{ENTERPRISE}:"), grid.token_of(f":{ELSEWHERE}")} <= tokens
    grid.tokens[grid.token_of(f":{ELSEWHERE}")].revoked = True
    found = await check(settings)
    assert found.status == "PROBLEM" and "Other Corp" in found.said()
    assert "token_revoked" in found.said() and "Acme Group" not in found.said()
    assert all(t not in found.said() for t in grid.tokens)
    grid.scopes = tuple(s for s in grid.scopes if s != "usergroups:read")
    await install(served, f"team:{ELSEWHERE}")  # reinstalled, short of a scope
    found = await check(settings)
    assert found.status == "PROBLEM" and "scopes missing (usergroups:read)" in found.said()


async def test_coordinator_groups_are_read_in_every_workspace_of_an_org_install(
    grid: FakeGrid, config: AppConfig, clock: FixedClock, db: Database
) -> None:
    grid.user_groups["S0HR"] = ("mentoring-hr", ("W0ANNA", "W0BEN"))
    with_group = replace(
        config, platform_options={"slack": SlackOptions(coordinator_usergroup="@mentoring-hr")})
    async with serve_oauth(grid, with_group, clock, db) as served:
        await install(served, f"org:{ENTERPRISE}")
        [adapter] = [a for a in served.runtime.adapters if a.platform == "slack"]
        members = await adapter.coordinator_group.refresh()  # type: ignore[attr-defined]
    assert members == {"W0ANNA", "W0BEN"}
    org_token = grid.token_of(f"{ENTERPRISE}:")
    asked = grid.of("usergroups.list")
    # An org token must name the workspace: each of the org's is asked with its id.
    assert {c["team_id"] for c in asked if c["_token"] == org_token} == {BERLIN, MUNICH}
    assert all(c.get("team_id") for c in grid.of("usergroups.users.list"))


async def test_tokens_revoked_deletes_the_bot_installation(
    served: Served, grid: FakeGrid, db: Database
) -> None:
    await install(served, f"team:{ELSEWHERE}")
    await install(served, f"org:{ENTERPRISE}")
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
    status, _ = await post_event(served, event(revoked, team_id=ELSEWHERE,
                                               event_id="EvREVOKED"))
    assert status == 200
    async with db.session() as session:
        left = (await session.scalars(select(Installation))).all()
    assert [(row.enterprise_id, row.team_id) for row in left] == [(ENTERPRISE, "")]
    # Requests from there are no longer authorised: nobody is looked up.
    await post(served, command("U0OTTO", "help", ELSEWHERE))
    assert not [c for c in grid.of("users.info") if c["user"] == "U0OTTO"]
