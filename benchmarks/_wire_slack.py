"""A fake Slack Web API that costs next to no CPU: raw HTTP/1.1 on asyncio.

The load benchmark runs everything on one machine, and the real Slack does not:
an aiohttp fake answering a users.info and a chat.postMessage for each sign-up
took a third of a core from the server under test. This one parses just what
slack_sdk sends (a request line, Content-Length, keep-alive) and answers from
canned JSON, so nearly all the machine's CPU goes to the bot and the load.

Run: ``python benchmarks/_wire_slack.py PORT``; ``GET /stats`` counts calls per method.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

counts: Counter[str] = Counter()
_ts = itertools.count(1)


def _user(user: str) -> dict[str, object]:
    return {"ok": True, "user": {
        "id": user, "name": user.lower(), "real_name": f"Person {user}", "deleted": False,
        "is_bot": False, "tz": "Europe/Berlin", "locale": "en-US",
        "profile": {"display_name": f"Person {user}"}}}


def answer(method: str, query: str, body: bytes) -> dict[str, object]:
    counts[method] += 1
    if method == "users.info":
        args = dict(parse_qsl(query))
        if "user" not in args and body and not body.startswith(b"{"):
            args.update(parse_qsl(body.decode()))
        return _user(args.get("user", ""))
    if method == "auth.test":
        return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1",
                "team": "Bench"}
    if method == "chat.postMessage":
        return {"ok": True, "channel": "D1", "ts": f"{next(_ts)}.0001"}
    if method == "conversations.open":
        return {"ok": True, "channel": {"id": "D1"}}
    if method.startswith("views."):
        return {"ok": True, "view": {"id": "V1"}}
    return {"ok": True}


class Http(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4:end + 4 + length]
            self.buffer = self.buffer[end + 4 + length:]
            self.respond(head[0].split(" ")[1], body)

    def respond(self, target: str, body: bytes) -> None:
        url = urlsplit(target)
        if url.path == "/stats":
            payload = dict(counts)
        else:
            payload = answer(url.path.rsplit("/", 1)[-1], url.query, body)
        data = json.dumps(payload).encode()
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(data), data))


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Http, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
