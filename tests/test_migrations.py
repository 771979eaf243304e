"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.db import Database, alembic_config, head_revision
from storage.models import Base
from tests.helpers import ROOT


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return compare_metadata(context, Base.metadata)


async def test_migrated_schema_matches_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []
    assert await db.current_revision() == head_revision()
    await db.ensure_current()


async def test_downgrade_to_base_then_upgrade_to_head_again(db: Database) -> None:
    """Every migration's downgrade undoes it: on the way down to nothing each one is
    upgraded again after its downgrade (what a downgrade left behind makes that upgrade
    fail), and from nothing the upgrades make the models' schema again."""
    def downgrade(connection: Connection) -> tuple[list[str], list[str]]:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        for _ in range(len(list(ScriptDirectory.from_config(cfg).walk_revisions()))):
            command.downgrade(cfg, "-1")
            command.upgrade(cfg, "+1")
            command.downgrade(cfg, "-1")
        found = inspect(connection)
        sequences = found.get_sequence_names() if connection.dialect.name != "sqlite" else []
        return found.get_table_names(), sequences

    async with db.engine.begin() as conn:
        tables, sequences = await conn.run_sync(downgrade)
    assert (tables, sequences) == (["alembic_version"], [])
    assert await db.current_revision() is None

    await db.migrate()
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    assert set(tables) == {*Base.metadata.tables, "alembic_version"}
    assert await db.current_revision() == head_revision()


def test_migrate_runs_from_another_directory(tmp_path: Path) -> None:
    """The migrations import their helpers as the installed package ``migrations``, not
    from the working directory: ``tandem migrate`` works from anywhere."""
    env = {**os.environ, "TANDEM_CONFIG": str(ROOT / "app.yaml"),
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/t.db"}
    env.pop("PYTHONPATH", None)
    migrated = subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    assert f"revision {head_revision()} (head)" in migrated.stdout


async def test_sqlite_runs_in_wal_mode_with_busy_timeout(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("WAL and busy_timeout are SQLite settings")
    async with db.engine.connect() as conn:
        mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
        timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    assert mode == "wal" and timeout and int(timeout) >= 5000
    assert "participants" in tables
