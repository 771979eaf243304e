"""The processed_events table: inbound events already acted on, so a platform's
retry or redelivery is not handled twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import ProcessedEvent
from storage.results import rows_changed


async def first_time(session: AsyncSession, source: str, event_id: str, now: datetime) -> bool:
    """True the first time an event id is seen; False for a redelivery."""
    inserted = await session.execute(
        dialect_insert(session, ProcessedEvent)
        .values(source=source, event_id=event_id[:255], received_at=now)
        .on_conflict_do_nothing(index_elements=["source", "event_id"])
    )
    return rows_changed(inserted) == 1


async def forget_events_before(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < before))
