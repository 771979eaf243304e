"""Bulk seeding for tests that need hundreds of tandems (no flows: plain inserts).

``seed_programme`` builds one round with known check-ins, reflections (one of
each visibility, with marker strings) and evaluations; the figures, report,
dashboard and browser tests use it and search everything they produce for the
markers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from bot.core.config import AppConfig
from storage import checkins, responses, rounds, workspaces
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


#: Strings that must never appear in anything a coordinator or a board sees.
PRIVATE = "PRIVATE-MARKER-7f3a"
PARTNER = "PARTNER-MARKER-19c2"
EVALUATION_TEXT = "EVALUATION-MARKER-55d0"
#: A reflection its author shared with the coordinators: only their dashboard shows it.
SHARED = "Shared with coordinators: prompting tricks"
AFTER_END = datetime(2027, 8, 10, 9, 0, tzinfo=UTC)
MID_ROUND = datetime(2027, 5, 20, 9, 0, tzinfo=UTC)
# tandem index -> check-ins by period
CHECKINS: dict[int, dict[int, str]] = {
    0: {p: "met" for p in range(1, 7)},
    1: {p: "met" for p in range(1, 6)},
    2: {1: "met", 3: "met", 5: "met", 6: "met"},
    3: {1: "met", 2: "not_yet"},
    4: {1: "help"},
    5: {p: "met" for p in range(2, 7)},
}

# (tandem index, role, period, rating, visibility, text)
REFLECTIONS = [
    (0, "mentor", 1, 5, "private", PRIVATE),
    (0, "mentee", 1, 4, "partner", PARTNER),
    (1, "mentor", 1, 4, "coordinators", SHARED),
    (1, "mentee", 2, 3, "private", PRIVATE + " again"),
    (2, "mentor", 1, 5, "private", "fine"),
    (5, "mentor", 2, 2, "private", "meh"),
]

# (tandem index, role, rating, recommend, continue)
EVALUATIONS = [
    (0, "mentor", 5, "yes", "same"), (0, "mentee", 4, "yes", "new"),
    (1, "mentor", 4, "yes", "same"), (1, "mentee", 3, "no", "no"),
    (3, "mentor", 5, "yes", "new"),
]


@dataclass(frozen=True)
class Programme:
    round_id: int
    tandems: list[tuple[int, str, str]]


async def seed_programme(db: Database, config: AppConfig, *, platform: str = "slack",
                         count: int = 6, workspace: str = "T1") -> Programme:
    seeded = await seed_tandems(db, config, count, platform=platform, workspace=workspace)
    ids = [tid for tid, _, _ in seeded.tandems]
    async with db.session() as session:
        people = {p.user_id: p for p in await session.scalars(select(Participant))}

        def person(index: int, role: str) -> Participant:
            return people[("UJ" if role == "mentor" else "US") + f"{index:05d}"]

        for index in range(min(count, 3)):
            person(index, "mentee").topics = ["ai_tools", "agile"]
        space = await workspaces.workspace_id(session, platform, workspace, NOW)
        base = {"workspace_id": space, "platform": platform, "round_id": seeded.round_id,
                "languages": ["de"], "meeting_mode": "either", "capacity": 1,
                "locale": "de", "consent_at": NOW, "created_at": NOW, "updated_at": NOW}
        await session.execute(insert(Participant), [
            {**base, "user_id": "UJXTRA", "display_name": "Extra Junior", "role": "mentor",
             "topics": ["sustainability"], "status": "left", "left_at": NOW},
            {**base, "user_id": "USXTRA", "display_name": "Extra Senior", "role": "mentee",
             "topics": ["sustainability", "ai_tools"], "status": "active"},
        ])
        if count > 4:
            person(4, "mentee").unreachable_at = NOW
        for index, periods in CHECKINS.items():
            if index >= count:
                continue
            for period, answer in periods.items():
                await checkins.record_checkin(session, ids[index], period, answer,
                                           person(index, "mentor").id, NOW)
        for index, role, period, rating, visibility, text in REFLECTIONS:
            if index < count:
                await responses.save_response(
                    session, person(index, role).id, seeded.round_id, "reflection", period,
                    NOW, tandem_id=ids[index], rating=rating, visibility=visibility,
                    answers={"learned": text, "try_next": text + " (next)"})
        for index, role, rating, recommend, going_on in EVALUATIONS:
            if index < count:
                await responses.save_response(
                    session, person(index, role).id, seeded.round_id, "evaluation", 0, NOW,
                    rating=rating, visibility="coordinators",
                    answers={"valuable": EVALUATION_TEXT, "recommend": recommend,
                             "continue": going_on})
    return Programme(seeded.round_id, seeded.tandems)


async def nameless_tandem(db: Database, config: AppConfig) -> tuple[int, str, str]:
    """One tandem on the local platform whose two people have no display name (a
    platform that never told it): its id, the mentor's and the mentee's user id."""
    [tandem] = (await seed_tandems(db, config, 1, platform="local")).tandems
    async with db.session() as session:
        await session.execute(update(Participant).values(display_name=None))
    return tandem
