"""Every row the database holds, and where a marker string still appears in it."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, String, select

from storage.db import Database
from storage.models import Base


async def everything(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, by table name."""
    found: dict[str, list[dict[str, Any]]] = {}
    async with db.session() as session:
        for table in Base.metadata.sorted_tables:
            rows = await session.execute(select(table))
            found[table.name] = [dict(row._mapping) for row in rows]
    return found


def leaks(tables: dict[str, list[dict[str, Any]]], needles: list[str]) -> list[str]:
    """Every text or JSON cell, in every table, that contains one of ``needles``."""
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [c.name for c in table.columns if isinstance(c.type, String | JSON)]
        for row in tables[table.name]:
            for column in columns:
                value = row[column]
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                found += [f"{table.name}.{column}: {needle} in {text[:80]!r}"
                          for needle in needles if needle in text]
    return found
