"""The one SQL construct that differs between SQLite and PostgreSQL: INSERT ... ON
CONFLICT, built for whichever database a session talks to."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_insert(session: AsyncSession, model: Any) -> Any:
    """An INSERT that knows its database's ON CONFLICT clause (the same SQL on both)."""
    name = session.bind.dialect.name if session.bind else "sqlite"
    return (pg_insert if name == "postgresql" else sqlite_insert)(model)
