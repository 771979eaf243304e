"""Shared fixtures: a real database (SQLite and PostgreSQL), the app config, a clock.

Every test that takes ``db`` runs twice: on SQLite and on the local PostgreSQL
server (``TANDEM_TEST_POSTGRES_URL``; set it to ``off`` to skip PostgreSQL on a
machine without one). The schema is migrated once per backend with Alembic;
tables are emptied between tests.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core.clock import FixedClock
from bot.core.config import AppConfig, load_config
from storage.db import Database
from storage.models import Base

# Fixtures shared by the tests that run the real server in real time.
pytest_plugins = ["tests.live"]

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "TANDEM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite"] + ([] if POSTGRES_URL == "off" else ["postgresql"])
_migrated: set[str] = set()


@pytest.fixture
def config() -> AppConfig:
    return load_config(ROOT / "app.yaml")


@pytest.fixture
def clock() -> FixedClock:
    # Inside app.yaml's sign-up window.
    return FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def sqlite_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("db") / "tandem-test.db"


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, sqlite_path: Path) -> AsyncIterator[Database]:
    url = (
        f"sqlite+aiosqlite:///{sqlite_path}" if request.param == "sqlite" else POSTGRES_URL
    )
    database = Database(url)
    if url not in _migrated:
        if request.param == "postgresql":
            async with database.engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        await database.migrate()
        _migrated.add(url)
    await _empty(database)
    try:
        yield database
    finally:
        await database.close()


async def _empty(database: Database) -> None:
    async with database.engine.begin() as conn:
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        if database.dialect == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))
