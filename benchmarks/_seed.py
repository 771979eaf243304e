"""Fast seeding for the benchmarks: a matched round with N active tandems, in bulk.

Nothing here goes through the flows: participants, the round (exactly as
app.yaml describes it, so ``sync_round`` finds it unchanged) and the tandems are
inserted with a few multi-row statements. Ids are given explicitly so that the
tandem -> people mapping is known without reading it back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import make_url

from bot.core.config import AppConfig
from conversations.schedule import RoundDates
from storage.db import Database
from storage.models import Delivery, Participant, Round, Tandem, Workspace

ZONE = "Europe/Berlin"
WORKSPACE_ID = 1
ROUND_ID = 1
CHUNK = 2000
DEPARTMENTS = ("Finance", "Human Resources", "IT", "Legal", "Marketing", "Operations",
               "Research & Development", "Sales", "Executive Board")


def mentor_user(index: int) -> str:
    return f"U1{index:08d}"


def mentee_user(index: int) -> str:
    return f"U2{index:08d}"


@dataclass(frozen=True)
class Seeded:
    round_id: int
    tandems: int
    participants: int
    seconds: float


def nudge_instant(config: AppConfig) -> datetime:
    """One second after the round's first monthly nudge is due for people in Berlin
    (the Tuesday on or after start + 7 days, at rhythm.nudge_time local)."""
    current = Round(starts_at=config.round.starts, length_months=config.round.length_months,
                    meetings_per_month=config.round.meetings_per_month)
    dates = RoundDates.of(current, config.timezone)
    due = dates.nudge_at(1, config.rhythm, [ZoneInfo(ZONE)])
    return due + timedelta(seconds=1)


async def reset_schema(db: Database) -> None:
    """An empty, migrated database: the SQLite file removed, or PostgreSQL's
    public schema dropped and created again."""
    if db.dialect == "postgresql":
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    else:
        _remove_sqlite_files(db.url)
    await db.migrate()


def _remove_sqlite_files(url: str) -> None:
    database = make_url(url).database
    if database:
        for suffix in ("", "-wal", "-shm"):
            Path(database + suffix).unlink(missing_ok=True)


async def ensure_postgres_database(url: str) -> None:
    """Create the benchmark database (e.g. ``bench``) if the server lacks it."""
    import asyncpg

    parsed = make_url(url)
    name = parsed.database or "bench"
    conn = await asyncpg.connect(host=parsed.host or "127.0.0.1", port=parsed.port or 5432,
                                 user=parsed.username or "postgres",
                                 password=parsed.password, database="postgres")
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def seed(db: Database, config: AppConfig, tandems: int, seed_value: int = 5) -> Seeded:
    """``tandems`` active tandems (2 x ``tandems`` participants) in app.yaml's round,
    status "matched", everybody in Europe/Berlin, locales mostly de, some en."""
    import time

    started = time.perf_counter()
    rng = random.Random(seed_value)
    topics = [topic.id for topic in config.survey.topics] or ["ai_tools"]
    now = config.round.signup_closes.astimezone(UTC) + timedelta(days=1)
    participants: list[dict[str, Any]] = []
    pairs: list[dict[str, Any]] = []
    for index in range(tandems):
        mentor_id, mentee_id = 2 * index + 1, 2 * index + 2
        mentor_topics = rng.sample(topics, rng.randint(1, 4))
        mentee_topics = rng.sample(topics, rng.randint(1, 4))
        for pid, user, role, chosen in ((mentor_id, mentor_user(index), "mentor", mentor_topics),
                                        (mentee_id, mentee_user(index), "mentee", mentee_topics)):
            participants.append({
                "id": pid, "workspace_id": WORKSPACE_ID, "platform": "slack",
                "user_id": user, "display_name": f"Person {user}", "round_id": ROUND_ID,
                "role": role, "department": rng.choice(DEPARTMENTS), "manager_user_id": None,
                "topics": chosen, "goals": None, "languages": ["de", "en"], "timezone": ZONE,
                "meeting_mode": "either", "location": None, "capacity": 1,
                "locale": "en-US" if rng.random() < 0.3 else "de-DE", "consent_at": now,
                "status": "active", "unreachable_at": None, "left_at": None,
                "created_at": now, "updated_at": now,
            })
        shared = [tp for tp in mentor_topics if tp in mentee_topics]
        pairs.append({
            "id": index + 1, "round_id": ROUND_ID, "mentor_id": mentor_id,
            "mentee_id": mentee_id, "score": float(10 * len(shared)),
            "explanation": {"offered_wished": shared}, "status": "active",
            "conversation_id": None, "created_at": now,
        })
    async with db.session() as session:
        await session.execute(insert(Workspace), [{
            "id": WORKSPACE_ID, "platform": "slack", "external_id": "T0BENCH",
            "name": "Bench", "created_at": now}])
        await session.execute(insert(Round), [{
            "id": ROUND_ID, "name": config.round.name,
            "signup_opens_at": config.round.signup_opens,
            "signup_closes_at": config.round.signup_closes,
            "starts_at": config.round.starts, "length_months": config.round.length_months,
            "meetings_per_month": config.round.meetings_per_month, "status": "matched",
            "created_at": now}])
        for start in range(0, len(participants), CHUNK):
            await session.execute(insert(Participant), participants[start:start + CHUNK])
        for start in range(0, len(pairs), CHUNK):
            await session.execute(insert(Tandem), pairs[start:start + CHUNK])
        if db.dialect == "postgresql":
            # Explicit ids leave the sequences behind; later inserts must not collide.
            for table in ("workspaces", "rounds", "participants", "tandems"):
                await session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"))
    if db.dialect == "postgresql":
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    return Seeded(ROUND_ID, tandems, len(participants), time.perf_counter() - started)


async def clear_deliveries(db: Database) -> None:
    async with db.session() as session:
        await session.execute(delete(Delivery))
    if db.dialect == "postgresql":
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE deliveries"))


async def tandem_users(db: Database, round_id: int) -> dict[int, tuple[str, str]]:
    """tandem id -> (mentor's user id, mentee's user id), read back from the database."""
    mentor, mentee = Participant.__table__.alias("m"), Participant.__table__.alias("s")
    tandem = Tandem.__table__
    async with db.session() as session:
        rows = await session.execute(
            select(tandem.c.id, mentor.c.user_id, mentee.c.user_id)
            .join(mentor, tandem.c.mentor_id == mentor.c.id)
            .join(mentee, tandem.c.mentee_id == mentee.c.id)
            .where(tandem.c.round_id == round_id, tandem.c.status == "active")
        )
        return {tid: (m, s) for tid, m, s in rows}


async def delivery_statuses(db: Database) -> dict[str, int]:
    from sqlalchemy import func

    async with db.session() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status))
        return {status: count for status, count in rows}
