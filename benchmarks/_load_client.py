"""The load generator of benchmarks/load.py: pre-signed requests over raw HTTP/1.1.

It shares the machine's two cores with the servers under test, so it must cost
little: requests are built and signed before the clock starts, and each client
is one keep-alive connection that writes bytes and reads a Content-Length
answer. aiohttp's client took several times the CPU per request.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tests.helpers.slack_requests import sign

FORM = "application/x-www-form-urlencoded"
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass(frozen=True)
class Request:
    kind: str  # "help", "status", "signup" or "survey"
    body: str
    #: Headers of its own (Teams: JSON and a bearer token); none: a signed Slack form.
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Run:
    name: str
    #: (seconds after the start it was sent, seconds to its answer, kind) per answer
    answers: list[tuple[float, float, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: CPU seconds the servers spent, their threads included (measured outside)
    cpu: float = 0.0

    def percentile(self, p: float, kind: str | None = None) -> float:
        """Milliseconds; nearest-rank."""
        ordered = sorted(took for _, took, k in self.answers if kind in (None, k))
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * 1000

    @property
    def rate(self) -> float:
        return len(self.answers) / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        cpu = f"  server CPU {1e6 * self.cpu / len(self.answers):4.0f} us/req" if (
            self.cpu and self.answers) else ""
        return (f"{self.name:<26} n={len(self.answers):5d}  p50={self.percentile(50):6.1f} ms  "
                f"p99={self.percentile(99):6.1f} ms  max={self.percentile(100):6.1f} ms  "
                f"{self.rate:5.0f} req/s  errors={len(self.errors)}{cpu}")

    def kinds(self) -> str:
        seen = sorted({k for _, _, k in self.answers})
        return "  ".join(f"{k} p50={self.percentile(50, k):.0f}/p99={self.percentile(99, k):.0f} ms"
                         for k in seen)


def judge(request: Request, status: int, text: str, bare: bool) -> str | None:
    """What is wrong with an answer, or None."""
    if request.headers:  # Teams: the answers go to the connector; 200 or 201 here
        return None if status in (200, 201) else f"{request.kind}: HTTP {status} {text[:120]}"
    if status != 200:
        return f"{request.kind}: HTTP {status} {text[:120]}"
    if bare:  # the bare app only acks: an empty 200 is all it says
        return None
    body = json.loads(text) if text else {}
    if request.kind == "survey":
        if body.get("response_action") == "errors":
            return f"survey refused: {body.get('errors')}"
        return None
    return None if body.get("text") or body.get("blocks") else f"{request.kind}: empty answer"


async def drive(urls: list[str], requests: list[Request], clients: int, rate: float,
                name: str, secret: str, bare: bool = False) -> Run:
    """Closed loop (``rate`` 0): each client sends its next request when answered.
    Open loop: arrivals at ``rate`` per second on whichever connection is free.
    The clients' connections are spread over ``urls`` in turn (the load balancer)
    and opened before the clock starts, as Slack keeps its connections open."""
    run = Run(name)
    targets = [_split(url) for url in urls]
    # Every target serves the same path; aiohttp does not check the Host header.
    wire = [(request, _wire(*targets[0], request, secret)) for request in requests]
    count = min(clients, len(wire))
    connections = [await asyncio.open_connection(*targets[i % len(targets)][:2])
                   for i in range(count)]
    pending = iter(wire)
    started = time.perf_counter()

    async def send(connection: Connection, request: Request, data: bytes) -> None:
        began = time.perf_counter()
        try:
            status, body = await asyncio.wait_for(_exchange(*connection, data), 30)
        except Exception as error:
            run.errors.append(f"{request.kind}: {type(error).__name__} {error}")
            return
        run.answers.append((began - started, time.perf_counter() - began, request.kind))
        problem = judge(request, status, body.decode(), bare)
        if problem:
            run.errors.append(problem)

    if rate <= 0:
        async def client(index: int) -> None:
            for request, data in pending:
                await send(connections[index], request, data)

        await asyncio.gather(*(client(i) for i in range(count)))
    else:
        idle: asyncio.Queue[Connection] = asyncio.Queue()
        for connection in connections:
            idle.put_nowait(connection)

        async def on_idle(request: Request, data: bytes) -> None:
            connection = await idle.get()
            try:
                await send(connection, request, data)
            finally:
                idle.put_nowait(connection)

        tasks = []
        for index, (request, data) in enumerate(wire):
            delay = started + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(on_idle(request, data)))
        await asyncio.gather(*tasks)
    run.seconds = time.perf_counter() - started
    for _, writer in connections:
        writer.close()
    return run


def _split(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"


def _wire(host: str, port: int, path: str, request: Request, secret: str) -> bytes:
    """One request as Slack sends it (form-encoded, signed) or with its own headers,
    keep-alive."""
    payload = request.body.encode()
    own = dict(request.headers) or {"Content-Type": FORM, **sign(request.body, secret=secret)}
    headers = {"Host": f"{host}:{port}", "Content-Length": str(len(payload)), **own}
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"POST {path} HTTP/1.1\r\n{head}\r\n".encode() + payload


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes
                    ) -> tuple[int, bytes]:
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    fields = {k.strip().lower(): v.strip() for k, _, v in
              (line.partition(b":") for line in lines[1:] if line)}
    if fields.get(b"transfer-encoding") == b"chunked":
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")
        return status, body
    length = int(fields.get(b"content-length", b"0"))
    return status, await reader.readexactly(length) if length else b""
