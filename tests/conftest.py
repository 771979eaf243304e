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
machine without one). When that server does not answer, the PostgreSQL runs are
skipped, all for one reason printed once at the end, unless
``TANDEM_TEST_POSTGRES_REQUIRED=1`` (CI sets it): then the run stops with an error.
The schema is migrated once per backend with Alembic; tables are emptied between
tests.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import AsyncIterator, Generator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

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

# Fixtures shared by the tests that run the real server in real time, and the
# xdist_group marks made to work on the installed pytest (see that module).
pytest_plugins = ["tests.helpers.live", "tests.helpers.xdist_groups"]
_BASE_POSTGRES_URL = os.environ.get(
    "TANDEM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
#: pytest-xdist runs the suite in several processes (``-n``); each gets a database of
#: its own on the same server (``test_gw0``, ``test_gw1``, ...), so their tables never
#: meet. Without xdist the URL is used as given.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
POSTGRES_URL = (
    _BASE_POSTGRES_URL if not _WORKER or _BASE_POSTGRES_URL == "off"
    else make_url(_BASE_POSTGRES_URL).set(
        database=f"{make_url(_BASE_POSTGRES_URL).database}_{_WORKER}"
    ).render_as_string(hide_password=False)
)
BACKENDS = ["sqlite"] + ([] if POSTGRES_URL == "off" else ["postgresql"])
#: CI sets this: a PostgreSQL server that does not answer fails the run instead.
POSTGRES_REQUIRED = os.environ.get("TANDEM_TEST_POSTGRES_REQUIRED", "") not in ("", "0")
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


@functools.cache
def postgres_missing() -> str | None:
    """Why the PostgreSQL runs cannot happen on this machine; None when its server
    answers. Asked once per session, so a missing server costs one probe."""
    url = make_url(POSTGRES_URL)
    host, port = url.host or "127.0.0.1", url.port or 5432
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as error:
        return f"no PostgreSQL answers at {host}:{port} ({error.strerror or error})"
    return None


def _skip_reason(missing: str) -> str:
    return (f"PostgreSQL tests skipped: {missing}. To run them, start PostgreSQL there or "
            "point TANDEM_TEST_POSTGRES_URL at one; TANDEM_TEST_POSTGRES_URL=off says you "
            "meant SQLite only")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a PostgreSQL server, its runs are skipped (or, in CI, the run fails)."""
    if POSTGRES_REQUIRED and "postgresql" not in BACKENDS:
        raise pytest.UsageError("TANDEM_TEST_POSTGRES_REQUIRED is set, but "
                                "TANDEM_TEST_POSTGRES_URL=off turns PostgreSQL off")
    if "postgresql" not in BACKENDS or not (missing := postgres_missing()):
        return
    if POSTGRES_REQUIRED:
        raise pytest.UsageError(f"TANDEM_TEST_POSTGRES_REQUIRED is set, but {missing}")
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("db") == "postgresql":
            item.add_marker(pytest.mark.skip(reason=_skip_reason(missing)))
            item.stash[_NO_POSTGRES] = True


_NO_POSTGRES = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if item.stash.get(_NO_POSTGRES, False) and report.skipped:
        # One place for all of them, so the summary folds them into one line.
        report.longrepr = (__file__, 0, _skip_reason(postgres_missing() or ""))
    return report


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, sqlite_path: Path) -> AsyncIterator[Database]:
    url = (
        f"sqlite+aiosqlite:///{sqlite_path}" if request.param == "sqlite" else POSTGRES_URL
    )
    if request.param == "postgresql" and url not in _migrated:
        await _create_database(url)
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


async def _create_database(url: str) -> None:
    """The worker's own database, made on first use (the server's ``postgres``
    database is where CREATE DATABASE can run)."""
    target = make_url(url)
    if target.database == make_url(_BASE_POSTGRES_URL).database:
        return
    admin = create_async_engine(target.set(database="postgres"),
                                isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            exists = await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": target.database})
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        await admin.dispose()


#: Per PostgreSQL database: the one statement that empties its tables (see _empty).
_emptying: dict[str, str] = {}


async def _empty(database: Database) -> None:
    """Every table emptied, ids starting at 1 again. On PostgreSQL one DO block
    deletes the rows and resets the sequences: TRUNCATE ... RESTART IDENTITY did
    the same but makes new files for every table, about 0.3 s per test on a
    loaded machine against 0.01-0.02 s for the block."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            if database.url not in _emptying:
                sequences = await conn.scalars(text(
                    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                    "FROM pg_sequences WHERE schemaname = current_schema()"))
                _emptying[database.url] = "DO $$ BEGIN {} END $$".format(" ".join(
                    [f"DELETE FROM {name};" for name in tables]
                    + [f"PERFORM setval('{name}', 1, false);" for name in sequences]))
            await conn.execute(text(_emptying[database.url]))
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
