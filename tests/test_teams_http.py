"""What /api/messages accepts: signed requests only when an app id is set (401
otherwise, nothing stored), and only JSON activities (400 otherwise)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from storage.db import Database
from storage.models import ConversationRef, Participant
from tests.fakes.bot_connector import TeamsUser, TeamsWorld, teams_world

BEN = TeamsUser("aad-ben", "Ben Senior")


async def stored(world: TeamsWorld) -> int:
    async with world.runtime.db.session() as s:
        refs = await s.scalar(select(func.count()).select_from(ConversationRef))
        people = await s.scalar(select(func.count()).select_from(Participant))
        return refs + people


async def test_with_an_app_id_unsigned_requests_are_refused(
    db: Database, config: AppConfig, clock: FixedClock
) -> None:
    async with teams_world(db, config, clock, app_id="00000000-0000-0000-0000-000000000001") as w:
        activity = w.driver.activity(BEN, text="signup")
        assert (await w.driver.post(activity))[0] == 401
        for header in ("Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer a.b.c",
                       "Bearer eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.abc"):
            status, _ = await w.driver.post(activity, headers={"Authorization": header})
            assert status == 401, header
        # Authentication comes before parsing: garbage without a token is a 401 too.
        assert (await w.driver.post(b"{not json"))[0] == 401
        assert await stored(w) == 0
        assert w.connector.calls == []


@pytest.mark.parametrize("body", [
    b"{not json", b"\xff\xfe", b"", b"[1, 2]", b'"message"', b"{}", b'{"type": ""}',
    b'{"type": "message"}',
    b'{"type": "message", "conversation": {"id": "a:1"}, "serviceUrl": "ftp://x"}',
    b'{"type": "message", "conversation": "a:1", "serviceUrl": "http://127.0.0.1:1/"}',
    b'{"type": "message", "conversation": {"id": "a:1"}, "serviceUrl": "http://127.0.0.1:1/",'
    b' "from": "someone"}',
])
async def test_bodies_that_are_not_activities_get_400(
    db: Database, config: AppConfig, clock: FixedClock, body: bytes
) -> None:
    async with teams_world(db, config, clock) as w:
        status, payload = await w.driver.post(body)
        assert status == 400
        assert "error" in payload
        assert await stored(w) == 0


async def test_without_an_app_id_the_emulator_is_served(
    db: Database, config: AppConfig, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with teams_world(db, config, clock) as w:
        assert "UNAUTHENTICATED" in caplog.text
        assert await w.driver.say(BEN, "help") == 201
        assert len(w.connector.messages()) == 1


async def test_a_redelivered_activity_is_answered_once(
    db: Database, config: AppConfig, clock: FixedClock
) -> None:
    async with teams_world(db, config, clock) as w:
        activity = w.driver.activity(BEN, text="help")
        for _ in range(3):  # Teams resends when it did not see our answer in time
            assert (await w.driver.post(activity))[0] in (200, 201)
        assert len(w.connector.messages()) == 1
        assert await w.driver.say(BEN, "hilfe") == 201  # a new activity is answered
        assert len(w.connector.messages()) == 2
