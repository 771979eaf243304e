"""The company directory at scale (issue 13): a 20,000-person org chart.

Usage: python benchmarks/directory.py [--people 20000] [--pairs 2000]

Three steps, each in its own process (so its peak RSS is its own), on SQLite files
in a temporary folder:

1. csv: a generated org chart (ten reports per manager, 300 departments, quoted
   locations with line breaks, Windows-1252) written as an HR export and imported
   with ``tandem directory import``'s flow: parse, check, one transaction.
2. graph: the same people synced from the fake Microsoft Graph (HTTPS on loopback)
   through the real MSAL and aiohttp clients, in pages of 999.
3. scim: the same people synced from the fake Slack SCIM API (loopback) through
   aiohttp, in pages of 1,000 (``startIndex``/``count``).
4. slack: the same people synced from the fake Slack Web API's paged ``users.list``
   (200 a page, custom fields on the list) through the real slack_sdk client.
5. matching: ``--pairs`` juniors and as many seniors signed up, spread over the
   chart, matched over the whole directory (``conversations.matching.compute``).

Prints wall time and peak RSS per step; exits 1 when the whole takes more than a
minute or a step more than 1 GB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LIMIT_SECONDS = 60.0
LIMIT_MB = 1024.0
HEADER = "Personalnummer;Name;E-Mail;Abteilung;Vorgesetzte(r);Standort;Aktiv\r\n"
COLUMNS = {"key": "Personalnummer", "email": "E-Mail", "name": "Name",
           "department": "Abteilung", "manager": "Vorgesetzte(r)", "location": "Standort",
           "active": "Aktiv"}


def manager_of(n: int) -> int | None:
    return (n - 1) // 10 if n else None


def csv_bytes(people: int) -> bytes:
    rows = [HEADER] + [
        f"{n};Mitarbeiter*in Nr. {n} Müller;p{n}@example.com;Abteilung {n % 300};"
        f"{'' if manager_of(n) is None else manager_of(n)};\"Werk {n % 9}\r\nHalle {n % 4}\";ja\r\n"
        for n in range(people)]
    return "".join(rows).encode("cp1252")


def config(folder: Path) -> Any:
    from dataclasses import replace

    from bot.core.config import DirectorySettings, load_config

    loaded = load_config(ROOT / "app.yaml")
    return replace(loaded, coordinators={**loaded.coordinators, "local": ("coord",)},
                   directory=DirectorySettings(csv_columns=COLUMNS,
                                               graph_tenant="contoso.example"))


async def database(path: Path) -> Any:
    from storage.db import Database

    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.migrate()
    return db


async def step_csv(folder: Path, people: int, _pairs: int) -> dict[str, Any]:
    from bot.core.clock import SystemClock
    from conversations.context import FlowContext
    from conversations.directory_import import import_csv

    data = csv_bytes(people)
    db = await database(folder / "csv.db")
    started = time.perf_counter()
    report = await import_csv(FlowContext(config(folder), SystemClock(), db, {}), data, [])
    seconds = time.perf_counter() - started
    await db.close()
    assert report.ok and report.counts is not None and report.counts.added == people, \
        report.text("en")
    return {"seconds": seconds, "detail": f"{len(data) / 1e6:.1f} MB, {people} rows"}


async def step_graph(folder: Path, people: int, _pairs: int) -> dict[str, Any]:
    from bot.core.clock import SystemClock
    from bot.graph_directory import GraphSettings, GraphSource
    from conversations.context import FlowContext
    from conversations.directory_sync import sync
    from tests.fakes.graph import FakeGraph

    graph = FakeGraph(folder, tenant="contoso.example")
    graph.users = [{"id": f"aad-{n}", "displayName": f"Person {n}",
                    "mail": f"p{n}@example.com", "department": f"Dept {n % 300}",
                    "accountEnabled": True,
                    "manager": None if manager_of(n) is None else f"aad-{manager_of(n)}"}
                   for n in range(people)]
    await graph.start()
    db = await database(folder / "graph.db")
    source = GraphSource(GraphSettings.from_env("contoso.example", graph.env()))
    started = time.perf_counter()
    report = await sync(FlowContext(config(folder), SystemClock(), db, {}), source)
    seconds = time.perf_counter() - started
    await db.close()
    await graph.stop()
    pages = sum(1 for call in graph.calls if call.startswith("users:"))
    assert report.counts.added == people
    return {"seconds": seconds, "detail": f"{pages} pages of 999"}


async def _synced(folder: Path, name: str, source: Any) -> float:
    """Seconds to sync ``source`` whole into a fresh database."""
    from bot.core.clock import SystemClock
    from conversations.context import FlowContext
    from conversations.directory_sync import sync

    db = await database(folder / f"{name}.db")
    started = time.perf_counter()
    report = await sync(FlowContext(config(folder), SystemClock(), db, {}), source)
    seconds = time.perf_counter() - started
    await db.close()
    assert report.counts.added == report.people, report
    return seconds


async def step_scim(folder: Path, people: int, _pairs: int) -> dict[str, Any]:
    from adapters.slack.scim_directory import ScimSource
    from tests.fakes.slack_scim import TOKEN, FakeScim, scim_user

    scim = FakeScim(users=[scim_user(
        f"W{n}", f"Person {n}", f"p{n}@example.com", department=f"Dept {n % 300}",
        manager=None if manager_of(n) is None else f"W{manager_of(n)}")
        for n in range(people)])
    await scim.start()
    seconds = await _synced(folder, "scim", ScimSource(scim.url(), TOKEN))
    await scim.stop()
    pages = sum(1 for call in scim.calls if call.startswith("users:"))
    return {"seconds": seconds, "detail": f"{pages} pages of 1000"}


async def step_slack(folder: Path, people: int, _pairs: int) -> dict[str, Any]:
    from adapters.slack.adapter import make_client
    from adapters.slack.clients import OneWorkspace
    from adapters.slack.profile_directory import SlackProfileSource
    from tests.fakes.slack_api import FakeSlack, FakeUser

    slack = FakeSlack(list_fields=True, profile_fields=[
        {"id": "Xf1", "label": "Abteilung", "type": "text"},
        {"id": "Xf2", "label": "Vorgesetzte(r)", "type": "user"}])
    for n in range(people):
        boss = manager_of(n)
        slack.users[f"W{n}"] = FakeUser(f"W{n}", f"Person {n}", email=f"p{n}@example.com",
                                        fields={"Xf1": f"Dept {n % 300}",
                                                **({"Xf2": f"W{boss}"} if boss is not None
                                                   else {})})
    api = await slack.start()
    source = SlackProfileSource(OneWorkspace(make_client("xoxb-bench", api)),
                                {"department": "Abteilung", "manager": "Xf2"}, "bench")
    seconds = await _synced(folder, "slack", source)
    await slack.stop()
    return {"seconds": seconds, "detail": f"{len(slack.of('users.list'))} pages of 200"}


async def step_matching(folder: Path, people: int, pairs: int) -> dict[str, Any]:
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from bot.core.clock import FixedClock
    from conversations import matching
    from conversations.context import FlowContext
    from storage import directory, rounds, workspaces
    from storage.directory import Record
    from storage.models import Participant

    db = await database(folder / "csv.db")  # the imported chart, 20,000 people
    clock = FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    cfg = config(folder)
    now = clock.now()
    # Juniors are leaves of the chart, seniors managers; every participant's account.
    juniors = list(range(people - pairs, people))
    seniors = list(range(1, pairs + 1))
    rng = random.Random(7)
    topics = [topic.id for topic in cfg.survey.topics]
    zones = ["Europe/Berlin", "Europe/London", "America/New_York", "Asia/Tokyo"]

    def answers(n: int, role: str) -> dict[str, Any]:
        """Survey answers as varied as real ones (the solver's work depends on it)."""
        return {"workspace_id": space, "platform": "local", "user_id": f"u{n}",
                "display_name": f"Person {n}", "round_id": current.id, "role": role,
                "department": "IT", "topics": rng.sample(topics, rng.randint(1, 4)),
                "languages": rng.choice([["de"], ["en"], ["de", "en"], ["de", "en"]]),
                "meeting_mode": rng.choice(["remote", "in_person", "either"]),
                "location": rng.choice(["Munich", "Berlin", "Hamburg", None]),
                "capacity": 1, "locale": "de", "consent_at": now, "status": "active",
                "created_at": now, "updated_at": now, "timezone": rng.choice(zones)}

    async with db.session() as session:
        current = await rounds.sync_round(session, cfg.round, now)
        space = await workspaces.workspace_id(session, "local", "w", now)
        rows = [answers(n, role)
                for role, group in (("mentor", juniors), ("mentee", seniors)) for n in group]
        await session.execute(insert(Participant), rows)
        accounts = [Record(key=str(n), email=f"p{n}@example.com",
                           department=f"Abteilung {n % 300}",
                           manager_key=None if manager_of(n) is None else str(manager_of(n)),
                           accounts=(("local", f"u{n}"),))
                    for n in range(people)]
        await directory.save_snapshot(session, "csv", accounts, now)
        round_id = current.id
    ctx = FlowContext(cfg, clock, db, {})
    started = time.perf_counter()
    _, stored, _ = await matching.compute(ctx, round_id, "coord", save=False)
    seconds = time.perf_counter() - started
    await db.close()
    apart = len(stored["org"]["kept_apart"])
    return {"seconds": seconds, "detail": f"{len(stored['pairs'])} tandems of {pairs} x "
                                          f"{pairs}; {apart} kept-apart pairs listed"}


STEPS = {"csv": step_csv, "graph": step_graph, "scim": step_scim, "slack": step_slack,
         "matching": step_matching}


def child(step: str, folder: Path, people: int, pairs: int) -> None:
    import logging

    logging.disable(logging.WARNING)
    result = asyncio.run(STEPS[step](folder, people, pairs))
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=2_000)
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        child(args.step, args.folder, args.people, args.pairs)
        return 0
    total, worst = 0.0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for step in STEPS:
            out = subprocess.run(
                [sys.executable, __file__, "--step", step, "--folder", tmp,
                 "--people", str(args.people), "--pairs", str(args.pairs)],
                capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(out.stdout + out.stderr)
                return 1
            result = json.loads(out.stdout.strip().splitlines()[-1])
            total += result["seconds"]
            worst = max(worst, result["peak_mb"])
            print(f"{step:9s} {result['seconds']:7.2f} s  peak {result['peak_mb']:7.1f} MB  "
                  f"{result['detail']}")
    verdict = total <= LIMIT_SECONDS and worst <= LIMIT_MB
    print(f"total     {total:7.2f} s  peak {worst:7.1f} MB  "
          f"({'within' if verdict else 'OVER'} {LIMIT_SECONDS:.0f} s and {LIMIT_MB:.0f} MB)")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
