"""Bulk seeding for tests that need hundreds of tandems (no flows: plain inserts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from bot.core.config import AppConfig
from storage import rounds, workspaces
from storage.db import Database
from storage.models import Participant, Round, Tandem

NOW = datetime(2027, 1, 20, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    round_id: int
    tandems: list[tuple[int, str, str]]  # tandem id, mentor user id, mentee user id


async def seed_tandems(db: Database, config: AppConfig, count: int, *, platform: str = "slack",
                       timezone: str = "Europe/Berlin", workspace: str = "T1") -> Seeded:
    async with db.session() as session:
        current = await rounds.sync_round(session, config.round, NOW)
        await session.execute(update(Round).where(Round.id == current.id)
                              .values(status="matched"))
        space = await workspaces.workspace_id(session, platform, workspace, NOW)
        rows = []
        for i in range(count):
            for role, prefix in (("mentor", "UJ"), ("mentee", "US")):
                rows.append({
                    "workspace_id": space, "platform": platform, "user_id": f"{prefix}{i:05d}",
                    "display_name": f"{role.title()} {i}", "round_id": current.id,
                    "role": role, "department": "IT" if role == "mentor" else "Sales",
                    "topics": ["ai_tools"], "languages": ["de"], "timezone": timezone,
                    "meeting_mode": "either", "capacity": 1, "locale": "de",
                    "consent_at": NOW, "status": "active", "created_at": NOW,
                    "updated_at": NOW,
                })
        await session.execute(insert(Participant), rows)
        ids = {uid: pid for pid, uid in await session.execute(
            select(Participant.id, Participant.user_id).where(Participant.workspace_id == space))}
        await session.execute(insert(Tandem), [
            {"round_id": current.id, "mentor_id": ids[f"UJ{i:05d}"],
             "mentee_id": ids[f"US{i:05d}"], "score": 50.0,
             "explanation": {"offered_wished": ["ai_tools"]}, "status": "active",
             "created_at": NOW}
            for i in range(count)
        ])
        tandems = [(tid, f"UJ{i:05d}", f"US{i:05d}") for i, tid in enumerate(await session.scalars(
            select(Tandem.id).where(Tandem.round_id == current.id).order_by(Tandem.id)))]
        return Seeded(current.id, tandems)
