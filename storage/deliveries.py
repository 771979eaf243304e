"""The delivery table as an exactly-once outbox: claim a key, send, mark it sent.

A claim is an INSERT that only one writer can win (the key is unique), or the
take-over of a claim whose lease ran out (its sender died). The lease must be
longer than the slowest send, so a live sender is never overtaken.

A message owed because of a state change is first written ``pending`` with its
payload (``owe``), in the transaction of that change; sending it starts with
``claim_owed``, which turns it ``claimed`` the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import Delivery, DeliveryStatus
from storage.results import rows_changed

PENDING, CLAIMED, SENT, FAILED = (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED,
                                  DeliveryStatus.SENT, DeliveryStatus.FAILED)


@dataclass(frozen=True)
class Claim:
    key: str
    kind: str
    platform: str
    recipient: str
    round_id: int | None = None
    period: str | None = None


NEW, TAKEOVER = "new", "takeover"


async def claim(
    session: AsyncSession, item: Claim, now: datetime, lease: timedelta
) -> str | None:
    """``NEW`` or ``TAKEOVER`` if this caller now owns the key and must send it;
    ``TAKEOVER`` means an earlier sender's lease ran out (it may have sent
    before it died). None if somebody else owns or has sent it."""
    inserted = await session.execute(
        dialect_insert(session, Delivery)
        .values(
            key=item.key, kind=item.kind, platform=item.platform, recipient=item.recipient,
            round_id=item.round_id, period=item.period, status=DeliveryStatus.CLAIMED,
            lease_until=now + lease, attempts=1, created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    if rows_changed(inserted) == 1:
        return NEW
    taken_over = await session.execute(
        update(Delivery)
        .where(Delivery.key == item.key, Delivery.status == DeliveryStatus.CLAIMED,
               Delivery.lease_until < now)
        .values(lease_until=now + lease, attempts=Delivery.attempts + 1)
    )
    return TAKEOVER if rows_changed(taken_over) == 1 else None


def owed_row(item: Claim, payload: dict[str, Any], now: datetime,
             lease: timedelta | None = None) -> dict[str, Any]:
    """The pending row of a message owed from now on (for ``owe``). With a ``lease``
    it is written already claimed by the writer, who sends it right after the commit
    without a claim of its own; should the writer die, it is taken over (and looked
    for before sending again) once the lease ran out, like any dead sender's claim."""
    claimed = lease is not None
    return {"key": item.key, "kind": item.kind, "platform": item.platform,
            "recipient": item.recipient[:255], "round_id": item.round_id,
            "period": item.period, "status": CLAIMED if claimed else PENDING,
            "lease_until": now + lease if lease is not None else None,
            "attempts": 1 if claimed else 0, "payload": payload, "created_at": now}


_DELIVERIES = cast(Table, Delivery.__table__)


async def owe(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Record messages as owed, in the caller's transaction; a key already known
    (owed, sent or given up) stays as it is."""
    if rows:
        # The table, not the ORM class: the ORM's bulk insert costs more than the row.
        await session.execute(
            dialect_insert(session, _DELIVERIES).on_conflict_do_nothing(index_elements=["key"]),
            rows)


async def owe_each(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """``owe``, telling which keys this call wrote: a row written claimed (``owed_row``
    with a lease) is this writer's to send only if it is among them; a key already
    known stays as it is, for whoever holds it. The rows go in a few multi-row
    INSERTs (SQLAlchemy pages them), in their order: give them in one order (by key)
    where two writers may write the same keys, so that on PostgreSQL one waits for
    the other instead of deadlocking."""
    if not rows:
        return set()
    written = await session.execute(
        dialect_insert(session, _DELIVERIES)
        .on_conflict_do_nothing(index_elements=["key"]).returning(_DELIVERIES.c.key),
        rows)
    return set(written.scalars())


@dataclass(frozen=True)
class Taken:
    """An owed message this caller now sends: ``mode`` is NEW or TAKEOVER."""

    mode: str
    claim: Claim
    payload: dict[str, Any]


async def claim_owed(session: AsyncSession, key: str, now: datetime, lease: timedelta
                     ) -> Taken | None:
    """Take an owed message for sending, or None if it is sent, given up, or another
    sender holds it under a live lease."""
    row = await session.scalar(select(Delivery).where(Delivery.key == key))
    if row is None or row.payload is None or row.status not in (PENDING, CLAIMED):
        return None
    if row.lease_until is not None and row.lease_until >= now:
        return None
    taken = await session.execute(
        update(Delivery)
        .where(Delivery.key == key, Delivery.status == row.status,
               Delivery.attempts == row.attempts)
        .values(status=CLAIMED, lease_until=now + lease, attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(taken) != 1:
        return None
    # Only a row never tried is new: one tried before may have gone out already.
    mode = NEW if row.attempts == 0 else TAKEOVER
    item = Claim(row.key, row.kind, row.platform, row.recipient, row.round_id, row.period)
    return Taken(mode, item, row.payload)


async def owed_due(session: AsyncSession, now: datetime, limit: int = 1000) -> list[str]:
    """Owed messages nobody is sending: never claimed, released for a retry whose
    time has come, or claimed by a sender whose lease ran out (it died)."""
    rows = await session.scalars(
        select(Delivery.key)
        .where(Delivery.payload.is_not(None), Delivery.status.in_((PENDING, CLAIMED)),
               or_(Delivery.lease_until.is_(None), Delivery.lease_until < now))
        .order_by(Delivery.id).limit(limit))
    return list(rows)


#: One statement for any number of marks (executemany): a Core UPDATE, because the
#: ORM's bulk UPDATE spent more CPU per mark than the send it records.
_MARK_SENT = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.key == bindparam("mark_key"))
    .values(status=DeliveryStatus.SENT, message_ref=bindparam("mark_ref"),
            sent_at=bindparam("mark_at"), lease_until=None, last_error=None, payload=None)
)


async def mark_all_sent(session: AsyncSession, marks: Sequence[tuple[str, str, datetime]]
                        ) -> None:
    """Each (key, message ref, sent at) sent; the owed text is dropped with the mark."""
    await session.execute(_MARK_SENT, [
        {"mark_key": key, "mark_ref": ref[:255], "mark_at": at} for key, ref, at in marks])


async def mark_failed(session: AsyncSession, key: str, error: str) -> None:
    """Given up for good (the recipient cannot be reached): never retried."""
    await session.execute(
        update(Delivery)
        .where(Delivery.key == key)
        .values(status=DeliveryStatus.FAILED, last_error=error[:500], lease_until=None,
                payload=None)
    )


async def release(session: AsyncSession, key: str, error: str, retry_at: datetime) -> None:
    """Give the key back for a later attempt (rate limits, outages)."""
    await session.execute(
        update(Delivery)
        .where(Delivery.key == key, Delivery.status == DeliveryStatus.CLAIMED)
        .values(lease_until=retry_at, last_error=error[:500])
    )


async def settled_keys(session: AsyncSession, round_id: int | None, now: datetime) -> set[str]:
    """Keys nobody needs to try now: sent, given up, or claimed under a live lease."""
    rows = await session.scalars(
        select(Delivery.key).where(
            Delivery.round_id == round_id,
            (Delivery.status != DeliveryStatus.CLAIMED) | (Delivery.lease_until >= now),
        )
    )
    return set(rows)


async def status_of(session: AsyncSession, key: str) -> str | None:
    return await session.scalar(select(Delivery.status).where(Delivery.key == key))


async def latest_keyed(session: AsyncSession, prefix: str) -> tuple[str, datetime] | None:
    """The key and time of the newest delivery whose key starts with ``prefix``."""
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    row = (await session.execute(
        select(Delivery.key, Delivery.created_at)
        .where(Delivery.key.like(pattern, escape="\\"))
        .order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(1))).first()
    return None if row is None else (row[0], row[1])
