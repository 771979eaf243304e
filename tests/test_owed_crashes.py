"""Nothing owed is lost when the server dies: ``kill -9`` at each step of a flow.

The real ``tandem serve`` runs as a process of its own against the real database
(SQLite and PostgreSQL), the fake Slack Web API and the fake Bot Framework
connector. The fakes kill it with SIGKILL at a chosen step, deterministically:
when the Nth message arrives, either before it is taken in (the bot claimed it
and died sending) or right after (the bot sent it and died before recording
that). Then ``tandem run-due`` runs, as a process too, as a restarted instance
would: once at once, once after the dead sender's claims ran out. Both processes
are forked from a warm interpreter (``tests.helpers.forkserver``), which spares
each the seconds of imports and nothing else.
Every message the flow owed must then have arrived exactly once on Slack, and at
least once (at most once more: the documented window) on Teams.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections import Counter
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from sqlalchemy import insert, select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig, load_config
from conversations.context import FlowContext
from conversations.matching import compute
from conversations.scheduled import SWITCHES
from storage import coordination, rounds, workspaces
from storage.db import Database
from storage.models import Base, Delivery, MatchProposal, Participant, Tandem
from tests.fakes.bot_connector import FakeConnector, TeamsDriver, TeamsUser, TeamsWorld
from tests.fakes.slack_api import FakeSlack
from tests.helpers import ROOT
from tests.helpers.forkserver import ForkServer
from tests.helpers.live import SURVEY, env_for, free_port, until_ready
from tests.helpers.slack_requests import (
    block_action,
    sign,
    slash_command,
    survey_state,
    view_submission,
)
from tests.helpers.teams import CHANNEL as TEAMS_CHANNEL
from tests.helpers.teams import bot_added_to_team, submit_data

# Servers and processes started, killed, restarted: run first (tests/helpers/xdist_groups.py).
pytestmark = pytest.mark.long
COORDINATOR = "U0COORD01"
CHANNEL = "C0PROGRAM1"
CLARA = TeamsUser("aad-clara", "Clara Koch", locale="de-DE")


@dataclass
class Victim:
    """Which call kills the server: the ``nth`` call of ``method``, ``before`` it is
    taken in or ``after`` it was."""

    method: str
    nth: int
    when: str
    pid: int
    seen: int = 0
    killed: asyncio.Event = field(default_factory=asyncio.Event)
    #: The Teams conversation the fatal call went to.
    target: str | None = None

    def due(self, method: str) -> bool:
        if method != self.method or self.killed.is_set():
            return False
        self.seen += 1
        return self.seen == self.nth

    def kill(self) -> None:
        # SIGKILL is final at once: nothing the server does after this point happens.
        os.kill(self.pid, signal.SIGKILL)
        self.killed.set()

    async def around(self, answer: Coroutine[Any, Any, web.Response]) -> web.Response:
        """The fake's answer to the victim's call, with the kill before or after it."""
        if self.when == "before":
            self.kill()
            answer.close()  # never taken in
            return web.Response(status=503)
        taken = await answer
        self.kill()
        return taken


@dataclass
class CrashingSlack(FakeSlack):
    victim: Victim | None = None

    async def _api(self, request: web.Request) -> web.Response:
        victim = self.victim
        answer = super()._api(request)
        if victim is None or not victim.due(request.match_info["method"]):
            return await answer
        return await victim.around(answer)


class CrashingConnector(FakeConnector):
    victim: Victim | None = None

    async def _send(self, request: web.Request) -> web.Response:
        victim = self.victim
        reply = "activity_id" in request.match_info  # an answer to what someone typed
        answer = super()._send(request)
        if victim is None or reply or not victim.due("send"):
            return await answer
        victim.target = request.match_info["conversation_id"]
        return await victim.around(answer)


@pytest.fixture
def app_yaml(tmp_path: Path) -> Path:
    """app.yaml with sign-up open now in real time, nothing scheduled, short claims,
    and a Teams coordinator."""
    today = datetime.now(UTC).date()
    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    data["round"].update(signup_opens=str(today - timedelta(days=10)),
                         signup_closes=str(today + timedelta(days=30)),
                         starts=str(today + timedelta(days=40)))
    data["rhythm"].update(messages=dict.fromkeys(SWITCHES, False), claim_lease_seconds=5)
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def teams_app_yaml(app_yaml: Path) -> Path:
    """The same, with Clara as the coordinator on Teams."""
    data = yaml.safe_load(app_yaml.read_text())
    data["coordinators"]["teams"] = [CLARA.key]
    app_yaml.write_text(yaml.safe_dump(data))
    return app_yaml


@pytest.fixture
async def slack() -> AsyncIterator[CrashingSlack]:
    fake = CrashingSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def connector() -> AsyncIterator[CrashingConnector]:
    fake = CrashingConnector()
    await fake.start()
    yield fake
    await fake.stop()


@dataclass
class Server:
    pid: int
    url: str


@dataclass
class Instances:
    """``tandem serve`` and ``tandem run-due`` as processes of their own, against the
    test's database and fakes (forked from a warm interpreter: ``forks``). Whatever
    still runs at the end of the test is killed."""

    forks: ForkServer
    db: Database
    slack: FakeSlack
    log: Path
    running: set[int] = field(default_factory=set)

    def env(self, config: Path, **extra: str) -> dict[str, str]:
        # DATABASE_URL is the test's database on either backend (SQLite, PostgreSQL).
        return env_for(self.db, self.slack, TANDEM_CONFIG=str(config),
                       TANDEM_SCHEDULER="off", **extra)

    async def serve(self, config: Path) -> Server:
        port = free_port()
        pid = await self.forks.start(["serve"], self.env(config, PORT=str(port)), self.log)
        self.running.add(pid)
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            await until_ready(http, url + "/readyz")
        return Server(pid, url)

    async def ended(self, pid: int, within: float = 60) -> int:
        code = await self.forks.wait(pid, within)
        self.running.discard(pid)
        return code

    async def killed(self, server: Server, victim: Victim) -> None:
        """Wait for the kill (the flow got as far as the victim's call) and its end."""
        await asyncio.wait_for(victim.killed.wait(), 60)
        assert await self.ended(server.pid, 30) == -signal.SIGKILL

    async def stop(self, server: Server) -> None:
        os.kill(server.pid, signal.SIGTERM)
        await self.ended(server.pid)

    async def run(self, argv: list[str], config: Path, code: str | None = None) -> int:
        pid = await self.forks.start(argv, self.env(config), self.log, code)
        self.running.add(pid)
        return await self.ended(pid)

    async def restart_and_run_due(self, config: Path, start: datetime | None = None
                                  ) -> None:
        """A restarted instance's ticks: at ``start`` (now by default; the dead
        sender's claims still held: it sends only what nobody claimed), then once
        those claims ran out (app.yaml: 5 s), when it takes over the rest."""
        now = start or datetime.now(UTC)
        for at in (now, now + timedelta(minutes=10)):
            code = await self.run(["run-due", "--at", at.isoformat()], config)
            assert code == 0, self.log.read_text()

    async def close(self) -> None:
        for pid in list(self.running):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            await self.ended(pid)


@pytest.fixture
async def instances(forks: ForkServer, db: Database, slack: CrashingSlack, tmp_path: Path
                    ) -> AsyncIterator[Instances]:
    made = Instances(forks, db, slack, tmp_path / "tandem.log")
    try:
        yield made
    finally:
        await made.close()


async def post_slack(server: Server, body: str) -> int:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, secret="secret")}
    async with aiohttp.ClientSession() as http, http.post(
            server.url + "/slack/events", data=body, headers=headers) as response:
        return response.status


def keys_in_slack(slack: FakeSlack) -> Counter[str]:
    return Counter((m["metadata"] or {}).get("event_payload", {}).get("key", "")
                   for messages in slack.history.values() for m in messages)


async def statuses(db: Database) -> Counter[str]:
    async with db.session() as session:
        return Counter(await session.scalars(select(Delivery.status)))


async def assert_each_arrived(db: Database, slack: FakeSlack,
                              connector: CrashingConnector | None = None) -> set[str]:
    """Every delivery row is sent. On Slack each arrived exactly once (found by its
    key); on Teams each once, except the one whose send the server died right after
    (the documented window): that one twice. Returns the rows' keys."""
    async with db.session() as session:
        rows = (await session.execute(select(
            Delivery.key, Delivery.platform, Delivery.recipient, Delivery.status))).all()
    assert {status for *_, status in rows} == {"sent"}
    on_slack = {key for key, platform, *_ in rows if platform == "slack"}
    sent = keys_in_slack(slack)
    assert {key: sent[key] for key in on_slack} == dict.fromkeys(on_slack, 1)
    if connector is not None:
        expected = Counter(recipient if recipient.startswith("19:") else f"a:chat-{recipient}"
                           for _, platform, recipient, _ in rows if platform == "teams")
        victim = connector.victim
        if victim is not None and victim.when == "after":
            assert victim.target is not None
            expected[victim.target] += 1
        assert Counter(c.conversation_id for c in connector.of_kind("send")) == expected
    return {key for key, *_ in rows}


async def seed_people(db: Database, config: AppConfig, platform: str, count: int,
                      *, tandems: bool = False) -> tuple[int, list[tuple[int, int]]]:
    """``count`` juniors and seniors signed up (paired as tandems when asked); returns
    the round's id and the (mentor, mentee) participant ids."""
    now = datetime.now(UTC)
    async with db.session() as session:
        current = await rounds.sync_round(session, config.round, now)
        space = await workspaces.workspace_id(session, platform, "T1", now)
        for i in range(count):
            for role, prefix in (("mentor", "aad-junior" if platform == "teams" else "U0J"),
                                 ("mentee", "aad-senior" if platform == "teams" else "U0S")):
                await session.execute(insert(Participant).values(
                    workspace_id=space, platform=platform, user_id=f"{prefix}{i:04d}",
                    display_name=f"{role.title()}Name{i:04d}", round_id=current.id, role=role,
                    department="IT" if role == "mentor" else "Sales", topics=["ai_tools"],
                    goals=f"secret goal of {prefix}{i:04d}", languages=["de", "en"],
                    timezone="Europe/Berlin", meeting_mode="either", capacity=1,
                    locale="de" if i % 2 else "en", consent_at=now, status="active",
                    created_at=now, updated_at=now))
        ids = {uid: pid for pid, uid in await session.execute(
            select(Participant.id, Participant.user_id).where(Participant.workspace_id == space))}
        pairs = [(ids[f"{'aad-junior' if platform == 'teams' else 'U0J'}{i:04d}"],
                  ids[f"{'aad-senior' if platform == 'teams' else 'U0S'}{i:04d}"])
                 for i in range(count)]
        if tandems:
            current.status = "matched"
            for mentor, mentee in pairs:
                session.add(Tandem(round_id=current.id, mentor_id=mentor, mentee_id=mentee,
                                   score=50.0, explanation={"offered_wished": ["ai_tools"]},
                                   status="active", created_at=now))
        return current.id, pairs


async def proposal_for(db: Database, config: AppConfig, round_id: int) -> int:
    ctx = FlowContext(config, FixedClock(datetime.now(UTC)), db, {})
    _, _, proposal = await compute(ctx, round_id, COORDINATOR)
    assert proposal is not None
    return proposal.id


# -- Slack ------------------------------------------------------------------------------

@pytest.mark.parametrize(("nth", "when"), [(1, "before"), (2, "after"), (7, "before"),
                                           (7, "after")])
async def test_confirm_introductions_and_announcement_survive_a_kill_on_slack(
    db: Database, instances: Instances, app_yaml: Path, slack: CrashingSlack, nth: int,
    when: str
) -> None:
    """Confirm -> 3 group introductions, each followed by the junior's private guide
    -> the channel's announcement (7 posts); the server dies at the ``nth`` post."""
    config = load_config(app_yaml)
    slack.add_user(COORDINATOR, "Clara")
    round_id, _ = await seed_people(db, config, "slack", 3)
    proposal = await proposal_for(db, config, round_id)
    server = await instances.serve(app_yaml)
    slack.victim = Victim("chat.postMessage", nth, when, server.pid)
    assert await post_slack(server, block_action(
        COORDINATOR, "match.confirm", str(proposal), response_url=slack.response_url())) == 200
    await instances.killed(server, slack.victim)

    await instances.restart_and_run_due(app_yaml)
    async with db.session() as session:
        tandems = (await session.execute(select(Tandem.id, Tandem.mentor_id))).all()
    owed = {f"intro:{t}" for t, _ in tandems} | {f"announce:matching:{round_id}:slack:{CHANNEL}"} \
        | {f"mentor-guide:{round_id}:{junior}" for _, junior in tandems}
    assert len(tandems) == 3
    assert await assert_each_arrived(db, slack) == owed


@pytest.mark.parametrize("when", ["before", "after"])
async def test_the_sign_up_summary_survives_a_kill_on_slack(
    db: Database, instances: Instances, app_yaml: Path, slack: CrashingSlack, when: str
) -> None:
    person = "U0NEWBIE1"
    slack.add_user(person, "Nele")
    server = await instances.serve(app_yaml)
    slack.victim = Victim("chat.postMessage", 1, when, server.pid)
    assert await post_slack(server, view_submission(person, "survey",
                                                    survey_state(**SURVEY))) == 200
    await instances.killed(server, slack.victim)

    await instances.restart_and_run_due(app_yaml)
    summaries = [key for key, count in keys_in_slack(slack).items()
                 for _ in range(count) if key.startswith("summary:")]
    assert len(summaries) == 1
    assert [m["metadata"]["event_payload"]["key"] for m in slack.history["D0NEWBIE1"]] \
        == summaries
    # Sent before the kill, or built anew from the saved answers by the restarted
    # instance (the row keeps how to make it, not a copy of the answers): the same.
    lines = slack.history["D0NEWBIE1"][0]["text"].splitlines()
    assert lines[0] == "You are signed up"
    assert {"Role: junior mentor", "Department: IT", "Topics: AI tools at work",
            "Languages: English", "Meeting: Remote"} <= set(lines)
    assert await statuses(db) == {"sent": 1}


@pytest.mark.parametrize(("nth", "when"), [(1, "after"), (2, "before")])
async def test_forget_me_notices_survive_a_kill_and_nothing_of_the_person_is_left(
    db: Database, instances: Instances, app_yaml: Path, slack: CrashingSlack, nth: int,
    when: str
) -> None:
    """forget-me -> the partner's note -> the coordinator's note; the server dies at
    the ``nth`` of them. The erasure stands, both notes arrive once, and neither a
    table nor (on SQLite) a byte of the database files still holds the person."""
    config = load_config(app_yaml)
    round_id, [(_, mentee)] = await seed_people(db, config, "slack", 1, tandems=True)
    person = "U0J0000"
    for user in (person, "U0S0000", COORDINATOR):
        slack.add_user(user, user.title())
    server = await instances.serve(app_yaml)
    # The bot has written to the person before: a delivery ref with their DM channel.
    async with db.session() as session:
        await session.execute(insert(Delivery).values(
            key="reflect:earlier", kind="reflection", platform="slack", recipient=person,
            round_id=round_id, status="sent", attempts=1, message_ref="D0J0000:17.0001",
            created_at=datetime.now(UTC)))
    slack.victim = Victim("chat.postMessage", nth, when, server.pid)
    assert await post_slack(server, block_action(person, "forget.confirm",
                                                 response_url=slack.response_url())) == 200
    await instances.killed(server, slack.victim)

    await instances.restart_and_run_due(app_yaml)
    async with db.session() as session:
        tandem_id = await session.scalar(select(Tandem.id))
    owed = {f"partner-forgotten:{tandem_id}:{mentee}",
            f"partner-forgotten:{tandem_id}:slack:{COORDINATOR}"}
    sent = keys_in_slack(slack)
    assert {key: sent[key] for key in owed} == dict.fromkeys(owed, 1)
    assert [m["text"] for m in slack.history["D0S0000"]] != []
    await assert_forgotten(db, [person, "D0J0000", "MentorName0000",
                                "secret goal of U0J0000"])


@pytest.mark.parametrize(("method", "when"), [
    ("chat.postMessage", "before"), ("chat.postMessage", "after"),
    ("files.completeUploadExternal", "before"), ("files.completeUploadExternal", "after")])
async def test_a_proposal_and_its_csv_survive_a_kill_on_slack(
    db: Database, instances: Instances, app_yaml: Path, slack: CrashingSlack, method: str, when: str
) -> None:
    """``match`` -> the proposal stored -> its message -> its CSV; the server dies
    sending the message or sharing the file. Both reach the coordinator once."""
    config = load_config(app_yaml)
    slack.add_user(COORDINATOR, "Clara")
    round_id, _ = await seed_people(db, config, "slack", 3)
    server = await instances.serve(app_yaml)
    slack.victim = Victim(method, 1, when, server.pid)
    assert await post_slack(server, slash_command(
        COORDINATOR, "match", response_url=slack.response_url())) == 200
    await instances.killed(server, slack.victim)

    await instances.restart_and_run_due(app_yaml)
    async with db.session() as session:
        proposal_ids = list(await session.scalars(select(MatchProposal.id)))
        current = await rounds.round_by_id(session, round_id)
    assert len(proposal_ids) == 1 and current is not None
    dm = slack.history[FakeSlack.channel_of(COORDINATOR)]
    assert [(m["metadata"] or {}).get("event_payload", {}).get("key") for m in dm
            if not m.get("files")] == [f"proposal:{proposal_ids[0]}"]
    assert [f["name"] for m in dm for f in m.get("files", [])] \
        == [f"tandem-{current.name}-proposal-1.csv"]
    assert await statuses(db) == {"sent": 2}


async def round_action(db: Database, round_id: int, op: str, payload: dict[str, Any]
                       ) -> int:
    """A coordinator's ``round end`` / ``round next``, asked and waiting for Confirm."""
    async with db.session() as session:
        action = await coordination.create_action(
            session, f"round.{op}", "slack", COORDINATOR, round_id, payload, datetime.now(UTC))
        return action.id


@pytest.mark.parametrize(("nth", "when"), [(1, "before"), (2, "after"), (5, "before"),
                                           (5, "after")])
async def test_round_end_notices_survive_a_kill_on_slack(
    db: Database, instances: Instances, app_yaml: Path, slack: CrashingSlack, nth: int,
    when: str
) -> None:
    """``round end`` confirmed -> the evaluation to each of 4 partners -> the channel's
    thank-you (5 posts); the server dies at the ``nth``. The round stays ended and
    each arrives once."""
    config = load_config(app_yaml)
    slack.add_user(COORDINATOR, "Clara")
    round_id, pairs = await seed_people(db, config, "slack", 2, tandems=True)
    action = await round_action(db, round_id, "end", {})
    server = await instances.serve(app_yaml)
    slack.victim = Victim("chat.postMessage", nth, when, server.pid)
    assert await post_slack(server, block_action(
        COORDINATOR, "round.confirm", str(action), response_url=slack.response_url())) == 200
    await instances.killed(server, slack.victim)

    await instances.restart_and_run_due(app_yaml)
    people = [person for pair in pairs for person in pair]
    owed = {f"evaluation:{round_id}:{p}" for p in people} | {f"wrapup:{round_id}:slack:{CHANNEL}"}
    sent = keys_in_slack(slack)
    assert {key: sent[key] for key in owed} == dict.fromkeys(owed, 1)
    assert await statuses(db) == {"sent": 5}
    async with db.session() as session:
        ended = await rounds.round_by_id(session, round_id)
        assert ended is not None and ended.status == "ended"


@pytest.mark.parametrize(("nth", "when"), [(1, "before"), (3, "after")])
async def test_round_next_questions_survive_a_kill_on_slack(
    db: Database, instances: Instances, app_yaml: Path, slack: CrashingSlack, nth: int,
    when: str
) -> None:
    """``round next`` confirmed -> "will you continue?" to each of 4 participants; the
    server dies at the ``nth``. The next round exists and each is asked once."""
    config = load_config(app_yaml)
    slack.add_user(COORDINATOR, "Clara")
    round_id, pairs = await seed_people(db, config, "slack", 2, tandems=True)
    today = datetime.now(UTC).date()
    action = await round_action(db, round_id, "next", {
        "name": "next-round", "closes": str(today + timedelta(days=60)),
        "starts": str(today + timedelta(days=70))})
    server = await instances.serve(app_yaml)
    slack.victim = Victim("chat.postMessage", nth, when, server.pid)
    assert await post_slack(server, block_action(
        COORDINATOR, "round.confirm", str(action), response_url=slack.response_url())) == 200
    await instances.killed(server, slack.victim)

    await instances.restart_and_run_due(app_yaml)
    async with db.session() as session:
        following = await rounds.round_by_name(session, "next-round")
    assert following is not None
    owed = {f"continue:{following.id}:{person}" for pair in pairs for person in pair}
    sent = keys_in_slack(slack)
    assert {key: sent[key] for key in owed} == dict.fromkeys(owed, 1)
    assert await statuses(db) == {"sent": 4}


async def assert_forgotten(db: Database, needles: list[str]) -> None:
    """No row of any table, and on SQLite no byte of the database or its WAL."""
    async with db.session() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            dumped = json.dumps([list(r) for r in rows], default=str, ensure_ascii=False)
            for needle in needles:
                assert needle not in dumped, (table.name, needle)
    if db.dialect != "sqlite":
        return
    path = Path(db.url.split("///", 1)[1])
    for file in (path, Path(f"{path}-wal")):
        if file.exists():
            content = file.read_bytes()
            for needle in needles:
                assert needle.encode() not in content, (file.name, needle)


#: forget-me through the real flow, in a process that dies (SIGKILL) between the
#: erasure's commit and the checkpoint that would have scrubbed the SQLite files.
KILLED_BEFORE_THE_CHECKPOINT = """
import asyncio, os, signal, sys
from datetime import UTC, datetime
from bot.core.clock import FixedClock
from bot.core.config import load_config
from conversations import privacy
from conversations.context import FlowContext
from conversations.events import Actor, ButtonPress
from storage.db import Database

async def main() -> None:
    db = Database(sys.argv[1])
    async def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)
    db.scrub_files = die
    ctx = FlowContext(load_config(sys.argv[2]), FixedClock(datetime.now(UTC)), db, {})
    await privacy.forget_answer(ctx, ButtonPress(Actor("slack", "T1", sys.argv[3]),
                                                 privacy.FORGET_CONFIRM, ""))

asyncio.run(main())
"""


def sqlite_bytes(db: Database) -> bytes:
    """The database file and its write-ahead log, as they are on disk."""
    path = Path(db.url.split("///", 1)[1])
    return b"".join(f.read_bytes() for f in (path, Path(f"{path}-wal")) if f.exists())


@pytest.mark.parametrize("restart", ["run-due", "serve"])
async def test_an_erasure_killed_before_its_checkpoint_is_scrubbed_at_the_restart(
    db: Database, instances: Instances, app_yaml: Path, slack: CrashingSlack, restart: str
) -> None:
    """forget-me commits, then the process is killed before the checkpoint: the
    erased text is still in the SQLite files (the database's old pages, the WAL's
    frames). The next ``run-due`` or ``serve`` checkpoints and truncates the WAL
    before anything else: then no byte of either file holds the person."""
    if db.dialect != "sqlite":
        pytest.skip("the write-ahead log is SQLite's")
    config = load_config(app_yaml)
    await seed_people(db, config, "slack", 1, tandems=True)
    person, needles = "U0J0000", ["MentorName0000", "secret goal of U0J0000"]
    code = await instances.run([db.url, str(app_yaml), person], app_yaml,
                               code=KILLED_BEFORE_THE_CHECKPOINT)
    assert code == -signal.SIGKILL, instances.log.read_text()
    async with db.session() as session:  # the erasure was committed ...
        assert await session.scalar(select(Participant.id).where(
            Participant.user_id == person)) is None
    left = sqlite_bytes(db)  # ... and its text is still on disk
    assert all(needle.encode() in left for needle in needles)

    if restart == "run-due":
        await instances.restart_and_run_due(app_yaml)
    else:
        await instances.serve(app_yaml)  # ready: it has scrubbed the files
    await assert_forgotten(db, [person, *needles])


async def test_forget_me_leaves_no_byte_in_the_sqlite_files_while_the_server_runs(
    db: Database, instances: Instances, app_yaml: Path, slack: CrashingSlack
) -> None:
    """The server keeps running (its connections open, the WAL in use): what was
    erased is in neither the database file nor the WAL."""
    config = load_config(app_yaml)
    await seed_people(db, config, "slack", 2, tandems=True)
    person = "U0J0001"
    for user in (person, "U0S0001", COORDINATOR):
        slack.add_user(user, user.title())
    server = await instances.serve(app_yaml)
    # Read through the running server first, so its pages are in use.
    assert await post_slack(server, block_action(person, "forget.confirm",
                                                 response_url=slack.response_url())) == 200
    await slack.wait_for("chat.postMessage", 2, within=30)
    await assert_forgotten(db, [person, "MentorName0001", "secret goal of U0J0001"])


# -- Teams ------------------------------------------------------------------------------

async def killed_on_teams(instances: Instances, server: Server,
                          connector: CrashingConnector, victim: Victim,
                          people: Sequence[TeamsUser], presser: TeamsUser,
                          data: dict[str, str]) -> None:
    """Each of ``people`` opens the bot's chat (their reference is stored); then
    ``presser`` submits ``data`` and the server dies at ``victim``'s send."""
    async with aiohttp.ClientSession() as http:
        driver = TeamsDriver(server.url, connector, http)
        for user in people:
            assert await driver.say(user, "help") in (200, 201)
        connector.victim = victim
        try:
            assert await driver.submit(presser, data, None) in (200, 201)
        except aiohttp.ServerDisconnectedError:
            assert victim.killed.is_set()  # killed before it had answered
        await instances.killed(server, victim)


@pytest.mark.parametrize(("nth", "when"), [(1, "before"), (3, "after")])
async def test_confirm_introductions_survive_a_kill_on_teams(
    db: Database, instances: Instances, teams_app_yaml: Path, slack: CrashingSlack,
    connector: CrashingConnector,
    nth: int, when: str
) -> None:
    """Teams: each partner of 2 tandems gets a private introduction, and each junior
    a guide (6 sends); the server dies at the ``nth``. Every partner gets theirs;
    only a message sent just before the kill, not yet recorded, comes twice (README:
    reliability)."""
    config = load_config(teams_app_yaml)
    round_id, _ = await seed_people(db, config, "teams", 2)
    proposal = await proposal_for(db, config, round_id)
    people = [TeamsUser(f"aad-{role}{i:04d}", f"{role}{i}") for i in range(2)
              for role in ("junior", "senior")]
    server = await instances.serve(teams_app_yaml)
    await killed_on_teams(instances, server, connector, Victim("send", nth, when, server.pid),
                          (*people, CLARA), CLARA,
                          {"tandem_action": "match.confirm", "value": str(proposal)})

    await instances.restart_and_run_due(teams_app_yaml)
    keys = await assert_each_arrived(db, slack, connector)
    # 4 introductions, 2 guides, and the matching announcement in the Slack channel:
    # the programme has both platforms.
    assert sorted(key.split(":")[0] for key in keys) \
        == ["announce", *["intro"] * 4, *["mentor-guide"] * 2]


@pytest.fixture
def teams_channel_yaml(teams_app_yaml: Path) -> Path:
    """Clara coordinates on Teams, and the programme's only channel is a Teams one."""
    data = yaml.safe_load(teams_app_yaml.read_text())
    data["channels"] = {"slack": [], "teams": [TEAMS_CHANNEL]}
    teams_app_yaml.write_text(yaml.safe_dump(data))
    return teams_app_yaml


@pytest.mark.parametrize("flow", ["matching", "post"])
@pytest.mark.parametrize("when", ["before", "after"])
async def test_teams_channel_announcements_survive_a_kill(
    db: Database, instances: Instances, teams_channel_yaml: Path, slack: CrashingSlack,
    connector: CrashingConnector, flow: str, when: str
) -> None:
    """A Teams channel post dies with the server: the matching announcement after
    Confirm (the 4th send, after both partners' introductions and the junior's guide),
    or a coordinator's
    announcement after "Post" (the only send). After a restart it is in the channel:
    once if the server died before sending it, twice if it died after sending and
    before recording it (Teams cannot be asked; README: reliability)."""
    config = load_config(teams_channel_yaml)
    round_id, _ = await seed_people(db, config, "teams", 1)
    people = [TeamsUser("aad-junior0000", "junior"), TeamsUser("aad-senior0000", "senior")]
    server = await instances.serve(teams_channel_yaml)
    async with aiohttp.ClientSession() as http:
        driver = TeamsDriver(server.url, connector, http)
        for user in (*people, CLARA):
            assert await driver.say(user, "help") in (200, 201)
        # The app is added to the programme's team: the bot learns its channel.
        await bot_added_to_team(TeamsWorld(driver, connector, None), CLARA)
        if flow == "matching":
            data = {"tandem_action": "match.confirm",
                    "value": str(await proposal_for(db, config, round_id))}
            key = f"announce:matching:{round_id}:teams:{TEAMS_CHANNEL}"
            connector.victim = Victim("send", 4, when, server.pid)
        else:
            async with db.session() as session:
                action = await coordination.create_action(
                    session, "announcement", "teams", CLARA.key, round_id,
                    {"channel": TEAMS_CHANNEL, "text": "Kick-off on Friday",
                     "signup_button": False}, datetime.now(UTC))
            data = {"tandem_action": "announce.post", "value": str(action.id)}
            key = f"announcement:{action.id}"
            connector.victim = Victim("send", 1, when, server.pid)
        try:
            assert await driver.submit(CLARA, data, None) in (200, 201)
        except aiohttp.ServerDisconnectedError:
            assert connector.victim.killed.is_set()  # killed before it had answered
        await instances.killed(server, connector.victim)

    await instances.restart_and_run_due(teams_channel_yaml)
    posts = connector.of_kind("send")
    in_channel = [c for c in posts if c.conversation_id == TEAMS_CHANNEL]
    assert len(in_channel) == (1 if when == "before" else 2)
    async with db.session() as session:
        assert await session.scalar(select(Delivery.status).where(Delivery.key == key)) \
            == "sent"
    assert await statuses(db) == {"sent": 4 if flow == "matching" else 1}
    await assert_each_arrived(db, slack, connector)  # the introductions once each


@pytest.mark.parametrize("when", ["before", "after"])
async def test_the_sign_up_summary_survives_a_kill_on_teams(
    db: Database, instances: Instances, teams_app_yaml: Path, slack: CrashingSlack,
    connector: CrashingConnector,
    when: str
) -> None:
    """Teams: the survey's answers are stored and the summary owed; the server dies
    sending it. It arrives after the restart: once, or twice when the server died
    after sending it (README: reliability)."""
    nele = TeamsUser("aad-nele", "Nele Brandt")
    server = await instances.serve(teams_app_yaml)
    async with aiohttp.ClientSession() as http:
        driver = TeamsDriver(server.url, connector, http)
        assert await driver.say(nele, "signup") in (200, 201)
        form = connector.of_kind("reply")[-1]
        assert form.card is not None
        answers = {**submit_data(form.card), "role": "mentor", "department": "IT",
                   "topics": "ai_tools", "languages": "en", "meeting_mode": "remote",
                   "consent": "yes"}
        connector.victim = Victim("send", 1, when, server.pid)
        try:
            assert await driver.submit(nele, answers, form.activity_id) in (200, 201)
        except aiohttp.ServerDisconnectedError:
            assert connector.victim.killed.is_set()
        await instances.killed(server, connector.victim)

    await instances.restart_and_run_due(teams_app_yaml)
    summaries = [c for c in connector.of_kind("send") if c.conversation_id == nele.chat]
    assert len(summaries) == (1 if when == "before" else 2)
    assert await statuses(db) == {"sent": 1}


@pytest.mark.parametrize(("nth", "when"), [(1, "before"), (1, "after"), (2, "before"),
                                           (2, "after")])
async def test_forget_me_notices_survive_a_kill_on_teams(
    db: Database, instances: Instances, teams_app_yaml: Path, slack: CrashingSlack,
    connector: CrashingConnector, nth: int, when: str
) -> None:
    """Teams: forget-me -> the partner's note and Clara's (two sends; the Slack
    coordinator's goes to Slack); the server dies at the ``nth`` send. Each arrives;
    only the one sent just before the kill, not yet recorded, comes twice (README:
    reliability). Clara's one message more than the notes is the scheduled "people
    wait for a tandem" that the restarted instance owes once the partner is alone."""
    config = load_config(teams_app_yaml)
    _, [(_, mentee)] = await seed_people(db, config, "teams", 1, tandems=True)
    person = TeamsUser("aad-junior0000", "junior")
    partner = TeamsUser("aad-senior0000", "senior")
    slack.add_user(COORDINATOR, "Clara")
    server = await instances.serve(teams_app_yaml)
    await killed_on_teams(instances, server, connector, Victim("send", nth, when, server.pid),
                          (person, partner, CLARA), person, {"tandem_action": "forget.confirm"})

    # The "people wait" notice is due from the day's lifecycle time on: a restart
    # before it (a run at night) runs due at it, so the test does not hang on the hour.
    now = datetime.now(UTC)
    lifecycle = datetime.combine(now.astimezone(config.timezone).date(),
                                 config.rhythm.lifecycle_time, tzinfo=config.timezone)
    await instances.restart_and_run_due(teams_app_yaml, max(now, lifecycle))
    async with db.session() as session:
        round_id, tandem_id = (await session.execute(select(Tandem.round_id, Tandem.id))).one()
        rows = dict((await session.execute(select(Delivery.key, Delivery.status))).all())
    # The notes, and the restarted instance's scheduled "1 person waits for a tandem"
    # (the partner): each coordinator gets both, once, on either platform.
    owed = {f"partner-forgotten:{tandem_id}:{mentee}",
            *(f"{note}:{coordinator}" for note in (f"partner-forgotten:{tandem_id}",
                                                   f"waiting:{round_id}:1")
              for coordinator in (f"slack:{COORDINATOR}", f"teams:{CLARA.key}"))}
    assert rows == dict.fromkeys(owed, "sent")
    sent = keys_in_slack(slack)
    assert {key: sent[key] for key in owed if ":slack:" in key} \
        == {key: 1 for key in owed if ":slack:" in key}
    # On Teams only the note sent just before the kill, not yet recorded, comes twice.
    twice = connector.victim.target if when == "after" else None
    expected = {partner.chat: 1, CLARA.chat: 2}
    if twice is not None:
        expected[twice] += 1
    assert Counter(c.conversation_id for c in connector.of_kind("send")) == expected
    await assert_forgotten(db, [person.key, "MentorName0000", "secret goal of aad-junior0000"])


# -- "need help", the prompts after "met", "leave" -----------------------------------------

def started(path: Path, *coordinators: str) -> Path:
    """The app.yaml at ``path``, its round begun ten days ago (check-ins are open for
    month 1), with these Slack coordinators."""
    today = datetime.now(UTC).date()
    data = yaml.safe_load(path.read_text())
    data["round"].update(signup_opens=str(today - timedelta(days=40)),
                         signup_closes=str(today - timedelta(days=12)),
                         starts=str(today - timedelta(days=10)))
    data["coordinators"]["slack"] = list(coordinators)
    path.write_text(yaml.safe_dump(data))
    return path


#: A second coordinator on Slack: "need help" then owes two posts, as the others do.
SECOND = "U0COORD02"

#: Each flow: the button the mentor presses (with the tandem and month, when it has
#: them) and the keys it owes, from (tandem, mentor, mentee, coordinators).
FLOWS: dict[str, tuple[str, bool, Any]] = {
    "help": ("checkin.help", True, lambda tandem, _m, _s, coordinators: {
        f"help:{tandem}:1:{c}" for c in coordinators}),
    "met": ("checkin.met", True, lambda _t, mentor, mentee, _c: {
        f"reflect:{mentor}:1", f"reflect:{mentee}:1"}),
    "leave": ("leave.confirm", False, lambda tandem, _m, mentee, coordinators: {
        f"partner-left:{tandem}:{mentee}", *(f"partner-left:{tandem}:{c}" for c in coordinators)}),
}


async def pressed(db: Database, flow: str) -> tuple[str, str, set[str]]:
    """The flow's button and value, and the keys it owes the Slack programme's people."""
    async with db.session() as session:
        tandem, mentor, mentee = (await session.execute(select(
            Tandem.id, Tandem.mentor_id, Tandem.mentee_id))).one()
    action, with_value, owes = FLOWS[flow]
    coordinators = [f"slack:{c}" for c in (COORDINATOR, SECOND)]
    return (action, f"{tandem}:1" if with_value else "",
            owes(tandem, mentor, mentee, coordinators))


@pytest.mark.parametrize(("nth", "when"), [(1, "after"), (2, "before")])
@pytest.mark.parametrize("flow", list(FLOWS))
async def test_what_a_check_in_or_leaving_owes_survives_a_kill_on_slack(
    db: Database, instances: Instances, app_yaml: Path, slack: CrashingSlack, flow: str,
    nth: int, when: str
) -> None:
    """The mentor presses "We need help" (-> both coordinators), "We met" (-> a
    reflection prompt to each partner) or "Yes, leave" (-> the partner's note and the
    coordinators'); the server dies at the ``nth`` of those posts. After a restart
    each arrives exactly once, and the change stands."""
    config = load_config(started(app_yaml, COORDINATOR, SECOND))
    await seed_people(db, config, "slack", 1, tandems=True)
    for user in ("U0J0000", "U0S0000", COORDINATOR, SECOND):
        slack.add_user(user, user.title())
    action, value, owed = await pressed(db, flow)
    server = await instances.serve(app_yaml)
    slack.victim = Victim("chat.postMessage", nth, when, server.pid)
    assert await post_slack(server, block_action(
        "U0J0000", action, value, response_url=slack.response_url())) == 200
    await instances.killed(server, slack.victim)

    await instances.restart_and_run_due(app_yaml)
    sent = keys_in_slack(slack)
    assert {key: sent[key] for key in owed} == dict.fromkeys(owed, 1)
    async with db.session() as session:
        rows = dict((await session.execute(select(Delivery.key, Delivery.status))).all())
        mentor = await session.scalar(select(Participant).where(
            Participant.user_id == "U0J0000"))
    # and whatever else is owed (after "leave": the scheduled "1 person waits for a
    # tandem" of the restarted instance) once too.
    assert owed <= set(rows) and set(rows.values()) == {"sent"}
    assert {key: sent[key] for key in rows} == dict.fromkeys(rows, 1)
    assert mentor is not None
    assert mentor.status == ("left" if flow == "leave" else "active")


@pytest.mark.parametrize(("flow", "nth", "when"), [
    ("help", 1, "before"), ("help", 1, "after"), ("met", 1, "after"), ("met", 2, "before"),
    ("leave", 1, "after"), ("leave", 2, "before")])
async def test_what_a_check_in_or_leaving_owes_survives_a_kill_on_teams(
    db: Database, instances: Instances, teams_app_yaml: Path, slack: CrashingSlack,
    connector: CrashingConnector, flow: str, nth: int, when: str
) -> None:
    """The same on Teams, with Clara coordinating there (and one coordinator on
    Slack): the server dies at the ``nth`` Teams send. Every message owed arrives;
    only the one sent just before the kill, not yet recorded, comes twice (README:
    reliability)."""
    config = load_config(started(teams_app_yaml, COORDINATOR))
    await seed_people(db, config, "teams", 1, tandems=True)
    mentor = TeamsUser("aad-junior0000", "junior")
    people = (mentor, TeamsUser("aad-senior0000", "senior"), CLARA)
    slack.add_user(COORDINATOR, "Clara")
    action, value, _ = await pressed(db, flow)
    server = await instances.serve(teams_app_yaml)
    await killed_on_teams(instances, server, connector, Victim("send", nth, when, server.pid),
                          people, mentor, {"tandem_action": action, "value": value})

    await instances.restart_and_run_due(teams_app_yaml)
    async with db.session() as session:
        rows = (await session.execute(select(
            Delivery.key, Delivery.platform, Delivery.recipient, Delivery.status))).all()
    assert {status for *_, status in rows} == {"sent"}
    kind = {"help": "help", "met": "reflect", "leave": "partner-left"}[flow]
    assert {key for key, *_ in rows if key.startswith(kind + ":")} != set()
    expected = Counter(f"a:chat-{recipient}" for _, platform, recipient, _ in rows
                       if platform == "teams")
    if when == "after":
        assert connector.victim.target is not None
        expected[connector.victim.target] += 1
    assert Counter(c.conversation_id for c in connector.of_kind("send")) == expected
    sent = keys_in_slack(slack)
    assert all(sent[key] == 1 for key, platform, *_ in rows if platform == "slack")
