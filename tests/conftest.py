"""Shared fixtures: a real database (SQLite and PostgreSQL), the app config, a clock,
and the fakes and servers built on them.

``slack`` is the fake Slack Web API (its people come from ``slack_users``, which a
module overrides); ``server`` is the real Tandem server talking to it; ``world`` is
the real server with Teams mounted and a fake Bot Connector; ``platform`` is the
local platform. All of them use ``config``, so a module that needs coordinators or
channels overrides ``config``. Helpers they share live in ``tests/helpers/``; test
modules never import each other.

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

from adapters.local.platform import LocalPlatform
from bot.core.clock import FixedClock
from bot.core.config import AppConfig, load_config
from storage.db import Database
from storage.models import Base
from tests.fakes.bot_connector import TeamsWorld, teams_world
from tests.fakes.slack_api import FakeSlack, FakeUser
from tests.helpers import ROOT
from tests.helpers.local import local_platform
from tests.helpers.servers import Served, serve, slack_settings

# Fixtures shared by the tests that run the real server in real time.
pytest_plugins = ["tests.helpers.live"]
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


@pytest.fixture
def slack_users() -> list[FakeUser]:
    """The people in the fake Slack workspace (a module overrides this with its cast)."""
    return []


@pytest.fixture
async def slack(slack_users: list[FakeUser]) -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    for user in slack_users:
        fake.users[user.id] = user
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def server(slack: FakeSlack, config: AppConfig, clock: FixedClock, db: Database
                 ) -> AsyncIterator[Served]:
    """The real server with Slack installed against the fake ``slack``."""
    async with serve(slack_settings(slack), config, clock, db) as served:
        yield served


@pytest.fixture
async def world(db: Database, config: AppConfig, clock: FixedClock
                ) -> AsyncIterator[TeamsWorld]:
    """The real server with Teams mounted, and the fake Bot Connector it talks to."""
    async with teams_world(db, config, clock) as w:
        yield w


@pytest.fixture
def platform(config: AppConfig, clock: FixedClock, db: Database) -> LocalPlatform:
    return local_platform(config, clock, db)
