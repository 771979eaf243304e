"""Slack at company scale in tests: the OAuth-mode server against ``FakeGrid``, the
install flow as a browser walks it, and signed requests from Grid workspaces."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from cryptography.fernet import Fernet

from adapters.slack.settings import OAUTH, SlackSettings
from bot.core.clock import Clock
from bot.core.config import AppConfig
from bot.core.settings import Settings
from storage.db import Database
from tests.fakes.slack_grid import FakeGrid
from tests.helpers.servers import Served, post, serve
from tests.helpers.slack_requests import SIGNING_SECRET, slash_command

ENTERPRISE = "E0ACME"
BERLIN, MUNICH, ELSEWHERE = "T0BERLIN", "T0MUNICH", "T0OTHER"
#: The key the tests' installations are encrypted with.
TOKEN_KEY = Fernet.generate_key().decode()


def acme(fake: FakeGrid) -> FakeGrid:
    """One Enterprise Grid org with two workspaces, and an unrelated workspace."""
    fake.add_enterprise(ENTERPRISE, "Acme Group")
    fake.add_workspace(BERLIN, "Acme Berlin", ENTERPRISE)
    fake.add_workspace(MUNICH, "Acme Munich", ENTERPRISE)
    fake.add_workspace(ELSEWHERE, "Other Corp")
    return fake


def oauth_settings(fake: FakeGrid, key: str = TOKEN_KEY) -> Settings:
    return Settings(platforms={"slack": SlackSettings(
        mode=OAUTH, signing_secret=SIGNING_SECRET, api_url=fake.base_url + "api/",
        client_id=fake.client_id, client_secret=fake.client_secret, token_key=key)})


def of_organisation(config: AppConfig, *ids: str) -> AppConfig:
    return replace(config, organisation={"slack": ids})


@asynccontextmanager
async def serve_oauth(fake: FakeGrid, config: AppConfig, clock: Clock, db: Database
                      ) -> AsyncIterator[Served]:
    async with serve(oauth_settings(fake), config, clock, db) as served:
        yield served


async def install(served: Served, code: str, *, state: str | None = None
                  ) -> tuple[int, str]:
    """Walk the install flow as a browser does: the install page sends it to Slack
    with a state (and a cookie), Slack sends it back with a code."""
    async with served.http.get(served.url + "/slack/install",
                               allow_redirects=False) as response:
        assert response.status == 302, await response.text()
        location = response.headers["Location"]
        cookie = response.headers["Set-Cookie"].split(";")[0]
    issued = parse_qs(urlparse(location).query)["state"][0]
    query = urlencode({"code": code, "state": issued if state is None else state})
    async with served.http.get(f"{served.url}/slack/oauth_redirect?{query}",
                               headers={"Cookie": cookie}) as response:
        return response.status, await response.text()


def org_fields(team_id: str, org_wide: bool) -> dict[str, Any]:
    enterprise = ENTERPRISE if team_id in (BERLIN, MUNICH) else None
    return {"enterprise_id": enterprise, "is_enterprise_install": org_wide and bool(enterprise)}


def command(user_id: str, text: str, team_id: str, *, org_wide: bool = True,
            response_url: str = "") -> str:
    """``/tandem`` typed in a workspace; on Grid it names the org, as Slack does."""
    fields = parse_qs(slash_command(user_id, text, team_id=team_id, response_url=response_url),
                      keep_blank_values=True)
    flat = {k: v[0] for k, v in fields.items()}
    grid = org_fields(team_id, org_wide)
    if grid["enterprise_id"]:
        flat.update(enterprise_id=grid["enterprise_id"], enterprise_name="Acme Group",
                    is_enterprise_install=str(grid["is_enterprise_install"]).lower())
    return urlencode(flat)


def on_grid(body: str, team_id: str, *, org_wide: bool = True) -> str:
    """An interactivity body (``payload=...``) as Slack sends it from a Grid workspace."""
    payload = json.loads(parse_qs(body)["payload"][0])
    grid = org_fields(team_id, org_wide)
    if grid["enterprise_id"]:
        payload["enterprise"] = {"id": grid["enterprise_id"], "name": "Acme Group"}
        payload["team"] = {"id": team_id, "domain": team_id.lower(),
                           "enterprise_id": grid["enterprise_id"]}
        payload["is_enterprise_install"] = grid["is_enterprise_install"]
    return urlencode({"payload": json.dumps(payload)})


def event(inner: dict[str, Any], *, team_id: str | None, enterprise_id: str | None = None,
          org_wide: bool = False, event_id: str = "Ev1") -> str:
    return json.dumps({
        "token": "deprecated", "team_id": team_id, "enterprise_id": enterprise_id,
        "api_app_id": "A0TANDEM", "type": "event_callback", "event": inner,
        "event_id": event_id, "event_time": 1_700_000_000,
        "authorizations": [{"enterprise_id": enterprise_id, "team_id": team_id,
                            "user_id": "UBOT", "is_bot": True,
                            "is_enterprise_install": org_wide}],
    })


async def post_event(served: Served, body: str) -> tuple[int, Any]:
    return await post(served, body, content_type="application/json")
