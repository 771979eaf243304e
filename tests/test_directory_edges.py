"""The directory fed by more than one source (an HR export and a sync): a source
marks as gone only the people it wrote itself, and a person another source now
delivers becomes that source's, on the real database. ``tandem doctor`` asks the
calendars about an active person's mailbox from the directory."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.core.clock import FixedClock
from bot.doctor import diagnose
from storage import directory
from storage.db import Database
from storage.directory import Record
from storage.directory_survey import KnownFacts, facts_for
from storage.people import people
from tests.helpers import ROOT
from tests.helpers.graph import running_graph


def _person(key: str) -> Record:
    return Record(key=key, email=f"{key}@example.com", display_name=key.title(),
                  department="IT", accounts=(("teams", f"aad-{key}"),))


async def _save(db: Database, source: str, records: list[Record], clock: FixedClock
                ) -> directory.SnapshotCounts:
    clock.advance(timedelta(hours=1))
    async with db.session() as session:
        return await directory.save_snapshot(session, source, records, clock.now())


async def _active(db: Database) -> set[str]:
    async with db.session() as session:
        return {entry.key for entry in await directory.org_chart(session)}


async def test_a_source_marks_as_gone_only_the_people_it_wrote(
        db: Database, clock: FixedClock) -> None:
    await _save(db, "csv", [_person("anna"), _person("ben")], clock)
    # The sync finds Anna exactly as the export had her: she becomes the sync's.
    counts = await _save(db, "graph", [_person("anna")], clock)
    assert (counts.added, counts.updated, counts.unchanged, counts.left) == (0, 1, 0, [])
    assert await _active(db) == {"anna", "ben"}  # Ben is the export's, not the sync's
    # Anna is gone from the next sync: the sync marks her as gone, once.
    assert (await _save(db, "graph", [], clock)).left == ["anna"]
    assert (await _save(db, "graph", [], clock)).left == []
    assert await _active(db) == {"ben"}
    # Unchanged, from the same source: nothing to write.
    again = await _save(db, "csv", [_person("ben")], clock)
    assert (again.updated, again.unchanged) == (0, 1)


async def test_the_doctor_asks_the_calendars_about_an_active_person_with_an_email(
        db: Database, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    gone = Record(key="gone", email="gone@contoso.example", active=False)
    await _save(db, "csv", [gone, Record(key="no-mail"), _person("zoe"), _person("max")],
                clock)
    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    data.setdefault("meetings", {})["graph_tenant_id"] = "contoso.example"
    app_yaml = tmp_path / "app.yaml"
    app_yaml.write_text(yaml.safe_dump(data, allow_unicode=True))
    monkeypatch.setenv("TANDEM_CONFIG", str(app_yaml))
    monkeypatch.setenv("DATABASE_URL", db.url)
    async with running_graph(tmp_path, "contoso.example") as graph:
        for name, value in graph.env().items():
            monkeypatch.setenv(name, value)
        out = io.StringIO()
        await diagnose(out, "en")
    [line] = [line for line in out.getvalue().splitlines() if " calendar " in line]
    assert line.startswith("OK ") and "free/busy readable" in line, line
    assert [ask["schedules"] for ask in graph.schedule_asks] == [["zoe@example.com"]]


async def test_the_surveys_directory_facts_for_many_people_at_once(
        db: Database, clock: FixedClock) -> None:
    """What the survey shows instead of asking, read for a burst of sign-ups in one
    batch: each person's own facts (trimmed), the manager's name (their key where the
    directory has no record of them), nothing for the gone and the unknown, and a
    user id counts only on its own platform."""
    await _save(db, "csv", [
        Record(key="mara", display_name="Mara Boss"),
        Record(key="anna", department=" Sales ", manager_key="mara", location=" Berlin ",
               accounts=(("slack", "U1"),)),
        Record(key="ben", department="  ", manager_key="ghost@example.com",
               accounts=(("slack", "U2"),)),
        Record(key="cleo", department="IT", active=False, accounts=(("slack", "U3"),)),
        Record(key="dora", department="HR", accounts=(("teams", "U1"),)),
    ], clock)
    wanted = {("slack", "U1"), ("slack", "U2"), ("slack", "U3"), ("teams", "U1"),
              ("slack", "U9")}
    async with db.reading() as session:
        found = await facts_for(session, wanted)
    assert found == {
        ("slack", "U1"): KnownFacts("Sales", "mara", "Mara Boss", "Berlin"),
        ("slack", "U2"): KnownFacts(None, "ghost@example.com", "ghost@example.com", None),
        ("teams", "U1"): KnownFacts("HR", None, None, None),
    }
    # Through the people's batcher: two asked at once come in one batch.
    facts, nobody = await asyncio.gather(people(db).directory_facts("slack", "U1"),
                                         people(db).directory_facts("slack", "U3"))
    assert (facts, nobody) == (found[("slack", "U1")], None)
