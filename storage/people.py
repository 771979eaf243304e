"""Who a person is, for the requests that come by the hundred: looked up in batches.

Every command, form and button starts with the same questions: which workspace
row, which round is current, is this person signed up, who is their partner;
and a survey ends by saving the answers. Here those go through batchers
(``storage.batching``), so a burst of requests costs a few statements in all
instead of several per request. Workspace ids never change once made, so they
are also remembered for the life of the process.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased

from bot.config import RoundSettings
from storage import participants as repo
from storage.batching import Batcher
from storage.db import Database
from storage.models import Participant, Round, Tandem

PersonKey = tuple[int, str]  # (workspace row id, platform user id)


@dataclass(frozen=True)
class SurveyAnswers:
    """One person's survey, as columns of their participant row."""

    workspace_id: int
    user_id: str
    columns: Mapping[str, Any]
    now: datetime


@dataclass(frozen=True)
class Standing:
    """What ``status`` shows beside the answers: the round's name and the partners'
    display names (None for a partner without one)."""

    round_name: str | None
    partners: tuple[str | None, ...]


class People:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._workspaces: dict[tuple[str, str], int] = {}
        #: A round's name never changes once the round exists.
        self._round_names: dict[int, str] = {}
        self._participants: Batcher[PersonKey, Participant | None] = Batcher(
            self._find, concurrency=2)
        self._rounds: Batcher[tuple[RoundSettings, datetime], Round] = Batcher(
            self._sync, concurrency=2)
        self._standings: Batcher[Participant, Standing] = Batcher(
            self._standing, concurrency=2)
        # SQLite has one writer: a second save batch would only wait for its lock.
        self._saves: Batcher[SurveyAnswers, Participant] = Batcher(
            self._save, concurrency=2 if db.dialect == "postgresql" else 1)
        self._upserts: dict[tuple[str, ...], Any] = {}

    async def workspace_id(self, platform: str, external_id: str, now: datetime) -> int:
        found = self._workspaces.get((platform, external_id))
        if found is None:
            async with self.db.session() as session:
                found = await repo.workspace_id(session, platform, external_id, now)
            self._workspaces[(platform, external_id)] = found
        return found

    async def participant(self, workspace_id: int, user_id: str) -> Participant | None:
        return await self._participants((workspace_id, user_id))

    async def current_round(self, settings: RoundSettings, now: datetime) -> Round:
        """app.yaml's round, synced (see ``participants.sync_round``)."""
        return await self._rounds((settings, now))

    async def standing(self, person: Participant) -> Standing:
        return await self._standings(person)

    async def save_survey(self, answers: SurveyAnswers) -> Participant:
        """Create or update the person's row; the consent given first is kept."""
        return await self._saves(answers)

    # -- the batches --------------------------------------------------------------------

    async def _find(self, keys: Sequence[PersonKey]) -> list[Participant | None]:
        users: defaultdict[int, set[str]] = defaultdict(set)
        for workspace, user in keys:
            users[workspace].add(user)
        found: dict[PersonKey, Participant] = {}
        async with self.db.reading() as session:
            for workspace, ids in users.items():  # one workspace, nearly always
                rows = await session.scalars(select(Participant).where(
                    Participant.workspace_id == workspace, Participant.user_id.in_(ids)))
                found.update(((p.workspace_id, p.user_id), p) for p in rows)
        return [found.get(key) for key in keys]

    async def _sync(self, asks: Sequence[tuple[RoundSettings, datetime]]) -> list[Round]:
        synced: dict[int, Round] = {}
        async with self.db.reading() as session:
            for settings, now in asks:
                if id(settings) not in synced:
                    synced[id(settings)] = await repo.sync_round(session, settings, now)
        return [synced[id(settings)] for settings, _ in asks]

    async def _standing(self, people: Sequence[Participant]) -> list[Standing]:
        ids = {p.id for p in people}
        mentor, mentee = aliased(Participant), aliased(Participant)
        async with self.db.reading() as session:
            unnamed = {p.round_id for p in people} - {None} - self._round_names.keys()
            if unnamed:
                self._round_names.update((await session.execute(
                    select(Round.id, Round.name).where(Round.id.in_(unnamed)))).all())
            tandems = (await session.execute(
                select(Tandem.mentor_id, Tandem.mentee_id, mentor.display_name,
                       mentee.display_name)
                .join(mentor, mentor.id == Tandem.mentor_id)
                .join(mentee, mentee.id == Tandem.mentee_id)
                .where(Tandem.status == "active",
                       or_(Tandem.mentor_id.in_(ids), Tandem.mentee_id.in_(ids)))
                .order_by(Tandem.id))).all()
        partners: defaultdict[int, list[str | None]] = defaultdict(list)
        for mentor_id, mentee_id, mentor_name, mentee_name in tandems:
            if mentor_id in ids:
                partners[mentor_id].append(mentee_name)
            if mentee_id in ids:
                partners[mentee_id].append(mentor_name)
        return [Standing(self._round_names.get(p.round_id) if p.round_id else None,
                         tuple(partners[p.id])) for p in people]

    async def _save(self, batch: Sequence[SurveyAnswers]) -> list[Participant]:
        # The last of two answers from one person in a batch wins, as it would one
        # after the other; PostgreSQL refuses to upsert a row twice in one statement.
        latest = {(a.workspace_id, a.user_id): a for a in batch}
        rows = [{"workspace_id": a.workspace_id, "user_id": a.user_id, "created_at": a.now,
                 "updated_at": a.now, **a.columns} for a in latest.values()]
        async with self.db.session() as session:
            saved = await session.scalars(
                self._upsert(tuple(rows[0])), rows,
                execution_options={"populate_existing": True},
            )
            by_key = {(p.workspace_id, p.user_id): p for p in saved}
        return [by_key[(a.workspace_id, a.user_id)] for a in batch]

    def _upsert(self, columns: tuple[str, ...]) -> Any:
        """INSERT ... ON CONFLICT DO UPDATE ... RETURNING, built once: building it
        (its ``excluded`` columns above all) cost more than running it."""
        statement = self._upserts.get(columns)
        if statement is None:
            insert = (pg_insert if self.db.dialect == "postgresql" else sqlite_insert)(
                Participant)
            changed = {name: insert.excluded[name] for name in columns
                       if name not in ("workspace_id", "user_id", "created_at")}
            changed["consent_at"] = func.coalesce(Participant.consent_at,
                                                  insert.excluded.consent_at)
            statement = self._upserts[columns] = insert.on_conflict_do_update(
                index_elements=["workspace_id", "user_id"], set_=changed,
            ).returning(Participant)
        return statement


_people: WeakKeyDictionary[Database, People] = WeakKeyDictionary()


def people(db: Database) -> People:
    found = _people.get(db)
    if found is None:
        found = _people[db] = People(db)
    return found
