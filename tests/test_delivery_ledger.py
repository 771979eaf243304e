"""The delivery ledger row by row: what a claim, a take-over, a release, a send and
a give-up write, and which keys a batch may skip. Real database, both backends.

The outbox (conversations/outbox.py) relies on each of these facts; the flows'
tests see them only as "sent once", so a lease of the wrong length or a
take-over of the wrong key would pass there unnoticed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select

from bot.core.config import AppConfig
from storage import deliveries
from storage.db import Database
from storage.deliveries import NEW, TAKEOVER, Claim
from storage.models import Delivery
from storage.sent_marks import sent_marks
from tests.helpers.seed import seed_tandems

T0 = datetime(2027, 2, 9, 9, 30, tzinfo=UTC)
LEASE = timedelta(minutes=10)


def item(key: str, round_id: int | None = None) -> Claim:
    return Claim(key=key, kind="nudge", platform="slack", recipient="U1", round_id=round_id)


async def row(db: Database, key: str) -> Delivery:
    async with db.session() as session:
        found = await session.scalar(select(Delivery).where(Delivery.key == key))
    assert found is not None
    return found


async def claim(db: Database, key: str, at: datetime, round_id: int | None = None
                ) -> str | None:
    async with db.session() as session:
        return await deliveries.claim(session, item(key, round_id), at, LEASE)


async def test_a_claim_holds_its_lease_and_only_an_expired_one_is_taken_over(
        db: Database) -> None:
    assert await claim(db, "a", T0) == NEW
    assert await claim(db, "b", T0) == NEW
    first = await row(db, "a")
    assert (first.status, first.attempts, first.kind, first.recipient) == (
        "claimed", 1, "nudge", "U1")
    assert first.lease_until == T0 + LEASE and first.created_at == T0

    # a live sender keeps its key, up to and including the last instant of its lease
    assert await claim(db, "a", T0 + LEASE - timedelta(seconds=1)) is None
    assert await claim(db, "a", T0 + LEASE) is None
    assert (await row(db, "a")).attempts == 1

    later = T0 + LEASE + timedelta(seconds=1)
    assert await claim(db, "a", later) == TAKEOVER
    taken = await row(db, "a")
    assert (taken.attempts, taken.lease_until) == (2, later + LEASE)
    untouched = await row(db, "b")  # expired too, but nobody asked for it
    assert (untouched.attempts, untouched.lease_until) == (1, T0 + LEASE)


async def test_sent_and_failed_keys_are_final_and_each_write_touches_its_own_key(
        db: Database) -> None:
    for key in ("sent", "failed", "other"):
        assert await claim(db, key, T0) == NEW
    async with db.session() as session:
        await deliveries.mark_all_sent(
            session, [("sent", "C1:" + "9" * 300, T0 + timedelta(seconds=5))])
        await deliveries.mark_failed(session, "failed", "slack: " + "x" * 600)
    sent, failed, other = [await row(db, k) for k in ("sent", "failed", "other")]
    assert (sent.status, sent.sent_at, sent.lease_until, sent.last_error) == (
        "sent", T0 + timedelta(seconds=5), None, None)
    assert sent.message_ref == ("C1:" + "9" * 300)[:255]
    assert (failed.status, failed.lease_until) == ("failed", None)
    assert failed.last_error == ("slack: " + "x" * 600)[:500]
    assert (other.status, other.lease_until, other.message_ref) == ("claimed", T0 + LEASE, None)
    long_after = T0 + 10 * LEASE
    assert await claim(db, "sent", long_after) is None
    assert await claim(db, "failed", long_after) is None
    async with db.session() as session:
        assert await deliveries.status_of(session, "sent") == "sent"
        assert await deliveries.status_of(session, "failed") == "failed"
        assert await deliveries.status_of(session, "other") == "claimed"
        assert await deliveries.status_of(session, "never") is None


async def test_a_release_sets_the_retry_time_and_leaves_sent_keys_alone(db: Database) -> None:
    for key in ("postponed", "sent", "other"):
        assert await claim(db, key, T0) == NEW
    retry_at = T0 + timedelta(minutes=2)
    async with db.session() as session:
        await deliveries.mark_all_sent(session, [("sent", "C1:1", T0)])
        await deliveries.release(session, "postponed", "slack: " + "r" * 600, retry_at)
        await deliveries.release(session, "sent", "slack: late", retry_at)
    postponed, sent, other = [await row(db, k) for k in ("postponed", "sent", "other")]
    assert (postponed.status, postponed.lease_until, postponed.attempts) == (
        "claimed", retry_at, 1)
    assert postponed.last_error == ("slack: " + "r" * 600)[:500]
    assert (sent.status, sent.lease_until, sent.last_error) == ("sent", None, None)
    assert (other.lease_until, other.last_error) == (T0 + LEASE, None)
    assert await claim(db, "postponed", retry_at) is None
    assert await claim(db, "postponed", retry_at + timedelta(seconds=1)) == TAKEOVER


async def test_settled_keys_are_sent_failed_or_under_a_live_lease_in_that_round(
        db: Database, config: AppConfig) -> None:
    round_id = (await seed_tandems(db, config, 1)).round_id
    for key in ("sent", "failed", "live", "released"):
        assert await claim(db, key, T0, round_id) == NEW
    assert await claim(db, "elsewhere", T0) == NEW  # no round
    async with db.session() as session:
        await deliveries.mark_all_sent(session, [("sent", "C1:1", T0)])
        await deliveries.mark_failed(session, "failed", "slack: user_disabled")
        await deliveries.release(session, "released", "slack: ratelimited", T0 + 2 * LEASE)
    second = timedelta(seconds=1)
    async with db.session() as session:
        at_lease_end = await deliveries.settled_keys(session, round_id, T0 + LEASE)
        after = await deliveries.settled_keys(session, round_id, T0 + LEASE + second)
        retry_due = await deliveries.settled_keys(session, round_id, T0 + 2 * LEASE + second)
        no_round = await deliveries.settled_keys(session, None, T0)
    assert at_lease_end == {"sent", "failed", "live", "released"}
    assert after == {"sent", "failed", "released"}
    assert retry_due == {"sent", "failed"}
    assert no_round == {"elsewhere"}


async def owed(db: Database, *rows: dict[str, object]) -> None:
    async with db.session() as session:
        await deliveries.owe(session, list(rows))


async def take(db: Database, key: str, at: datetime) -> deliveries.Taken | None:
    async with db.session() as session:
        return await deliveries.claim_owed(session, key, at, LEASE)


async def due(db: Database, at: datetime) -> list[str]:
    async with db.session() as session:
        return await deliveries.owed_due(session, at)


async def test_an_owed_message_is_taken_once_and_again_only_after_its_lease(
        db: Database) -> None:
    long = Claim(key="o", kind="intro", platform="slack", recipient="U" * 300)
    await owed(db, deliveries.owed_row(long, {"text": "hi"}, T0))
    pending = await row(db, "o")
    assert (pending.status, pending.attempts, pending.lease_until) == ("pending", 0, None)
    assert pending.recipient == "U" * 255  # cut to the column, not beyond
    assert await due(db, T0) == ["o"]

    first = await take(db, "o", T0)
    assert first is not None and (first.mode, first.payload) == (NEW, {"text": "hi"})
    taken = await row(db, "o")
    assert (taken.status, taken.attempts, taken.lease_until) == ("claimed", 1, T0 + LEASE)
    # the sender holds it up to and including the last instant of its lease
    assert await due(db, T0 + LEASE) == []
    assert await take(db, "o", T0 + LEASE) is None

    later = T0 + LEASE + timedelta(seconds=1)
    assert await due(db, later) == ["o"]
    again = await take(db, "o", later)
    assert again is not None and again.mode == TAKEOVER  # it may have gone out already
    retaken = await row(db, "o")
    assert (retaken.attempts, retaken.lease_until) == (2, later + LEASE)


async def test_a_message_written_claimed_is_its_writers_until_the_lease_runs_out(
        db: Database) -> None:
    await owed(db, deliveries.owed_row(item("w"), {"text": "hi"}, T0, LEASE))
    written = await row(db, "w")
    assert (written.status, written.attempts, written.lease_until) == (
        "claimed", 1, T0 + LEASE)
    assert await due(db, T0 + LEASE) == []
    assert await take(db, "w", T0 + LEASE) is None
    later = T0 + LEASE + timedelta(seconds=1)
    taken = await take(db, "w", later)
    assert taken is not None and taken.mode == TAKEOVER


async def test_only_an_owed_message_still_to_send_is_taken(db: Database) -> None:
    later = T0 + LEASE + timedelta(seconds=1)
    assert await take(db, "nowhere", T0) is None
    assert await claim(db, "scheduled", T0) == NEW  # a nudge's row: no payload to send
    assert await take(db, "scheduled", later) is None
    await owed(db, deliveries.owed_row(item("sent"), {"text": "hi"}, T0),
               deliveries.owed_row(item("failed"), {"text": "hi"}, T0))
    async with db.session() as session:
        await deliveries.mark_all_sent(session, [("sent", "ts-1", T0)])
        await deliveries.mark_failed(session, "failed", "channel_not_found")
    assert await take(db, "sent", later) is None
    assert await take(db, "failed", later) is None
    assert await due(db, later) == []


async def test_the_latest_key_under_a_prefix_is_the_newest_and_the_prefix_is_literal(
        db: Database) -> None:
    """What the waiting notice counts from: the newest row whose key starts with the
    prefix as written (``_`` and ``%`` are not wildcards), with its creation time."""
    async with db.session() as session:
        assert await deliveries.latest_keyed(session, "waiting:1:") is None
        for key, at in (("waiting:1:1", T0), ("waiting:1:2", T0 + LEASE),
                        ("waiting:10:9", T0 + 2 * LEASE),    # round 10, not 1
                        ("waitingX1:7", T0 + 2 * LEASE),     # "_" would match the X
                        ("waiting%1:8", T0 + 2 * LEASE)):
            session.add(Delivery(key=key, kind="waiting", platform="slack", recipient="C1",
                                 status="sent", created_at=at))
    async with db.session() as session:
        assert await deliveries.latest_keyed(session, "waiting:1:") == (
            "waiting:1:2", T0 + LEASE)
        assert await deliveries.latest_keyed(session, "waiting_1:") is None
        assert await deliveries.latest_keyed(session, "waiting%1:") == (
            "waiting%1:8", T0 + 2 * LEASE)
        # two rows of the same instant: the one written last
        session.add(Delivery(key="waiting:1:3", kind="waiting", platform="slack",
                             recipient="C1", status="sent", created_at=T0 + LEASE))
        await session.flush()
        assert await deliveries.latest_keyed(session, "waiting:1:") == (
            "waiting:1:3", T0 + LEASE)


async def test_one_pass_lists_at_most_a_thousand_owed_messages_oldest_first(
        db: Database) -> None:
    """A backlog is sent a thousand per pass of run_due (the rest at the next), so
    one pass stays bounded; none is skipped, the oldest go first."""
    await owed(db, *(deliveries.owed_row(item(f"b{n:04d}"), {"text": "hi"}, T0)
                     for n in range(1001)))
    listed = await due(db, T0 + LEASE)
    assert listed == [f"b{n:04d}" for n in range(1000)]


async def test_owe_each_tells_which_keys_this_writer_wrote(db: Database) -> None:
    """A row written claimed is its writer's to send only if this call wrote it; a key
    already known stays as it is, for whoever holds it."""
    async with db.session() as session:
        assert await deliveries.owe_each(session, []) == set()
        first = await deliveries.owe_each(session, [
            deliveries.owed_row(item("e1"), {"text": "one"}, T0, LEASE)])
    assert first == {"e1"}
    async with db.session() as session:
        second = await deliveries.owe_each(session, [
            deliveries.owed_row(item(key), {"text": "two"}, T0 + LEASE, LEASE)
            for key in ("e1", "e2")])
    assert second == {"e2"}
    kept = await row(db, "e1")
    assert (kept.payload, kept.lease_until) == ({"text": "one"}, T0 + LEASE)


async def test_marks_that_arrive_together_are_one_statement_each_on_its_own_key(
        db: Database) -> None:
    """Sends that finish together are marked by one executemany UPDATE (one
    transaction), and each mark still lands on its own key with its own ref and time."""
    keys = [f"mark-{n}" for n in range(5)]
    for key in (*keys, "other"):
        assert await claim(db, key, T0) == NEW
    updates: list[bool] = []

    def seen(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any,
             executemany: bool) -> None:
        if statement.lstrip().upper().startswith("UPDATE DELIVERIES"):
            updates.append(executemany)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        await asyncio.gather(*(sent_marks(db).mark(key, f"C1:{n}", T0 + timedelta(seconds=n))
                               for n, key in enumerate(keys)))
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    assert updates == [True]
    for n, key in enumerate(keys):
        marked = await row(db, key)
        assert (marked.status, marked.message_ref, marked.sent_at, marked.lease_until,
                marked.payload) == ("sent", f"C1:{n}", T0 + timedelta(seconds=n), None, None)
    assert (await row(db, "other")).status == "claimed"
