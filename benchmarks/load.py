"""Load benchmark (issue 7): signed Slack traffic against a real ``tandem serve``.

Usage: python benchmarks/load.py [--db sqlite|postgresql|both] [--commands 1000]
                                 [--submissions 1000] [--clients 200] [--rate 0]

For each database: a fresh schema (``tandem migrate``), then ``tandem serve`` in
its own process (scheduler off, JSON logs to a file) with ``SLACK_API_URL``
pointing at a lean fake Slack Web API in another process (so the fake's CPU is
not the server's, as with the real Slack; it knows every ``U...`` user for
``users.info``). The load: ``--commands`` signed ``/tandem help`` and
``/tandem status`` (answered inline) and ``--submissions`` survey
``view_submission``s, each from a distinct user, shuffled, sent by ``--clients``
concurrent clients over keep-alive connections. Then the same load against a
bare slack-bolt AsyncApp that only acks (same aiohttp server style, its own
process, same fake Slack).

Printed: p50/p99/max time to the HTTP response, throughput, errors, the rows
stored (participants must equal submissions) and the overhead ratio
p99 tandem / p99 bare. ``--clients`` clients in a closed loop keep that many
requests in flight, so the time to a response is mostly queueing once the
server is saturated (Little's law: latency = in flight / throughput).
``--rate R`` instead sends R requests per second, open loop (as Slack's traffic
arrives), with at most ``--clients`` in flight.

Exits 1 if any request failed or a sign-up was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.slack_requests import sign, slash_command, survey_state, view_submission  # noqa: E402

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_load"
SECRET = "bench-signing-secret"
FORM = "application/x-www-form-urlencoded"
TARGET_P99_MS = 100.0
TARGET_RATIO = 2.0


# --- the fake Slack Web API (its own process) ------------------------------------------

def run_fake_slack(port: int) -> None:
    from collections import Counter
    from urllib.parse import parse_qs

    from aiohttp import web

    counts: Counter[str] = Counter()
    ts = iter(range(1, 10**9))

    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        counts[method] += 1
        if method == "users.info":
            # slack_sdk sends users.info as a query or a form; both are cheap to read.
            args = dict(request.query)
            if not args.get("user") and request.can_read_body:
                args.update({k: v[0] for k, v in parse_qs(await request.text()).items()})
            user = args.get("user", "")
            return web.json_response({"ok": True, "user": {
                "id": user, "name": user.lower(), "real_name": f"Person {user}",
                "deleted": False, "is_bot": False, "tz": "Europe/Berlin", "locale": "en-US",
                "profile": {"display_name": f"Person {user}"}}})
        if request.can_read_body:
            await request.read()
        if method == "auth.test":
            return web.json_response({"ok": True, "user_id": "UBOT", "bot_id": "BBOT",
                                      "team_id": "T1", "team": "Bench"})
        if method == "chat.postMessage":
            return web.json_response({"ok": True, "channel": "D1", "ts": f"{next(ts)}.0001"})
        if method == "conversations.open":
            return web.json_response({"ok": True, "channel": {"id": "D1"}})
        if method.startswith("views."):
            return web.json_response({"ok": True, "view": {"id": "V1"}})
        return web.json_response({"ok": True})

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(dict(counts))

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_get("/stats", stats)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# --- the bare slack-bolt app (its own process) -----------------------------------------

def run_bare(port: int, api_url: str) -> None:
    import logging
    import re

    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    logging.basicConfig(level=logging.WARNING)
    bolt = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=api_url),
                    signing_secret=SECRET)

    @bolt.command("/tandem")
    async def command(ack: AsyncAck) -> None:
        await ack()

    @bolt.view(re.compile(".+"))
    async def view(ack: AsyncAck) -> None:
        await ack()

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def ready(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ready"})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/slack/events", handle)
    app.router.add_get("/readyz", ready)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# --- the load ---------------------------------------------------------------------------

@dataclass
class Request:
    kind: str  # "help", "status" or "survey"
    body: str


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1)] * 1000

    def line(self) -> str:
        rate = len(self.latencies) / self.seconds if self.seconds else 0.0
        return (f"{self.name:<22} n={len(self.latencies):5d}  p50={self.percentile(50):7.1f} ms  "
                f"p99={self.percentile(99):7.1f} ms  max={self.percentile(100):7.1f} ms  "
                f"{rate:6.0f} req/s  errors={len(self.errors)}")


def answers(i: int) -> dict[str, Any]:
    mentee = i % 2 == 1
    return {
        "role": "mentee" if mentee else "mentor", "department": "Marketing" if mentee else "IT",
        "manager": "U9BOSS", "topics": ["ai_tools", "social_media"],
        "goals": "Learn from each other", "languages": ["de", "en"], "meeting_mode": "remote",
        "location": None, "capacity": "2" if mentee else None, "consent": ["yes"],
    }


def workload(commands: int, submissions: int, seed: int = 7) -> list[Request]:
    # Every interaction from Slack has its own trigger id (the helper makes one each).
    requests = [Request("survey", view_submission(f"U{i:07d}", "survey",
                                                  survey_state(**answers(i))))
                for i in range(submissions)]
    requests += [Request(text, slash_command(f"U{i % max(submissions, 1):07d}", text,
                                             trigger_id=f"{i}.{seed}.command"))
                 for i, text in ((i, "help" if i % 2 == 0 else "status")
                                 for i in range(commands))]
    random.Random(seed).shuffle(requests)
    return requests


def judge(request: Request, status: int, text: str, bare: bool) -> str | None:
    if status != 200:
        return f"{request.kind}: HTTP {status} {text[:120]}"
    if bare:  # the bare app only acks: an empty 200 is all it says
        return None
    if request.kind == "survey":
        body = json.loads(text) if text else {}
        if body.get("response_action") == "errors":
            return f"survey refused: {body.get('errors')}"
        return None
    body = json.loads(text) if text else {}
    return None if body.get("text") or body.get("blocks") else f"{request.kind}: empty answer"


async def drive(url: str, requests: list[Request], clients: int, rate: float, name: str) -> Run:
    import aiohttp

    run = Run(name)
    queue: asyncio.Queue[Request] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=30)
    started = time.perf_counter()

    async def send(http: aiohttp.ClientSession, request: Request) -> None:
        headers = {"Content-Type": FORM, **sign(request.body, secret=SECRET)}
        began = time.perf_counter()
        try:
            async with http.post(url, data=request.body, headers=headers) as response:
                text = await response.text()
                status = response.status
        except Exception as error:
            run.errors.append(f"{request.kind}: {type(error).__name__} {error}")
            return
        run.latencies.append(time.perf_counter() - began)
        problem = judge(request, status, text, bare=name.startswith("bare"))
        if problem:
            run.errors.append(problem)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        if rate <= 0:  # closed loop: each client sends its next request when answered
            async def client() -> None:
                while not queue.empty():
                    await send(http, queue.get_nowait())

            await asyncio.gather(*(client() for _ in range(clients)))
        else:  # open loop: arrivals at a fixed rate, whatever the answers do
            gate = asyncio.Semaphore(clients)
            tasks = []

            async def limited(request: Request) -> None:
                async with gate:
                    await send(http, request)

            for index, request in enumerate(requests):
                delay = started + index / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(limited(request)))
            await asyncio.gather(*tasks)
    run.seconds = time.perf_counter() - started
    return run


# --- processes and databases ----------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(args: list[str], env: dict[str, str] | None = None, log: Path | None = None
          ) -> subprocess.Popen[bytes]:
    out = open(log, "wb") if log else subprocess.DEVNULL  # closed when the process ends
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=out, stderr=subprocess.STDOUT)


async def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path | None = None) -> None:
    import aiohttp

    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{url} did not become ready\n{tail_of(log)}")
            await asyncio.sleep(0.1)


def tail_of(log: Path | None) -> str:
    return log.read_text()[-2000:] if log and log.exists() else ""


def migrate(env: dict[str, str]) -> None:
    migrated = subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], cwd=ROOT,
                              env={**os.environ, **env}, capture_output=True, text=True)
    if migrated.returncode:
        raise SystemExit(f"migrate failed:\n{migrated.stderr}")


def profile(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy samples the server from outside (pip install py-spy)."""
    return subprocess.Popen(
        ["py-spy", "record", "--nonblocking", "-r", "200", "-f", "raw", "-o", str(out),
         "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def fresh_postgres() -> str:
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = 'bench_load'"):
            await admin.execute("CREATE DATABASE bench_load")
    finally:
        await admin.close()
    bench = await asyncpg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + "/bench_load")
    try:
        await bench.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await bench.close()
    return PG_URL


async def count_participants(url: str) -> int:
    from sqlalchemy import func, select

    from storage.db import Database
    from storage.models import Participant

    db = Database(url)
    try:
        async with db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(Participant)) or 0)
    finally:
        await db.close()


async def fake_stats(base: str) -> dict[str, int]:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(base + "stats") as response:
        return await response.json()


async def settle(base: str, method: str, quiet_seconds: float = 1.0, limit: float = 60) -> int:
    """Work after the ack (the sign-up DMs) goes on; wait until the count stops moving."""
    last, since, deadline = -1, time.monotonic(), time.monotonic() + limit
    while time.monotonic() < deadline:
        count = (await fake_stats(base)).get(method, 0)
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet_seconds:
            break
        await asyncio.sleep(0.2)
    return last


async def bench_backend(backend: str, options: argparse.Namespace, fake_base: str,
                        workdir: Path) -> tuple[Run, int, int, float]:
    url = (await fresh_postgres() if backend == "postgresql"
           else f"sqlite+aiosqlite:///{workdir}/bench-load.db")
    env = {"DATABASE_URL": url, "TANDEM_CONFIG": str(ROOT / "app.yaml")}
    migrate(env)
    port = free_port()
    log = workdir / f"serve-{backend}.log"
    server = spawn(["-m", "bot.cli", "serve"], log=log, env={
        **env, "PORT": str(port), "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_base + "api/", "TANDEM_SCHEDULER": "off",
        "TANDEM_LOG_FORMAT": "json",
    })
    try:
        await wait_ready(f"http://127.0.0.1:{port}/readyz", server, log)
        if options.profile:
            profiler = profile(server.pid, workdir / f"profile-{backend}.txt")
        # Steady state, not the first requests' lazy loading (catalogues, SQL compilation).
        await warm_up(f"http://127.0.0.1:{port}/slack/events")
        before = (await fake_stats(fake_base)).get("chat.postMessage", 0)
        run = await drive(f"http://127.0.0.1:{port}/slack/events",
                          workload(options.commands, options.submissions), options.clients,
                          options.rate, f"tandem/{backend}")
        if options.profile:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(30)
        dms = await settle(fake_base, "chat.postMessage") - before
        rss = _rss_mb(server.pid)
    finally:
        stop(server)
    rows = await count_participants(url)
    return run, rows, dms, rss


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def warm_up(url: str) -> None:
    """Commands, and a survey refused for lack of consent: nothing is stored."""
    refused = {**answers(0), "consent": []}
    requests = [Request(text, slash_command("U9WARM", text)) for text in ("help", "status") * 10]
    requests += [Request("warm-up", view_submission("U9WARM", "survey", survey_state(**refused)))
                 for _ in range(5)]
    await drive(url, requests, 5, 0.0, "warm-up")


async def bench_bare(options: argparse.Namespace, fake_base: str) -> Run:
    port = free_port()
    bare = spawn([__file__, "--role", "bare", "--port", str(port), "--api", fake_base + "api/"])
    try:
        await wait_ready(f"http://127.0.0.1:{port}/readyz", bare)
        await warm_up(f"http://127.0.0.1:{port}/slack/events")
        return await drive(f"http://127.0.0.1:{port}/slack/events",
                           workload(options.commands, options.submissions), options.clients,
                           options.rate, "bare slack-bolt")
    finally:
        stop(bare)


async def main(options: argparse.Namespace) -> int:
    backends = ["sqlite", "postgresql"] if options.db == "both" else [options.db]
    fake_port = free_port()
    fake = spawn([__file__, "--role", "fake-slack", "--port", str(fake_port)])
    fake_base = f"http://127.0.0.1:{fake_port}/"
    failed = False
    mode = f"open loop at {options.rate:g} req/s" if options.rate > 0 else "closed loop"
    print(f"load: {options.commands} slash commands + {options.submissions} survey submissions,"
          f" {options.clients} clients, {mode}; {os.cpu_count()} CPUs")
    try:
        await wait_ready(fake_base + "stats", fake)
        with tempfile.TemporaryDirectory(prefix="tandem-load-") as tmp:
            workdir = Path(options.keep) if options.keep else Path(tmp)
            workdir.mkdir(parents=True, exist_ok=True)
            results = []
            for backend in backends:
                results.append((backend, *await bench_backend(backend, options, fake_base,
                                                              workdir)))
            bare = await bench_bare(options, fake_base)
            for _backend, run, rows, dms, rss in results:
                lost = options.submissions - rows
                print(run.line())
                print(f"{'':<22} participants stored={rows} (submissions "
                      f"{options.submissions}, lost {lost}), sign-up DMs sent={dms}, "
                      f"server peak RSS={rss:.0f} MB")
                for error in sorted(set(run.errors))[:5]:
                    print(f"{'':<22} error: {error}")
                failed |= bool(run.errors) or lost != 0
            print(bare.line())
            failed |= bool(bare.errors)
            for backend, run, *_ in results:
                ratio = run.percentile(99) / bare.percentile(99)
                verdict = "meets" if (run.percentile(99) < TARGET_P99_MS
                                      and ratio < TARGET_RATIO) else "misses"
                print(f"overhead {backend:<13} p99 tandem / p99 bare = {ratio:.2f}  "
                      f"({verdict} the targets p99 < {TARGET_P99_MS:g} ms, ratio < "
                      f"{TARGET_RATIO:g})")
    finally:
        stop(fake)
    return 1 if failed else 0


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="requests per second, open loop (default: closed loop)")
    parser.add_argument("--profile", action="store_true",
                        help="record the server with py-spy (collapsed stacks, kept with --keep)")
    parser.add_argument("--keep", help="keep logs and profiles in this folder")
    parser.add_argument("--role", choices=["fake-slack", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    args = arguments()
    if args.role == "fake-slack":
        run_fake_slack(args.port)
    elif args.role == "bare":
        run_bare(args.port, args.api)
    else:
        sys.exit(asyncio.run(main(args)))
