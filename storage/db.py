"""The database handle: one async engine, sessions, migrations and the schema check."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.core.errors import TandemError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000
#: Connections for ``Database.reading`` on SQLite, beside the one writer connection.
SQLITE_READERS = 3

#: What a flow holds while it calls storage functions in one transaction; flows
#: name the type from here, never from SQLAlchemy.
Session = AsyncSession


class SchemaOutOfDate(TandemError):
    key = "error.schema_out_of_date"


def alembic_config(url: str | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while one writer writes; the busy timeout makes
    # concurrent writers wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # What is deleted or overwritten is zeroed in the file, not left in free space:
    # an erased person's text must not be readable from the database file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, statement_timeout_ms: int = 15_000):
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        # No pre-ping: it costs a round trip per checkout; a connection the server
        # dropped fails once, is invalidated, and the pool opens a fresh one.
        options: dict[str, Any] = {"pool_recycle": 1800}
        if self.dialect == "postgresql":
            options.update(
                pool_size=pool_size,
                max_overflow=pool_size,
                connect_args={"server_settings": {"statement_timeout": str(statement_timeout_ms)}},
            )
        elif self.dialect == "sqlite":
            # One connection: SQLite has one writer at a time anyway, and queueing for
            # the connection in-process is far faster than SQLite's busy-wait sleeps.
            options.update(
                pool_size=1, max_overflow=0, pool_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            )
        self.engine: AsyncEngine = create_async_engine(url, **options)
        #: Where ``reading`` sessions go. SQLite in WAL mode reads while it writes, but
        #: only on other connections: without these, every lookup of every request
        #: would queue behind the one writer connection.
        self.read_engine = self.engine
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            if make_url(url).database not in (None, "", ":memory:"):
                # Every reading session rolls back as it closes; the pool need not
                # roll back once more (a round trip to aiosqlite's thread each time).
                self.read_engine = create_async_engine(
                    url, **{**options, "pool_size": SQLITE_READERS},
                    pool_reset_on_return=None)
                event.listen(self.read_engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)
        #: What ``per_database`` made for this database (batchers, caches).
        self.shared: dict[Callable[[Database], Any], Any] = {}

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for lookups only: it is never committed, so anything written
        in it is rolled back. (Skipping the commit saved a third of a lookup's cost
        on SQLite.)"""
        async with self.read_sessions() as session:
            yield session

    async def scrub_files(self) -> None:
        """After an erasure: on SQLite, copy the write-ahead log into the database and
        truncate it, so the erased rows' old versions are in neither file (with
        ``secure_delete`` the new pages hold zeros where the text was). Also at the
        start of ``serve`` and ``run-due``: a process killed after an erasure's commit
        and before this checkpoint left the text in both files until then.
        (PostgreSQL reclaims dead rows with its autovacuum.)"""
        if self.dialect != "sqlite":
            return
        async with self.engine.connect() as conn:
            busy = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).first()
        if busy is not None and busy[0]:
            log.warning("sqlite: the write-ahead log could not be truncated (a reader was "
                        "busy); it is at the next erasure")

    async def migrate(self) -> None:
        def upgrade(connection: Connection) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

        async with self.engine.begin() as conn:
            await conn.run_sync(upgrade)

    async def current_revision(self) -> str | None:
        def read(connection: Connection) -> str | None:
            return MigrationContext.configure(connection).get_current_revision()

        async with self.engine.connect() as conn:
            return await conn.run_sync(read)

    async def ensure_current(self) -> None:
        # Asking an absent SQLite file would leave an empty one behind: refuse first.
        name = make_url(self.url).database if self.dialect == "sqlite" else None
        if name and name != ":memory:" and not name.startswith("file:") \
                and not await asyncio.to_thread(Path(name).exists):
            raise SchemaOutOfDate()
        if await self.current_revision() != head_revision():
            raise SchemaOutOfDate()

    async def close(self) -> None:
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
        await self.engine.dispose()


T = TypeVar("T")


def per_database(make: Callable[[Database], T]) -> Callable[[Database], T]:
    """``make(db)`` once per database, on first use: for what holds a database's
    batches or caches, which every caller of that database must share. Kept on the
    database itself, so it lives exactly as long."""

    def get(db: Database) -> T:
        found: T | None = db.shared.get(make)
        if found is None:
            found = db.shared[make] = make(db)
        return found

    return get
