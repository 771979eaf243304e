"""The fake Microsoft Graph started for a test, and a sleep that only records."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

from tests.fakes.graph import FakeGraph


class Waits:
    """Records what the client waited, and yields to the loop instead of sleeping."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        await asyncio.sleep(0)


@asynccontextmanager
async def running_graph(folder: Path, tenant: str) -> AsyncIterator[FakeGraph]:
    fake = FakeGraph(folder, tenant=tenant)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


class GraphWithStrangers(FakeGraph):
    """The fake Graph, where some mailboxes are unknown to the tenant, answered as Graph
    answers them: getSchedule gives such a schedule an ``error`` and no
    ``scheduleItems``; an event for such an organiser is 404 ErrorInvalidUser."""

    def __init__(self, folder: Path, tenant: str, strangers: set[str]) -> None:
        super().__init__(folder, tenant=tenant)
        self.strangers = strangers
        #: with ``deny``: the refusal's message instead of Graph's short one
        self.refusal_message: str | None = None
        #: "events:post" or "events:delete" -> the next such call's answer instead
        #: (status, content type, body), after doing what it asks
        self.odd_answers: dict[str, tuple[int, str, str]] = {}
        #: the zone free/busy items are labelled with (their times stay UTC's)
        self.schedule_zone = "UTC"

    def _odd(self, name: str, done: web.Response) -> web.Response:
        if done.status >= 300 or name not in self.odd_answers:
            return done
        status, content_type, body = self.odd_answers.pop(name)
        return web.Response(status=status, content_type=content_type, text=body)

    async def _delete(self, request: web.Request) -> web.Response:
        return self._odd("events:delete", await super()._delete(request))

    def _refusal(self, request: web.Request, name: str) -> web.Response | None:
        refused = super()._refusal(request, name)
        if refused is not None and refused.status == 403 and self.refusal_message:
            return web.json_response({"error": {"code": "ErrorAccessDenied",
                                                "message": self.refusal_message}}, status=403)
        return refused

    async def _schedule(self, request: web.Request) -> web.Response:
        answer = await super()._schedule(request)
        if answer.status != 200 or answer.text is None:
            return answer
        body = json.loads(answer.text)
        body["value"] = [
            {"scheduleId": s["scheduleId"], "error": {
                "message": "The user was not found", "responseCode": "UnknownError"}}
            if s["scheduleId"] in self.strangers else s for s in body["value"]]
        for schedule in body["value"]:
            for item in schedule.get("scheduleItems", []):
                item["start"]["timeZone"] = item["end"]["timeZone"] = self.schedule_zone
        return web.json_response(body)

    async def _create(self, request: web.Request) -> web.Response:
        if request.match_info["user"] in self.strangers:
            self.calls.append("events:post:404")
            return web.json_response({"error": {
                "code": "ErrorInvalidUser",
                "message": "The requested user is invalid."}}, status=404)
        return self._odd("events:post", await super()._create(request))


@asynccontextmanager
async def running_graph_with_strangers(folder: Path, tenant: str, strangers: set[str]
                                       ) -> AsyncIterator[GraphWithStrangers]:
    fake = GraphWithStrangers(folder, tenant, strangers)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
