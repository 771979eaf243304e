"""Monthly nudge fan-out benchmark (issue 5): N tandems' nudges through ``run_due``.

Usage: python benchmarks/fanout.py [--tandems 10000] [--db sqlite|postgresql|both]

For each database the round is seeded in bulk (a matched round, N active
tandems, everybody in Europe/Berlin), then ``conversations.rhythm.run_due`` runs
one second after the first monthly nudge is due, sending through the real Slack
messenger (``adapters.slack.adapter.make_client``: slack_sdk with its 429 retry
handler) to a lean fake Slack Web API on loopback, in two scenarios:

- unthrottled: every call answers at once;
- throttled: ``--throttle-share`` of chat.postMessage calls answer 429 with
  ``Retry-After: --retry-after`` (chosen at random with a fixed seed, per channel
  and attempt), and ``--stubborn-share`` of the tandem channels answer 429 to
  their first 6 posts, more than slack_sdk's 5 retries absorb, so the outbox
  releases them (``Sent.RETRY``). ``run_due`` then runs again after the release
  time on the fake clock, as the scheduler would on a later tick, until nothing
  is left to retry; the extra rounds are counted.

Duplicates and losses are counted from what the fake server received: each
tandem's group DM must hold exactly one chat.postMessage tagged with its nudge
key. Each scenario runs in its own process (so peak RSS is its own), and the fake
Slack in another (so its CPU time is not the bot's, as with the real Slack).
Exits 1 if any run has a duplicate, a loss or a stray message.

Figures: wall time of the ``run_due`` calls (the simulated wait between rounds is
not slept), messages/s, the bot's CPU time (its threads included) per message,
the fake's and PostgreSQL's CPU, and the cores other jobs on the machine used
meanwhile: on a shared machine, "msg/cpu-s" (messages per second of bot CPU) is
the figure that does not depend on the neighbours; "loop cpu s" is the part of the
bot's CPU spent in the event loop's thread (the rest: aiosqlite's thread). Peak RSS
is the worker's ru_maxrss; ``--tracemalloc`` adds the traced Python peak (and makes
the run about 3x slower). ``--profile DIR`` writes a cProfile per run, timed in the
event loop thread's CPU time (other jobs' use of the cores does not inflate it,
as it does wall time); ``--shared-session``
measures slack_sdk with one keep-alive aiohttp session instead of a new session
and connection per call (what make_client does today).

Why not tests/fakes/slack_api.py: it keeps every call's arguments (blocks and
all), and its group DM ids are built from the last 4 characters of each user
id, which collide among 20,000 users and would show up as false duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
TARGET_PER_SECOND = 200.0
MAX_ROUNDS = 8
#: slack_sdk's AsyncRateLimitErrorRetryHandler(max_retry_count=5) in make_client:
#: a 6th 429 in a row reaches the outbox.
STUBBORN_ATTEMPTS = 6
WORKER_TIMEOUT = 600


# --- the fake Slack Web API (runs in its own process) -----------------------------


@dataclass
class FakeOptions:
    share: float = 0.0
    stubborn_share: float = 0.0
    stubborn_attempts: int = STUBBORN_ATTEMPTS
    retry_after: int = 1
    seed: int = 5


class LeanSlack:
    """Answers conversations.open, chat.postMessage and conversations.history like
    Slack; keeps only (ts, key) of each post per channel and counters."""

    def __init__(self, options: FakeOptions) -> None:
        self.options = options
        self.calls: Counter[str] = Counter()
        self.throttled = 0
        self.attempts: Counter[str] = Counter()
        self.posts: dict[str, list[tuple[str, str | None]]] = {}
        self.next_ts = 0

    def draw(self, *parts: object) -> float:
        """A uniform number in [0, 1) fixed by the seed and ``parts``."""
        text = ":".join(str(p) for p in (self.options.seed, *parts)).encode()
        return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest()) / 2**64

    def throttle(self, channel: str) -> bool:
        attempt = self.attempts[channel] = self.attempts[channel] + 1
        options = self.options
        if options.stubborn_share and self.draw("stubborn", channel) < options.stubborn_share:
            return attempt <= options.stubborn_attempts
        return bool(options.share) and self.draw(channel, attempt) < options.share

    @staticmethod
    def channel_of(target: str) -> str:
        return "D" + target[1:] if target[:1] in ("U", "W") else target

    @staticmethod
    def group_of(users: list[str]) -> str:
        users = sorted(u for u in users if u)
        if len(users) == 1:
            return "D" + users[0][1:]
        return "G" + "".join(u[1:] for u in users)

    async def handle(self, request: Any) -> Any:
        from aiohttp import web

        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update(await request.post())
        self.calls[method] += 1
        if method == "chat.postMessage":
            channel = self.channel_of(str(args.get("channel", "")))
            if self.throttle(channel):
                self.throttled += 1
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429,
                    headers={"Retry-After": str(self.options.retry_after)})
            metadata = args.get("metadata")
            metadata = json.loads(metadata) if isinstance(metadata, str) else metadata or {}
            key = (metadata.get("event_payload") or {}).get("key")
            self.next_ts += 1
            ts = f"{self.next_ts}.000100"
            self.posts.setdefault(channel, []).append((ts, key))
            return web.json_response({"ok": True, "channel": channel, "ts": ts})
        if method == "conversations.open":
            users = str(args.get("users", "")).split(",")
            return web.json_response({"ok": True, "channel": {"id": self.group_of(users)}})
        if method == "conversations.history":
            posted = self.posts.get(str(args.get("channel", "")), [])
            messages = [{"ts": ts, "text": "", **({"metadata": {
                "event_type": "tandem_delivery", "event_payload": {"key": key}}} if key else {})}
                for ts, key in reversed(posted)]
            return web.json_response({"ok": True, "messages": messages, "has_more": False})
        if method == "auth.test":
            return web.json_response({"ok": True, "user_id": "UBOT", "team_id": "T0BENCH"})
        return web.json_response({"ok": True})

    async def stats(self, request: Any) -> Any:
        from aiohttp import web

        usage = resource.getrusage(resource.RUSAGE_SELF)
        if request.query.get("cpu"):
            return web.json_response({"cpu_seconds": usage.ru_utime + usage.ru_stime})
        return web.json_response({
            "calls": dict(self.calls), "throttled": self.throttled,
            "posts": {channel: [key for _, key in posted]
                      for channel, posted in self.posts.items()},
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "max_attempts": max(self.attempts.values(), default=0),
        })


async def serve_fake(options: FakeOptions) -> None:
    """Serve until stdin closes (the worker that started us is done or gone)."""
    from aiohttp import web

    fake = LeanSlack(options)
    app = web.Application()
    app.router.add_route("*", "/api/{method}", fake.handle)
    app.router.add_get("/_bench/stats", fake.stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"PORT {port}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


# --- one scenario on one database (runs in its own process) ------------------------


@dataclass
class WorkerOptions:
    backend: str
    url: str
    scenario: str
    fake: FakeOptions
    tracemalloc: bool = False
    profile: str = ""
    shared_session: bool = False


@dataclass
class Result:
    backend: str
    scenario: str
    tandems: int
    delivered: int = 0
    duplicates: int = 0
    losses: int = 0
    strays: int = 0
    rounds: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    per_second: float = 0.0
    cpu_seconds: float = 0.0
    #: Of ``cpu_seconds``, the event loop's thread (the rest: aiosqlite's, the GC's).
    loop_cpu_seconds: float = 0.0
    fake_cpu_seconds: float = 0.0
    postgres_cpu_seconds: float = 0.0
    #: CPU time of everything else on the machine during the run (other jobs).
    other_cpu_seconds: float = 0.0
    calls: dict[str, int] = field(default_factory=dict)
    throttled: int = 0
    max_attempts: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)
    rss_before_mb: float = 0.0
    peak_rss_mb: float = 0.0
    traced_peak_mb: float | None = None


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


TICK = os.sysconf("SC_CLK_TCK")


def _machine_busy() -> float:
    """CPU seconds all cores spent busy since boot (from /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / TICK


def _postgres_cpu(database: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends serving ``database``
    (other jobs' connections to other databases are not counted)."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                title = cmdline.read().decode(errors="replace")
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                raw = stat.read()
        except OSError:
            continue
        # A backend's title: "postgres: 15/main: USER DATABASE HOST(PORT) STATE".
        if title.startswith("postgres:") and f" {database} " in title:
            fields = raw[raw.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICK


async def _start_fake(options: FakeOptions) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), "--fake-slack",
        json.dumps(asdict(options)), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip()
    if not line.startswith("PORT "):
        raise RuntimeError(f"fake Slack did not start: {line!r}")
    return process, f"http://127.0.0.1:{line.split()[1]}/"


async def _fake_cpu(base_url: str) -> float:
    import aiohttp

    async with aiohttp.ClientSession() as session, \
            session.get(base_url + "_bench/stats", params={"cpu": "1"}) as response:
        return float((await response.json())["cpu_seconds"])


async def run_worker(options: WorkerOptions) -> Result:
    import aiohttp
    from _seed import ROUND_ID, clear_deliveries, delivery_statuses, nudge_instant, tandem_users
    from sqlalchemy.engine import make_url

    from adapters.slack.adapter import make_client
    from adapters.slack.messenger import SlackMessenger
    from bot.core.clock import FixedClock
    from bot.core.config import load_config
    from conversations.context import FlowContext
    from conversations.outbox import RETRY_AFTER
    from conversations.rhythm import run_due
    from storage.db import Database

    config = load_config(ROOT / "app.yaml")
    db = Database(options.url)
    database = make_url(options.url).database or ""
    await clear_deliveries(db)
    users = await tandem_users(db, ROUND_ID)
    expected = {LeanSlack.group_of([m, s]): f"nudge:{tid}:1" for tid, (m, s) in users.items()}
    result = Result(options.backend, options.scenario, len(users))
    fake, base_url = await _start_fake(options.fake)
    http: aiohttp.ClientSession | None = None
    try:
        client = make_client("xoxb-bench", base_url + "api/")
        if options.shared_session:
            # Experiment: one keep-alive session instead of slack_sdk's session per call.
            http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
            client.session = http
        ctx = FlowContext(config, FixedClock(nudge_instant(config)), db,
                          {"slack": SlackMessenger(client)})
        clock = ctx.clock
        assert isinstance(clock, FixedClock)
        gc.collect()
        result.rss_before_mb = _rss_mb()
        if options.tracemalloc:
            import tracemalloc

            tracemalloc.start()
        profiler = None
        if options.profile:
            import cProfile

            profiler = cProfile.Profile(time.thread_time)
            profiler.enable()
        cpu_before, busy_before, pg_before = _cpu(), _machine_busy(), _postgres_cpu(database)
        loop_before = time.thread_time()
        fake_before = await _fake_cpu(base_url)
        for _ in range(MAX_ROUNDS):
            started = time.perf_counter()
            report = await run_due(ctx, clock.now())
            elapsed = time.perf_counter() - started
            result.rounds.append({"at": clock.now().isoformat(), "seconds": round(elapsed, 3),
                                  "sent": dict(report.sent)})
            result.seconds += elapsed
            if not report.sent.get("nudge.retry"):
                break
            # The released keys are due again after RETRY_AFTER: a later tick.
            clock.advance(RETRY_AFTER + timedelta(seconds=1))
        result.cpu_seconds = _cpu() - cpu_before
        result.loop_cpu_seconds = time.thread_time() - loop_before
        busy = _machine_busy() - busy_before
        result.postgres_cpu_seconds = _postgres_cpu(database) - pg_before
        result.fake_cpu_seconds = await _fake_cpu(base_url) - fake_before
        result.other_cpu_seconds = max(0.0, busy - result.cpu_seconds
                                       - result.fake_cpu_seconds - result.postgres_cpu_seconds)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(options.profile)
        if options.tracemalloc:
            import tracemalloc

            result.traced_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        result.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        async with aiohttp.ClientSession() as session, \
                session.get(base_url + "_bench/stats") as response:
            stats = await response.json()
    finally:
        if http is not None:
            await http.close()
        assert fake.stdin is not None
        fake.stdin.close()
        await fake.wait()
    result.calls, result.throttled = stats["calls"], stats["throttled"]
    result.max_attempts = stats["max_attempts"]
    posts: dict[str, list[str | None]] = stats["posts"]
    for channel, key in expected.items():
        seen = sum(1 for posted in posts.get(channel, ()) if posted == key)
        result.delivered += seen > 0
        result.losses += seen == 0
        result.duplicates += max(0, seen - 1)
    result.strays = sum(1 for channel, posted in posts.items() for key in posted
                        if expected.get(channel) != key)
    result.per_second = result.delivered / result.seconds if result.seconds else 0.0
    result.deliveries = await delivery_statuses(db)
    await db.close()
    return result


# --- the driver ---------------------------------------------------------------------


def _scenario_fake(scenario: str, args: argparse.Namespace) -> FakeOptions:
    if scenario == "unthrottled":
        return FakeOptions(seed=args.seed)
    return FakeOptions(share=args.throttle_share, stubborn_share=args.stubborn_share,
                       retry_after=args.retry_after, seed=args.seed)


async def _prepare(backend: str, url: str, tandems: int, seed: int) -> float:
    from _seed import ensure_postgres_database, reset_schema
    from _seed import seed as seed_round

    from bot.core.config import load_config
    from storage.db import Database

    if backend == "postgresql":
        await ensure_postgres_database(url)
    db = Database(url)
    try:
        await reset_schema(db)
        seeded = await seed_round(db, load_config(ROOT / "app.yaml"), tandems, seed)
    finally:
        await db.close()
    return seeded.seconds


def _worker_process(options: WorkerOptions) -> Result:
    command = [sys.executable, str(SCRIPT), "--worker",
               json.dumps(asdict(options))]
    done = subprocess.run(command, capture_output=True, text=True, timeout=WORKER_TIMEOUT,
                          check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{options.backend}/{options.scenario}: worker failed")
    if done.stderr.strip():
        warnings = [line for line in done.stderr.splitlines() if line.strip()]
        print(f"  ({len(warnings)} log line(s) from the bot; last: {warnings[-1][:150]})")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Result(**data)


def _table(results: list[Result]) -> str:
    head = ("db", "scenario", "tandems", "rounds", "wall s", "msg/s", "bot cpu s",
            "loop cpu s", "ms cpu/msg", "msg/cpu-s", "fake cpu", "pg cpu", "others", "429s",
            "max tries", "dups", "losses", "strays", "rss0 MB", "peak RSS MB", "traced MB")
    rows = [head]
    for r in results:
        rows.append((
            r.backend, r.scenario, str(r.tandems), str(len(r.rounds)), f"{r.seconds:.1f}",
            f"{r.per_second:.0f}", f"{r.cpu_seconds:.1f}",
            f"{r.loop_cpu_seconds:.1f}",
            f"{1000 * r.cpu_seconds / r.delivered:.1f}" if r.delivered else "-",
            f"{r.delivered / r.cpu_seconds:.0f}" if r.cpu_seconds else "-",
            f"{r.fake_cpu_seconds:.1f}",
            f"{r.postgres_cpu_seconds:.1f}" if r.backend == "postgresql" else "-",
            f"{r.other_cpu_seconds / r.seconds:.1f}" if r.seconds else "-",
            str(r.throttled), str(r.max_attempts),
            str(r.duplicates), str(r.losses), str(r.strays), f"{r.rss_before_mb:.0f}",
            f"{r.peak_rss_mb:.0f}", "-" if r.traced_peak_mb is None else f"{r.traced_peak_mb:.0f}",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
             for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tandems", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("TANDEM_BENCH_POSTGRES_URL",
                                                           DEFAULT_PG_URL))
    parser.add_argument("--scenarios", default="unthrottled,throttled",
                        help="comma-separated: unthrottled, throttled")
    parser.add_argument("--throttle-share", type=float, default=0.10,
                        help="share of chat.postMessage calls answered 429 (throttled run)")
    parser.add_argument("--stubborn-share", type=float, default=0.002,
                        help="share of tandem channels that 429 more often than slack_sdk "
                             "retries, so the outbox must retry on a later run")
    parser.add_argument("--retry-after", type=int, default=1)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also trace Python allocations (slows the run down)")
    parser.add_argument("--profile", metavar="DIR", default="",
                        help="write a cProfile of each run_due run to DIR")
    parser.add_argument("--shared-session", action="store_true",
                        help="experiment: give slack_sdk one keep-alive aiohttp session")
    parser.add_argument("--fake-slack", help=argparse.SUPPRESS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(SCRIPT.parent))

    if args.fake_slack:
        asyncio.run(serve_fake(FakeOptions(**json.loads(args.fake_slack))))
        return 0
    if args.worker:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        raw = json.loads(args.worker)
        options = WorkerOptions(**{**raw, "fake": FakeOptions(**raw["fake"])})
        print(json.dumps(asdict(asyncio.run(run_worker(options)))))
        return 0

    backends = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for scenario in scenarios:
        if scenario not in ("unthrottled", "throttled"):
            parser.error(f"unknown scenario {scenario!r}")
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    from conversations.rhythm import PARALLEL_SENDS

    print(f"nudge fan-out: {args.tandems} tandems, PARALLEL_SENDS={PARALLEL_SENDS}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs; throttled run: "
          f"{args.throttle_share:.0%} of posts 429 (Retry-After {args.retry_after}s), "
          f"{args.stubborn_share:.1%} of channels beyond slack_sdk's retries")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="tandem-fanout-") as scratch:
        for backend in backends:
            url = (f"sqlite+aiosqlite:///{scratch}/fanout.db" if backend == "sqlite"
                   else args.pg_url)
            seconds = asyncio.run(_prepare(backend, url, args.tandems, args.seed))
            print(f"{backend}: seeded {args.tandems} tandems in {seconds:.1f} s")
            for scenario in scenarios:
                profile = (str(Path(args.profile).resolve() / f"{backend}-{scenario}.prof")
                           if args.profile else "")
                options = WorkerOptions(backend, url, scenario, _scenario_fake(scenario, args),
                                        args.tracemalloc, profile, args.shared_session)
                result = _worker_process(options)
                results.append(result)
                rounds = "; ".join(f"{r['seconds']:.1f}s {r['sent']}" for r in result.rounds)
                print(f"{backend}/{scenario}: {result.delivered} delivered at "
                      f"{result.per_second:.0f} msg/s; rounds: {rounds}; "
                      f"deliveries table: {result.deliveries}")
    print()
    print(_table(results))
    print("(cpu columns in CPU seconds during run_due; msg/cpu-s: messages per second of bot "
          "CPU, the rate if the bot had a core to itself; others: cores used by other jobs)")
    print()
    failed = False
    for r in results:
        if r.duplicates or r.losses or r.strays:
            failed = True
            print(f"FAIL {r.backend}/{r.scenario}: {r.duplicates} duplicate(s), "
                  f"{r.losses} loss(es), {r.strays} stray message(s)")
        if r.scenario == "unthrottled":
            verdict = "met" if r.per_second >= TARGET_PER_SECOND else "NOT met"
            print(f"target {TARGET_PER_SECOND:.0f} msg/s unthrottled on {r.backend}: {verdict} "
                  f"({r.per_second:.0f} msg/s)")
    if not failed:
        print("duplicates 0, losses 0, strays 0 in every run")
    busy = [r for r in results if r.other_cpu_seconds > 0.25 * r.seconds]
    if busy:
        print("note: other jobs used the CPUs during " + ", ".join(
            f"{r.backend}/{r.scenario} ({r.other_cpu_seconds / r.seconds:.1f} cores on average)"
            for r in busy) + "; wall-clock figures are lower than on an idle machine")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
