"""The leases table: named leases (the scheduler's), one holder at a time, taken
over once the holder stops renewing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import Lease
from storage.results import rows_changed


async def hold_lease(session: AsyncSession, name: str, holder: str, now: datetime,
                     ttl: timedelta) -> bool:
    """Take or renew the lease ``name``: True if ``holder`` has it until now + ttl.
    A lease whose holder stopped renewing it is taken over once it has expired."""
    inserted = await session.execute(
        dialect_insert(session, Lease)
        .values(name=name, holder=holder, expires_at=now + ttl)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    if rows_changed(inserted) == 1:
        return True
    renewed = await session.execute(
        update(Lease)
        .where(Lease.name == name, (Lease.holder == holder) | (Lease.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
    )
    return rows_changed(renewed) == 1


async def release_lease(session: AsyncSession, name: str, holder: str) -> None:
    await session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


async def lease_holder(session: AsyncSession, name: str) -> str | None:
    return await session.scalar(select(Lease.holder).where(Lease.name == name))
