"""Oversized request bodies are refused with 413 before anything parses or stores them."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from adapters.slack import MAX_BODY_BYTES as SLACK_MAX_BODY_BYTES
from adapters.teams import MAX_BODY_BYTES as TEAMS_MAX_BODY_BYTES
from storage.db import Database
from storage.models import ConversationRef, Participant
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers.servers import FORM, Served
from tests.helpers.slack_requests import sign, slash_command


@pytest.fixture
def slack_users() -> list[FakeUser]:
    return [
        FakeUser("U0ANNA", "Anna"),
    ]


def padded_slash_command(size: int) -> str:
    """A validly signed-looking slash command, padded past ``size`` bytes."""
    body = slash_command("U0ANNA", "signup")
    return body + "&pad=" + "x" * (size - len(body))


def teams_activity(size: int) -> bytes:
    activity = {
        "type": "message", "id": "1", "channelId": "msteams", "text": "x" * size,
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "from": {"id": "29:anna", "aadObjectId": "aad-anna"},
        "recipient": {"id": "28:bot"},
        "conversation": {"id": "a:1", "conversationType": "personal"},
    }
    return json.dumps(activity).encode()


async def chunks(data: bytes, size: int = 32 * 1024) -> AsyncIterator[bytes]:
    """A body without Content-Length: aiohttp's client sends it chunked."""
    for start in range(0, len(data), size):
        yield data[start:start + size]


async def nothing_stored(db: Database, slack: FakeSlack) -> None:
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Participant)) == 0
        assert await session.scalar(select(func.count()).select_from(ConversationRef)) == 0
    assert slack.calls == []


async def test_slack_body_over_the_limit_with_content_length_gets_413(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    body = padded_slash_command(SLACK_MAX_BODY_BYTES + 1)
    async with server.http.post(server.url + "/slack/events", data=body,
                                headers={"Content-Type": FORM, **sign(body)}) as response:
        assert response.status == 413
        assert (await response.json())["limit_bytes"] == SLACK_MAX_BODY_BYTES
        assert response.headers["X-Request-Id"]
    await nothing_stored(db, slack)


async def test_slack_chunked_body_over_the_limit_gets_413(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    body = padded_slash_command(SLACK_MAX_BODY_BYTES + 1)
    async with server.http.post(server.url + "/slack/events", data=chunks(body.encode()),
                                headers={"Content-Type": FORM, **sign(body)}) as response:
        assert response.status == 413
    await nothing_stored(db, slack)


async def test_slack_body_just_under_the_limit_is_still_served(
    server: Served, slack: FakeSlack
) -> None:
    body = padded_slash_command(SLACK_MAX_BODY_BYTES - 1024)
    for data in (body, chunks(body.encode())):
        async with server.http.post(server.url + "/slack/events", data=data,
                                    headers={"Content-Type": FORM, **sign(body)}) as response:
            assert response.status == 200


async def test_teams_body_over_the_limit_gets_413_declared_or_chunked(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    activity = teams_activity(TEAMS_MAX_BODY_BYTES)
    assert len(activity) > TEAMS_MAX_BODY_BYTES
    headers = {"Content-Type": "application/json"}
    for data in (activity, chunks(activity)):
        async with server.http.post(server.url + "/api/messages", data=data,
                                    headers=headers) as response:
            assert response.status == 413
    await nothing_stored(db, slack)


async def test_other_routes_refuse_large_bodies_too(server: Served) -> None:
    async with server.http.get(server.url + "/healthz", data=b"x" * (1024 * 1024)) as response:
        assert response.status == 413


async def test_a_body_declaring_a_length_and_chunks_is_refused(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    """Content-Length and chunked together (request smuggling's tool) never get a
    large body read: aiohttp refuses the request before any handler runs."""
    body = padded_slash_command(SLACK_MAX_BODY_BYTES + 1024).encode()
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (f"POST /slack/events HTTP/1.1\r\nHost: {host}\r\nContent-Length: 10\r\n"
            "Transfer-Encoding: chunked\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n\r\n").encode()
    writer.write(head + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
    status_line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert int(status_line.split()[1]) in (400, 413)
    await nothing_stored(db, slack)


async def test_a_compressed_body_that_grows_past_the_limit_gets_413(
    server: Served, slack: FakeSlack, db: Database
) -> None:
    """A few KiB of gzip that decompress to more than the route's limit."""
    body = gzip.compress(padded_slash_command(SLACK_MAX_BODY_BYTES + 1024).encode())
    assert len(body) < 16 * 1024
    async with server.http.post(
        server.url + "/slack/events", data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Content-Encoding": "gzip"},
    ) as response:
        assert response.status == 413
    await nothing_stored(db, slack)
