"""Which meeting guide each tandem got, one row per tandem and period: written with
the nudge that shows it (``conversations.guides``), so a guide never comes twice."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import TandemGuide
from storage.results import rows_changed


async def given(session: AsyncSession, tandem_ids: Collection[int]
                ) -> dict[tuple[int, int], str]:
    """The guides these tandems got, by (tandem id, period)."""
    if not tandem_ids:
        return {}
    rows = await session.execute(select(TandemGuide.tandem_id, TandemGuide.period,
                                        TandemGuide.guide)
                                 .where(TandemGuide.tandem_id.in_(list(tandem_ids))))
    return {(tandem, period): guide for tandem, period, guide in rows}


async def keep(session: AsyncSession, tandem_id: int, period: int, guide: str,
               now: datetime) -> str | None:
    """Record ``guide`` for the tandem's period unless one is recorded already (a
    partner's nudge in another time zone, a second instance); the period's guide, or
    None if ``guide`` was already given in another period (the caller shows none)."""
    inserted = await session.execute(
        dialect_insert(session, TandemGuide)
        .values(tandem_id=tandem_id, period=period, guide=guide, created_at=now)
        .on_conflict_do_nothing())
    if rows_changed(inserted) == 1:  # ours: no need to read it back
        return guide
    return await session.scalar(select(TandemGuide.guide).where(
        TandemGuide.tandem_id == tandem_id, TandemGuide.period == period))
