"""Who a person is, for the requests that come by the hundred: looked up in batches.

Every command, form and button starts with the same questions: which workspace
row, which round is current, is this person signed up, who is their partner;
and a survey ends by saving the answers. "Is this person signed up" is asked by
platform user id, whichever workspace the person types in, and answered by the
one rule of ``storage.participants.preferred``: a person in several workspaces
gets one answer, here as everywhere. Here those go through batchers
(``storage.batching``), so a burst of requests costs a few statements in all
instead of several per request. Workspace ids never change once made, so they
are also remembered for the life of the process.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.core.config import RoundSettings
from storage import deliveries, wishes, workspaces
from storage.batching import Batcher, Failed
from storage.db import Database, per_database
from storage.dialect import dialect_insert
from storage.directory_survey import KnownFacts, facts_for
from storage.models import Participant, Round, Tandem, TandemStatus
from storage.participants import preferred
from storage.rounds import sync_round, synced_round

#: The two partners of a tandem in ``_standings``, made once: an alias builds a proxy
#: of each of the participants' many columns, which cost more than the query itself.
_MENTOR, _MENTEE = aliased(Participant, name="mentor"), aliased(Participant, name="mentee")

PersonKey = tuple[str, str]  # (platform, platform user id): one person
#: Where a survey's row is saved: (workspace row id, platform user id).
RowKey = tuple[int, str]


@dataclass(frozen=True)
class SurveyAnswers:
    """One person's survey, as columns of their participant row (``columns`` names
    the platform). ``workspace_id`` is the workspace of the row that stands for the
    person (``People.participant``) when they have one, so that their answers
    update that row wherever they type; a new person's row is made in theirs."""

    workspace_id: int
    user_id: str
    columns: Mapping[str, Any]
    now: datetime
    #: Deliveries this answer owes (``storage.deliveries.owed_row``: the summary DM),
    #: recorded in the transaction that saves it.
    owed: tuple[dict[str, Any], ...] = ()
    #: The person's private wishes (user ids, checked by the flow), replaced in the
    #: same transaction; None when the survey does not ask for them (left as they are).
    wishes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Standing:
    """What ``status`` shows beside the answers: the round's name and the partners'
    display names (None for a partner without one)."""

    round_name: str | None
    partners: tuple[str | None, ...]


class _What(StrEnum):
    PERSON = "person"  # the participant a person is (their preferred row)
    STANDING = "standing"  # what ``status`` shows beside their answers
    FACTS = "facts"  # what the company directory holds about them (``KnownFacts``)


@dataclass(frozen=True, slots=True)
class _About:
    """Read: ``what`` about the person ``key``."""

    key: PersonKey
    what: _What


class _Round(NamedTuple):
    """Read: the round app.yaml describes, as of ``now``."""

    settings: RoundSettings
    now: datetime


_Read = _About | _Round


class People:
    """Lookups and saves for one database. Lookups of every kind share one batcher,
    so the reads of a burst (whoever asks what) cost one session per batch. Never
    call these from inside an open session: on SQLite a batch may need the very
    connection that session holds."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._workspaces: dict[tuple[str, str], int] = {}
        #: A round's name never changes once the round exists.
        self._round_names: dict[int, str] = {}
        self._reads: Batcher[_Read, Any] = Batcher(self._read, concurrency=2)
        # One save batch at a time: SQLite has one writer anyway, and two batches at
        # once could let a person's older answers overtake their newer ones.
        self._saves: Batcher[SurveyAnswers, Participant] = Batcher(self._save)
        self._upserts: dict[tuple[str, ...], Any] = {}

    async def workspace_id(self, platform: str, external_id: str, now: datetime) -> int:
        found = self._workspaces.get((platform, external_id))
        if found is None:
            async with self.db.session() as session:
                found = await workspaces.workspace_id(session, platform, external_id, now)
            self._workspaces[(platform, external_id)] = found
        return found

    async def participant(self, platform: str, user_id: str) -> Participant | None:
        """The row that stands for the person (``participants.preferred``), or None."""
        found: Participant | None = await self._reads(_About((platform, user_id), _What.PERSON))
        return found

    async def current_round(self, settings: RoundSettings, now: datetime) -> Round:
        """app.yaml's round, synced (see ``rounds.sync_round``)."""
        found: Round = await self._reads(_Round(settings, now))
        return found

    async def standing(self, platform: str, user_id: str) -> Standing | None:
        """The standing of ``participant``'s row; None for someone not signed up.
        Asked together with ``participant`` (with ``asyncio.gather``), both come from
        one batch."""
        found: Standing | None = await self._reads(_About((platform, user_id), _What.STANDING))
        return found

    async def directory_facts(self, platform: str, user_id: str) -> KnownFacts | None:
        """The company directory's facts about the person, or None where it holds none.
        Asked together with the others (``asyncio.gather``), it comes in their batch."""
        found: KnownFacts | None = await self._reads(_About((platform, user_id), _What.FACTS))
        return found

    async def save_survey(self, answers: SurveyAnswers) -> Participant:
        """Create or update the person's row; the consent given first is kept."""
        return await self._saves(answers)

    # -- the batches --------------------------------------------------------------------

    async def _read(self, asks: Sequence[_Read]) -> list[Any]:
        rounds: dict[int, Round | None] = {}
        async with self.db.reading() as session:
            for ask in asks:
                if isinstance(ask, _Round) and id(ask.settings) not in rounds:
                    rounds[id(ask.settings)] = await synced_round(session, ask.settings)
            about = [a for a in asks if isinstance(a, _About)]
            found = await self._find(session, {a.key for a in about if a.what != _What.FACTS})
            standings = await self._standings(session, {
                person.id: person for a in about if a.what == _What.STANDING
                if (person := found.get(a.key)) is not None})
            wanted = {a.key for a in about if a.what == _What.FACTS}
            facts = await facts_for(session, wanted) if wanted else {}
        for ask in asks:
            if isinstance(ask, _Round) and rounds[id(ask.settings)] is None:
                # app.yaml changed (or the round is new): a write, once after a deploy.
                async with self.db.session() as session:
                    rounds[id(ask.settings)] = await sync_round(session, ask.settings, ask.now)

        def answer(ask: _Read) -> Any:
            if isinstance(ask, _Round):
                return rounds[id(ask.settings)]
            if ask.what == _What.FACTS:
                return facts.get(ask.key)
            person = found.get(ask.key)
            if ask.what == _What.PERSON or person is None:
                return person
            return standings[person.id]

        return [answer(ask) for ask in asks]

    @staticmethod
    async def _find(session: AsyncSession, keys: set[PersonKey]
                    ) -> dict[PersonKey, Participant]:
        users: defaultdict[str, set[str]] = defaultdict(set)
        for platform, user in keys:
            users[platform].add(user)
        rows: defaultdict[PersonKey, list[Participant]] = defaultdict(list)
        for platform, ids in users.items():  # one platform, nearly always
            for p in await session.scalars(select(Participant).where(
                    Participant.platform == platform, Participant.user_id.in_(ids))):
                rows[(p.platform, p.user_id)].append(p)
        return {key: person for key, found in rows.items()
                if (person := preferred(found)) is not None}

    @staticmethod
    async def _saved(session: AsyncSession, keys: set[RowKey]) -> dict[RowKey, Participant]:
        users: defaultdict[int, set[str]] = defaultdict(set)
        for workspace, user in keys:
            users[workspace].add(user)
        found: dict[RowKey, Participant] = {}
        for workspace, ids in users.items():  # one workspace, nearly always
            rows = await session.scalars(select(Participant).where(
                Participant.workspace_id == workspace, Participant.user_id.in_(ids)))
            found.update(((p.workspace_id, p.user_id), p) for p in rows)
        return found

    async def _standings(self, session: AsyncSession, people: dict[int, Participant]
                         ) -> dict[int, Standing]:
        if not people:
            return {}
        unnamed = {p.round_id for p in people.values()} - {None} - self._round_names.keys()
        if unnamed:
            self._round_names.update((await session.execute(
                select(Round.id, Round.name).where(Round.id.in_(unnamed)))).all())
        mentor, mentee = _MENTOR, _MENTEE
        tandems = (await session.execute(
            select(Tandem.mentor_id, Tandem.mentee_id, mentor.display_name, mentee.display_name)
            .join(mentor, mentor.id == Tandem.mentor_id)
            .join(mentee, mentee.id == Tandem.mentee_id)
            .where(Tandem.status == TandemStatus.ACTIVE,
                   or_(Tandem.mentor_id.in_(people), Tandem.mentee_id.in_(people)))
            .order_by(Tandem.id))).all()
        partners: defaultdict[int, list[str | None]] = defaultdict(list)
        for mentor_id, mentee_id, mentor_name, mentee_name in tandems:
            if mentor_id in people:
                partners[mentor_id].append(mentee_name)
            if mentee_id in people:
                partners[mentee_id].append(mentor_name)
        return {i: Standing(self._round_names.get(p.round_id) if p.round_id else None,
                            tuple(partners[i])) for i, p in people.items()}

    async def _save(self, batch: Sequence[SurveyAnswers]) -> list[Participant | Failed]:
        rows = self._rows(batch)
        owed: dict[RowKey, list[dict[str, Any]]] = {}
        wished: dict[RowKey, tuple[tuple[str, ...], datetime]] = {}
        for a in batch:
            owed.setdefault((a.workspace_id, a.user_id), []).extend(a.owed)
            if a.wishes is not None:  # the last list wins, as one save after the other
                wished[(a.workspace_id, a.user_id)] = (a.wishes, a.now)
        try:
            saved: dict[RowKey, Participant | Failed] = dict(await self._upsert_rows(
                rows, [row for rows_of in owed.values() for row in rows_of], wished))
        except Exception:
            if len(rows) == 1:
                raise
            # One row the database refuses must not fail everybody who came with it.
            saved = {}
            for row in rows:
                key = (row["workspace_id"], row["user_id"])
                try:
                    saved.update(await self._upsert_rows(
                        [row], owed[key], {key: wished[key]} if key in wished else {}))
                except Exception as error:
                    saved[key] = Failed(error)
        return [saved[(a.workspace_id, a.user_id)] for a in batch]

    @staticmethod
    def _rows(batch: Sequence[SurveyAnswers]) -> list[dict[str, Any]]:
        """One row per person. Of two answers from one person in a batch the last
        wins, as it would one after the other (PostgreSQL refuses to upsert a row
        twice in one statement); as one after the other, the row's creation and the
        consent given first are kept (the consent by ``_upsert``'s coalesce for a
        row that already exists)."""
        latest: dict[RowKey, SurveyAnswers] = {}
        first: dict[RowKey, SurveyAnswers] = {}
        consents: dict[RowKey, Any] = {}
        for a in batch:
            key = (a.workspace_id, a.user_id)
            latest[key] = a
            first.setdefault(key, a)
            if consents.get(key) is None:
                consents[key] = a.columns.get("consent_at")
        return [{"workspace_id": a.workspace_id, "user_id": a.user_id,
                 "created_at": first[key].now, "updated_at": a.now, **a.columns,
                 **({} if consents[key] is None else {"consent_at": consents[key]})}
                for key, a in latest.items()]

    async def _upsert_rows(self, rows: list[dict[str, Any]], owed: list[dict[str, Any]],
                           wished: Mapping[RowKey, tuple[tuple[str, ...], datetime]]
                           ) -> dict[RowKey, Participant]:
        # No RETURNING: SQLite has it only from 3.35, and older ones are still about
        # (Debian 11 ships 3.34). The rows are read back in the same transaction.
        async with self.db.session() as session:
            await session.execute(self._upsert(session, tuple(rows[0])), rows)
            await deliveries.owe(session, owed)
            saved = await self._saved(session, {(r["workspace_id"], r["user_id"]) for r in rows})
            # The wishes belong to the row just saved, in the answers' transaction.
            await wishes.replace_lists(session, [(saved[key], ids, now)
                                                 for key, (ids, now) in wished.items()])
            return saved

    def _upsert(self, session: AsyncSession, columns: tuple[str, ...]) -> Any:
        """INSERT ... ON CONFLICT DO UPDATE, built once: building it (its
        ``excluded`` columns above all) cost more than running it."""
        statement = self._upserts.get(columns)
        if statement is None:
            table = Participant.__table__
            insert = dialect_insert(session, table)
            changed = {name: insert.excluded[name] for name in columns
                       if name not in ("workspace_id", "user_id", "created_at")}
            changed["consent_at"] = func.coalesce(table.c.consent_at, insert.excluded.consent_at)
            statement = self._upserts[columns] = insert.on_conflict_do_update(
                index_elements=["workspace_id", "user_id"], set_=changed)
        return statement


people = per_database(People)
