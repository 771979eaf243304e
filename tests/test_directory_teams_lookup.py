"""``tandem directory import``: Teams users found by the export's e-mail column, as
their user principal name or their mail address, through the real MSAL and aiohttp
clients against the fake Entra login and Graph; rows Graph does not know are
reported by e-mail. A row with an Entra object id is not looked up. Look-ups go
20 to a JSON $batch request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.core.config import AppConfig, DirectorySettings
from bot.core.settings import Settings
from bot.directory_command import close, finders
from bot.graph_directory import GraphSettings, GraphSource, GraphUserLookup
from conversations.context import FlowContext
from conversations.directory_import import import_csv
from storage import directory
from storage.db import Database
from tests.fakes.graph import FakeGraph
from tests.helpers.graph import Waits, running_graph

TENANT = "contoso.example"
COLUMNS = {"key": "Personalnummer", "email": "E-Mail", "name": "Name", "teams_id": "Entra-ID"}
EXPORT = ("Personalnummer;Name;E-Mail;Entra-ID\r\n"
          "1;Anna;anna@contoso.example;\r\n"            # her UPN is her mail
          "2;Ben;ben.o'neil@contoso.example;\r\n"       # UPN differs; found by mail
          "3;Cem;cem@contoso.example;aad-cem\r\n"       # the object id is in the file
          "4;Dana;dana@contoso.example;\r\n"            # unknown to the tenant
          "5;Eli;eli@contoso.example;\r\n")             # account disabled


@pytest.fixture
async def graph(tmp_path: Path) -> AsyncIterator[FakeGraph]:
    async with running_graph(tmp_path, TENANT) as fake:
        fake.users = [
            {"id": "aad-anna", "userPrincipalName": "anna@contoso.example",
             "mail": "anna@contoso.example", "accountEnabled": True},
            {"id": "aad-ben", "userPrincipalName": "bo@contoso.onmicrosoft.example",
             "mail": "Ben.O'Neil@contoso.example", "accountEnabled": True},
            {"id": "aad-cem", "userPrincipalName": "cem@contoso.example",
             "mail": "cem@contoso.example", "accountEnabled": True},
            {"id": "aad-eli", "userPrincipalName": "eli@contoso.example",
             "mail": "eli@contoso.example", "accountEnabled": False}]
        yield fake


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    return replace(config, directory=DirectorySettings(csv_columns=COLUMNS,
                                                       graph_tenant=TENANT))


async def test_teams_users_are_found_by_upn_or_mail_and_the_rest_reported(
        graph: FakeGraph, config: AppConfig, clock: FixedClock, db: Database) -> None:
    graph.calendar_throttle, graph.retry_after = 1, "4"  # the first look-up gets a 429
    waits = Waits()
    lookup = GraphUserLookup(GraphSource(GraphSettings.from_env(TENANT, graph.env()), waits))
    try:
        report = await import_csv(FlowContext(config, clock, db, {}), EXPORT.encode("cp1252"),
                                  [lookup])
    finally:
        await lookup.aclose()
    text = report.text("en")
    assert report.ok, text
    assert waits.seconds == [4.0]
    assert graph.calls.count("token") == 1  # one token for the whole import
    # Four look-ups in one $batch (one throttled, asked again alone), then the two
    # Graph had no such UPN for, by mail, in one more.
    assert [c for c in graph.calls if c.startswith("batch")] == [
        "batch:4", "batch-item:429", "batch:1", "batch:2"]
    assert "user:cem@contoso.example" not in graph.calls
    assert "mail:ben.o'neil@contoso.example" in graph.calls
    assert "Matched to teams users: 3 of 5." in text
    assert "Not found among teams users (2): dana@contoso.example, eli@contoso.example" \
        in text
    async with db.session() as session:
        found = {key: await directory.accounts_of(session, person.id)
                 for key in "12345"
                 if (person := await directory.person_by_key(session, key)) is not None}
    assert found == {"1": [("teams", "aad-anna")], "2": [("teams", "aad-ben")],
                     "3": [("teams", "aad-cem")], "4": [], "5": []}
    assert "Nicht gefunden unter den teams-Nutzer*innen (2)" in report.text("de")


async def test_a_large_export_is_looked_up_twenty_to_a_batch(
        graph: FakeGraph, config: AppConfig, clock: FixedClock, db: Database) -> None:
    graph.users = [{"id": f"aad-{n}", "userPrincipalName": f"p{n}@contoso.example",
                    "mail": f"p{n}@contoso.example", "accountEnabled": True}
                   for n in range(45)]
    rows = "".join(f"{n};P{n};p{n}@contoso.example;\r\n" for n in range(50))
    lookup = GraphUserLookup(GraphSource(GraphSettings.from_env(TENANT, graph.env())))
    try:
        report = await import_csv(FlowContext(config, clock, db, {}),
                                  (EXPORT.split("\r\n")[0] + "\r\n" + rows).encode(), [lookup])
    finally:
        await lookup.aclose()
    assert sorted(c for c in graph.calls if c.startswith("batch")) == [
        "batch:10", "batch:20", "batch:20", "batch:5"]
    assert "Matched to teams users: 45 of 50." in report.text("en")


async def test_the_command_looks_teams_users_up_when_app_yaml_names_the_tenant(
        graph: FakeGraph, config: AppConfig) -> None:
    found = finders(Settings(), config, graph.env())
    try:
        assert [f.platform for f in found] == ["teams"]
        assert await found[0].by_email("anna@contoso.example") == "aad-anna"
        assert await found[0].by_email("nobody@contoso.example") is None
    finally:
        await close(found)
    assert finders(Settings(), replace(config, directory=DirectorySettings(
        csv_columns=COLUMNS)), graph.env()) == []
