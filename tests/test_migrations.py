"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.db import Database, head_revision
from storage.models import Base


async def test_migrated_schema_matches_models(db: Database) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
    assert await db.current_revision() == head_revision()
    await db.ensure_current()


async def test_sqlite_runs_in_wal_mode_with_busy_timeout(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("WAL and busy_timeout are SQLite settings")
    async with db.engine.connect() as conn:
        mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
        timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    assert mode == "wal" and timeout and int(timeout) >= 5000
    assert "participants" in tables
