"""The delivery table as an exactly-once outbox: claim a key, send, mark it sent.

A claim is an INSERT that only one writer can win (the key is unique), or the
take-over of a claim whose lease ran out (its sender died). The lease must be
longer than the slowest send, so a live sender is never overtaken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import Delivery, DeliveryStatus
from storage.results import rows_changed


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


async def mark_sent(session: AsyncSession, key: str, message_ref: str, now: datetime) -> None:
    await session.execute(
        update(Delivery)
        .where(Delivery.key == key)
        .values(status=DeliveryStatus.SENT, message_ref=message_ref[:255], sent_at=now,
                lease_until=None, last_error=None)
    )


async def mark_failed(session: AsyncSession, key: str, error: str) -> None:
    """Given up for good (the recipient cannot be reached): never retried."""
    await session.execute(
        update(Delivery)
        .where(Delivery.key == key)
        .values(status=DeliveryStatus.FAILED, last_error=error[:500], lease_until=None)
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
