"""Operational state: inbound events already handled, and named leases."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Lease, ProcessedEvent
from storage.participants import dialect_insert


async def first_time(session: AsyncSession, source: str, event_id: str, now: datetime) -> bool:
    """True the first time an event id is seen; False for a redelivery."""
    inserted = await session.execute(
        dialect_insert(session, ProcessedEvent)
        .values(source=source, event_id=event_id[:255], received_at=now)
        .on_conflict_do_nothing(index_elements=["source", "event_id"])
    )
    return inserted.rowcount == 1


async def forget_events_before(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < before))


async def hold_lease(session: AsyncSession, name: str, holder: str, now: datetime,
                     ttl: timedelta) -> bool:
    """Take or renew the lease ``name``: True if ``holder`` has it until now + ttl.
    A lease whose holder stopped renewing it is taken over once it has expired."""
    inserted = await session.execute(
        dialect_insert(session, Lease)
        .values(name=name, holder=holder, expires_at=now + ttl)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    if inserted.rowcount == 1:
        return True
    renewed = await session.execute(
        update(Lease)
        .where(Lease.name == name, (Lease.holder == holder) | (Lease.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
    )
    return renewed.rowcount == 1


async def release_lease(session: AsyncSession, name: str, holder: str) -> None:
    await session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


async def lease_holder(session: AsyncSession, name: str) -> str | None:
    return await session.scalar(select(Lease.holder).where(Lease.name == name))
