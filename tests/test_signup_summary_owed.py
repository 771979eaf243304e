"""The sign-up summary as an owed message whose row keeps how to make it, not a copy
of the answers: a sender that takes it over (``run_owed`` after a crash) builds it
anew from the saved answers, and nothing is sent to someone no longer signed up.
Local platform, real database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from conversations import owed
from conversations.outbox import RETRY_AFTER
from conversations.signup import SUMMARY
from storage import deliveries
from storage.db import Database
from storage.deliveries import Claim
from storage.models import Delivery, Participant
from tests.helpers.local import ANNA, local_platform, signed_up


def summary_row(key: str, editing: bool, clock: FixedClock) -> dict[str, Any]:
    """A summary owed to Anna as the survey writes it, left pending (its sender died)."""
    payload = {"to": owed.DIRECT, "targets": [ANNA.user_id], "participant": None,
               "fallback": [], "render": {"name": SUMMARY, "args": {
                   "platform": "local", "workspace": ANNA.workspace_id,
                   "user": ANNA.user_id, "editing": editing}}}
    return deliveries.owed_row(Claim(key, "summary", "local", ANNA.user_id, None), payload,
                               clock.now())


async def test_a_summary_taken_over_is_built_from_the_saved_answers(
        config: AppConfig, clock: FixedClock, db: Database) -> None:
    platform = local_platform(config, clock, db)
    await signed_up(platform, ANNA, department="Sales")
    seen = platform.transcript("anna")
    first = seen[-1]  # the summary, after the form and its answer
    async with db.session() as session:
        [sent] = await session.scalars(select(Delivery).where(Delivery.kind == "summary"))
    # The answers are in their table; the row kept only how to make the message.
    assert (sent.status, sent.payload) == ("sent", None)

    async with db.session() as session:
        await deliveries.owe(session, [summary_row("summary:again", False, clock)])
    clock.advance(timedelta(minutes=1))
    assert await owed.run_owed(platform.ctx, clock.now()) == 1
    assert platform.transcript("anna") == [*seen, first]
    assert "Sales" in first

    # Anna leaves; a summary still owed to her is not sent, and given up for good.
    async with db.session() as session:
        await session.execute(update(Participant).values(status="left"))
        await deliveries.owe(session, [summary_row("summary:gone", True, clock)])
    assert await owed.run_owed(platform.ctx, clock.now()) == 1
    assert platform.transcript("anna") == [*seen, first]
    async with db.session() as session:
        gone = await session.scalar(select(Delivery).where(Delivery.key == "summary:gone"))
    assert gone is not None
    assert (gone.status, gone.last_error, gone.payload) == (
        "failed", "nobody to send it to", None)


async def test_an_owed_message_without_its_renderer_waits_for_a_later_run(
        config: AppConfig, clock: FixedClock, db: Database,
        caplog: pytest.LogCaptureFixture) -> None:
    """A row whose renderer this process does not know (an instance of another
    version) is neither sent nor given up: released for a later run, and logged."""
    platform = local_platform(config, clock, db)
    row = summary_row("summary:unknown", False, clock)
    row["payload"]["render"]["name"] = "signup.summary.v9"
    async with db.session() as session:
        await deliveries.owe(session, [row])
    assert await owed.run_owed(platform.ctx, clock.now()) == 1
    assert platform.transcript("anna") == []
    async with db.session() as session:
        kept = await session.scalar(select(Delivery).where(Delivery.key == "summary:unknown"))
    assert kept is not None
    assert (kept.status, kept.last_error) == ("claimed", "no renderer")
    assert kept.lease_until == clock.now() + RETRY_AFTER
    assert kept.payload is not None and kept.payload["render"]["name"] == "signup.summary.v9"
    assert "no renderer 'signup.summary.v9'" in caplog.text
