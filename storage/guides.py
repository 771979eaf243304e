"""Which meeting guide each tandem got, one row per tandem and period: written with
the nudge that shows it (``conversations.guides``), so a guide never comes twice."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import TandemGuide


async def given(session: AsyncSession, tandem_ids: Collection[int]
                ) -> dict[tuple[int, int], str]:
    """The guides these tandems got, by (tandem id, period)."""
    if not tandem_ids:
        return {}
    rows = await session.execute(select(TandemGuide.tandem_id, TandemGuide.period,
                                        TandemGuide.guide)
                                 .where(TandemGuide.tandem_id.in_(list(tandem_ids))))
    return {(tandem, period): guide for tandem, period, guide in rows}


async def keep(session: AsyncSession, chosen: Mapping[tuple[int, int], str],
               now: datetime) -> dict[tuple[int, int], str | None]:
    """Record each guide chosen for a (tandem id, period), in one statement, unless
    one is recorded already (a partner's nudge in another time zone, a second
    instance); each period's guide, or None where the chosen one was already given
    in another period (the caller shows none)."""
    if not chosen:
        return {}
    table = TandemGuide.__table__
    # The table, not the ORM class: the statement is compiled once, not per row. In
    # one order, so that two instances writing the same tandems wait for each other
    # on PostgreSQL instead of deadlocking.
    inserted = await session.execute(
        dialect_insert(session, table).on_conflict_do_nothing()
        .returning(table.c.tandem_id, table.c.period),
        [{"tandem_id": tandem, "period": period, "guide": guide, "created_at": now}
         for (tandem, period), guide in sorted(chosen.items())])
    if len(inserted.all()) == len(chosen):  # all ours: no need to read them back
        return dict(chosen)
    stored = await given(session, {tandem for tandem, _ in chosen})
    return {key: stored.get(key) for key in chosen}
