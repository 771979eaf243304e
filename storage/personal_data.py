"""Where every table keeps data about a person, and how to export and erase it.

``REGISTRY`` names every table of ``Base.metadata``: either how to find a
person's rows there (``Holds``: what to export, how to erase), or why the table
holds no personal data (``NoPersonalData``). A table that is in neither is an
error (``check_registry``), so a new table cannot be forgotten silently: the
export and the erasure refuse to run, and ``tests/test_privacy_local.py`` fails.

A person is one user id on one platform, with every participant row they have
(one per workspace). Erasing keeps anonymous counts: the participant row stays
with an anonymous token instead of the user id, its survey answers cleared and
status ``forgotten``, so tandems, check-ins and ratings still add up; what the
person wrote, where the bot could reach them and their names are gone.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Text, cast, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.deliveries import CLAIMED, FAILED, PENDING
from storage.models import (
    ActionStatus,
    AuditEntry,
    Base,
    Checkin,
    ConversationRef,
    CoordinatorAction,
    Delivery,
    DirectoryAccount,
    DirectoryPerson,
    Highlight,
    MatchProposal,
    MatchRule,
    Meeting,
    Participant,
    ParticipantStatus,
    PrivateWish,
    ProcessedEvent,
    ProposalStatus,
    Reminder,
    Response,
    Tandem,
    TandemGuide,
    TandemStatus,
)

#: What a forgotten person's name becomes where a name was stored (proposals).
ERASED_NAME = "–"
#: Explanation keys a partner may see about their own tandem (they were in the
#: introduction both partners got); the rest describes the other person.
SHARED_EXPLANATION = ("offered_wished", "shared_topics", "languages")

Row = dict[str, Any]


@dataclass(frozen=True)
class Person:
    """Everything that identifies one person in the database."""

    platform: str
    user_id: str
    participant_ids: frozenset[int] = frozenset()
    names: frozenset[str] = frozenset()
    tandem_ids: frozenset[int] = frozenset()
    #: Their personal chats with the bot (Teams), which inbound event ids contain.
    chats: frozenset[str] = frozenset()
    #: Their records in the company directory (found by this platform user id).
    directory_ids: frozenset[int] = frozenset()

    @property
    def signed_up(self) -> bool:
        return bool(self.participant_ids)


@dataclass(frozen=True)
class Holds:
    """A table with rows about people: how to export one person's and erase them."""

    export: Callable[[AsyncSession, Person], Awaitable[list[Row]]]
    erase: Callable[[AsyncSession, Person, str, datetime], Awaitable[None]]


@dataclass(frozen=True)
class NoPersonalData:
    why: str


@dataclass
class Export:
    person: Person
    tables: dict[str, list[Row]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(self.tables.values())


def new_token() -> str:
    return f"{ParticipantStatus.FORGOTTEN}-{secrets.token_hex(6)}"


async def find_person(session: AsyncSession, platform: str, user_id: str) -> Person:
    rows = list(await session.scalars(
        select(Participant).where(Participant.platform == platform,
                                  Participant.user_id == user_id)
    ))
    ids = frozenset(p.id for p in rows)
    tandems = frozenset(await session.scalars(
        select(Tandem.id).where(or_(Tandem.mentor_id.in_(ids), Tandem.mentee_id.in_(ids)))
    )) if ids else frozenset()
    listed = list(await session.scalars(
        select(DirectoryPerson).join(DirectoryAccount,
                                     DirectoryAccount.person_id == DirectoryPerson.id)
        .where(DirectoryAccount.platform == platform, DirectoryAccount.user_id == user_id)))
    names = frozenset(name for name in [*(p.display_name for p in rows),
                                        *(d.display_name for d in listed)]
                      if name and name.strip())
    refs = await session.scalars(select(ConversationRef.reference).where(
        ConversationRef.platform == platform, ConversationRef.kind == "user",
        ConversationRef.key == user_id))
    chats = frozenset(chat for ref in refs
                      if isinstance(chat := ((ref or {}).get("conversation") or {}).get("id"), str)
                      and chat)
    return Person(platform, user_id, ids, names, tandems, chats,
                  frozenset(d.id for d in listed))


def as_row(obj: Any) -> Row:
    """Every column of a stored object, by attribute name."""
    return {attr.key: getattr(obj, attr.key) for attr in obj.__mapper__.column_attrs}


@cache
def _id_pattern(user_id: str) -> re.Pattern[str]:
    # An id inside a longer one is somebody else's: erasing U1 must leave U12 alone.
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(user_id)}(?![A-Za-z0-9])")


def names_id(text: str | None, user_id: str) -> bool:
    """Whether ``text`` contains ``user_id`` as a whole id, not as part of a longer one."""
    return bool(text and user_id and _id_pattern(user_id).search(text))


def scrub(value: Any, person: Person, token: str) -> Any:
    """``value`` with the person's user id replaced by ``token`` and their names erased,
    walking JSON (dicts and lists)."""
    if isinstance(value, str):
        if value in person.names:
            return ERASED_NAME
        return _id_pattern(person.user_id).sub(lambda _: token, value) \
            if person.user_id else value
    if isinstance(value, dict):
        return {k: scrub(v, person, token) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, person, token) for v in value]
    return value


def _mine(person: Person, *ids: object) -> bool:
    return any(i in person.participant_ids for i in ids)


# participants ------------------------------------------------------------------------

async def _participants_export(session: AsyncSession, person: Person) -> list[Row]:
    if not person.signed_up:
        return []
    rows = await session.scalars(
        select(Participant).where(Participant.id.in_(person.participant_ids))
        .order_by(Participant.id))
    return [as_row(p) for p in rows]


async def _participants_erase(session: AsyncSession, person: Person, token: str,
                              now: datetime) -> None:
    if not person.signed_up:
        return
    for p in await session.scalars(
            select(Participant).where(Participant.id.in_(person.participant_ids))):
        p.user_id, p.display_name = token, None
        p.department = p.manager_user_id = p.goals = p.timezone = None
        p.location = p.locale = p.intro = p.directory_flag = None
        p.work_start = p.work_end = p.country = p.region = None
        p.work_days = None
        p.topics, p.languages, p.meeting_mode = [], [], "either"
        p.consent_at = p.unreachable_at = None
        p.status, p.left_at, p.updated_at = ParticipantStatus.FORGOTTEN, p.left_at or now, now


# private wishes ----------------------------------------------------------------------

async def _wishes_export(session: AsyncSession, person: Person) -> list[Row]:
    """Their own wishes only: a wish that names them is the wisher's, never shown."""
    return await _own_rows(session, person, PrivateWish)


async def _wishes_erase(session: AsyncSession, person: Person, token: str,
                        now: datetime) -> None:
    # Their wishes, and the wishes that name them (an id of somebody who is gone).
    named = (PrivateWish.platform == person.platform) & (PrivateWish.user_id == person.user_id)
    await session.execute(delete(PrivateWish).where(
        or_(PrivateWish.participant_id.in_(person.participant_ids), named)
        if person.signed_up else named))


# highlights --------------------------------------------------------------------------

async def _highlights_export(session: AsyncSession, person: Person) -> list[Row]:
    return await _own_rows(session, person, Highlight)


async def _highlights_erase(session: AsyncSession, person: Person, token: str,
                            now: datetime) -> None:
    if person.signed_up:
        await session.execute(delete(Highlight).where(
            Highlight.participant_id.in_(person.participant_ids)))


# tandems -----------------------------------------------------------------------------

async def _tandems_export(session: AsyncSession, person: Person) -> list[Row]:
    rows: list[Row] = []
    if not person.tandem_ids:
        return rows
    for tandem in await session.scalars(
            select(Tandem).where(Tandem.id.in_(person.tandem_ids)).order_by(Tandem.id)):
        mine_is_mentor = tandem.mentor_id in person.participant_ids
        partner = await session.get(Participant,
                                    tandem.mentee_id if mine_is_mentor else tandem.mentor_id)
        rows.append({
            "id": tandem.id, "round_id": tandem.round_id,
            "my_role": "mentor" if mine_is_mentor else "mentee",
            # The partner's name only: the rest of their data is theirs.
            "partner": partner.display_name if partner is not None else None,
            "score": tandem.score, "status": tandem.status, "created_at": tandem.created_at,
            "why": {k: v for k, v in (tandem.explanation or {}).items()
                    if k in SHARED_EXPLANATION},
        })
    return rows


async def _tandems_erase(session: AsyncSession, person: Person, token: str,
                         now: datetime) -> None:
    if not person.tandem_ids:
        return
    for tandem in await session.scalars(select(Tandem).where(Tandem.id.in_(person.tandem_ids))):
        # The row stays (meetings still count); why they fit described them.
        tandem.status = TandemStatus.ENDED if tandem.status == TandemStatus.ACTIVE \
            else tandem.status
        tandem.explanation, tandem.conversation_id = {}, None


# check-ins, reminders, responses ---------------------------------------------------------

async def _checkins_export(session: AsyncSession, person: Person) -> list[Row]:
    if not person.signed_up:
        return []
    return [as_row(c) for c in await session.scalars(
        select(Checkin).where(Checkin.answered_by.in_(person.participant_ids))
        .order_by(Checkin.id))]


async def _keep(session: AsyncSession, person: Person, token: str, now: datetime) -> None:
    """Kept as an anonymous count: the row only points at the anonymised participant."""


def _of_their_tandems(model: type[Reminder] | type[Meeting] | type[TandemGuide]) -> Holds:
    """Rows that belong to a tandem as a whole: exported to either partner, and gone
    with either of them (a reminder or a meeting time is the two partners' together)."""

    async def export(session: AsyncSession, person: Person) -> list[Row]:
        if not person.tandem_ids:
            return []
        return [as_row(row) for row in await session.scalars(
            select(model).where(model.tandem_id.in_(person.tandem_ids)).order_by(model.id))]

    async def erase(session: AsyncSession, person: Person, token: str, now: datetime) -> None:
        if person.tandem_ids:
            await session.execute(delete(model).where(model.tandem_id.in_(person.tandem_ids)))

    return Holds(export, erase)


async def _responses_export(session: AsyncSession, person: Person) -> list[Row]:
    return await _own_rows(session, person, Response)


_Own = TypeVar("_Own", PrivateWish, Response, Highlight)


async def _own(session: AsyncSession, person: Person, model: type[_Own]) -> list[_Own]:
    """The rows a person's sign-ups wrote, oldest first."""
    if not person.signed_up:
        return []
    return list(await session.scalars(
        select(model).where(model.participant_id.in_(person.participant_ids))
        .order_by(model.id)))


async def _own_rows(session: AsyncSession, person: Person, model: type[_Own]) -> list[Row]:
    return [as_row(row) for row in await _own(session, person, model)]


async def _responses_erase(session: AsyncSession, person: Person, token: str,
                           now: datetime) -> None:
    for response in await _own(session, person, Response):
        # What they wrote is gone; that they answered, and the rating, stay as counts.
        response.answers, response.visibility, response.updated_at = {}, "private", now


# deliveries, conversation references -------------------------------------------------

_DELIVERY_TEXT = (Delivery.key, Delivery.recipient, Delivery.message_ref, Delivery.last_error)


async def _deliveries(session: AsyncSession, person: Person) -> list[Delivery]:
    found = list(await session.scalars(
        select(Delivery).where(Delivery.platform == person.platform, or_(
            *(column.contains(person.user_id, autoescape=True) for column in _DELIVERY_TEXT)))
        .order_by(Delivery.id)))
    # SQL finds a superset (U1 inside U12); only whole ids are theirs.
    found = [d for d in found if any(names_id(getattr(d, column.key), person.user_id)
                                     for column in _DELIVERY_TEXT)]
    # Messages still owed carry their text; the few that mention the person go too.
    # (Matched here, not in SQL: JSON as text escapes non-ASCII names.)
    owed = await session.scalars(select(Delivery).where(Delivery.payload.is_not(None))
                                 .order_by(Delivery.id))
    known = {d.id for d in found}
    found += [d for d in owed if d.id not in known and _mentions(d.payload, person)]
    return found


def _mentions(payload: Any, person: Person) -> bool:
    text = json.dumps(payload, ensure_ascii=False)
    return names_id(text, person.user_id) or any(name in text for name in person.names if name)


async def _deliveries_export(session: AsyncSession, person: Person) -> list[Row]:
    rows = []
    for delivery in await _deliveries(session, person):
        if person.user_id not in delivery.recipient.split(","):
            continue
        row = as_row(delivery)
        row["recipient"] = person.user_id  # not the partner's id in a group message
        rows.append(row)
    return rows


async def _deliveries_erase(session: AsyncSession, person: Person, token: str,
                            now: datetime) -> None:
    for delivery in await _deliveries(session, person):
        if person.user_id in delivery.recipient.split(",") or delivery.payload is not None:
            # Where it went identifies them (a Slack DM channel id, a Teams chat id),
            # and a message still owed to or about them is not sent any more.
            delivery.message_ref = None
            if delivery.status in (PENDING, CLAIMED):
                delivery.status, delivery.lease_until = FAILED, None
            delivery.payload = None
        for column in _DELIVERY_TEXT:
            value = getattr(delivery, column.key)
            if value is not None:
                setattr(delivery, column.key, scrub(value, person, token))


async def _refs_export(session: AsyncSession, person: Person) -> list[Row]:
    return [as_row(r) for r in await session.scalars(
        select(ConversationRef).where(ConversationRef.platform == person.platform,
                                      ConversationRef.kind == "user",
                                      ConversationRef.key == person.user_id))]


async def _refs_erase(session: AsyncSession, person: Person, token: str, now: datetime) -> None:
    await session.execute(delete(ConversationRef).where(
        ConversationRef.platform == person.platform, ConversationRef.kind == "user",
        ConversationRef.key == person.user_id))


async def _events(session: AsyncSession, person: Person) -> list[ProcessedEvent]:
    needles = [n for n in (person.user_id, *person.chats) if n]
    found = await session.scalars(select(ProcessedEvent).where(
        ProcessedEvent.source == person.platform,
        or_(*(ProcessedEvent.event_id.contains(n, autoescape=True) for n in needles)))
        .order_by(ProcessedEvent.id))
    return [e for e in found if any(names_id(e.event_id, n) for n in needles)]


async def _events_export(session: AsyncSession, person: Person) -> list[Row]:
    return [as_row(e) for e in await _events(session, person)]


async def _events_erase(session: AsyncSession, person: Person, token: str,
                        now: datetime) -> None:
    # Ids of events from their chat (Teams: "<chat id>|<activity id>"); dropping them
    # early only means a redelivery of something they sent would be handled again.
    for event in await _events(session, person):
        await session.delete(event)


# matching ----------------------------------------------------------------------------

def _by_me(person: Person, platform: str | None, *user_ids: str | None) -> bool:
    return (platform is None or platform == person.platform) and person.user_id in user_ids


async def _proposals_export(session: AsyncSession, person: Person) -> list[Row]:
    rows: list[Row] = []
    for proposal in await session.scalars(select(MatchProposal).order_by(MatchProposal.id)):
        result = proposal.result or {}
        pairs = [
            {**{k: v for k, v in pair.items() if k != "explanation"},
             "why": {k: v for k, v in (pair.get("explanation") or {}).items()
                     if k in SHARED_EXPLANATION}}
            for pair in result.get("pairs", []) if _mine(person, pair.get("mentor"),
                                                         pair.get("mentee"))]
        unmatched = [u for u in result.get("unmatched", []) if _mine(person, u.get("participant"))]
        created = _by_me(person, None, proposal.created_by, proposal.confirmed_by)
        if pairs or unmatched or created:
            rows.append({
                "id": proposal.id, "round_id": proposal.round_id, "number": proposal.number,
                "status": proposal.status, "created_at": proposal.created_at,
                "my_pairs": pairs, "me_unmatched": unmatched,
                "created_by_me": proposal.created_by == person.user_id,
                "confirmed_by_me": proposal.confirmed_by == person.user_id,
            })
    return rows


async def _proposals_erase(session: AsyncSession, person: Person, token: str,
                           now: datetime) -> None:
    for proposal in await session.scalars(select(MatchProposal)):
        result = dict(proposal.result or {})
        draft = proposal.status == ProposalStatus.DRAFT
        pairs, unmatched = [], list(result.get("unmatched", []))
        for pair in result.get("pairs", []):
            if not _mine(person, pair.get("mentor"), pair.get("mentee")):
                pairs.append(pair)
                continue
            mentor_mine = _mine(person, pair.get("mentor"))
            if draft:
                # A draft could still be confirmed: the partner is unmatched instead.
                side = "mentee" if mentor_mine else "mentor"
                unmatched.append({"participant": pair.get(side), "name": pair.get(f"{side}_name"),
                                  "role": side, "reason": "no_partners", "params": {}})
                continue
            why = dict(pair.get("explanation") or {})
            why.update({k: [] for k in SHARED_EXPLANATION if k in why})
            name_key = "mentor_name" if mentor_mine else "mentee_name"
            pairs.append({**pair, name_key: ERASED_NAME, "explanation": why})
        unmatched = [
            ({**u, "name": ERASED_NAME, "params": {}} if not draft else None)
            if _mine(person, u.get("participant")) else u
            for u in unmatched]
        warnings = [
            ({**w, "params": {}} if not draft else None)
            if any(_mine(person, p) or _mine(person, _int(p)) for p in w.get("people", [])) else w
            for w in result.get("warnings", [])]
        result.update(pairs=pairs, unmatched=[u for u in unmatched if u is not None],
                      warnings=[w for w in warnings if w is not None])
        cleaned = scrub(result, person, token)
        if cleaned != proposal.result:
            proposal.result = cleaned
        if proposal.created_by == person.user_id:
            proposal.created_by = token
        if proposal.confirmed_by == person.user_id:
            proposal.confirmed_by = token


def _int(value: object) -> object:
    return int(value) if isinstance(value, str) and value.isdigit() else value


async def _rules(session: AsyncSession, person: Person) -> list[MatchRule]:
    ids = person.participant_ids
    return list(await session.scalars(select(MatchRule).where(or_(
        MatchRule.mentor_id.in_(ids), MatchRule.mentee_id.in_(ids),
        MatchRule.created_by == person.user_id)).order_by(MatchRule.id)))


async def _rules_export(session: AsyncSession, person: Person) -> list[Row]:
    return [{"id": r.id, "round_id": r.round_id, "kind": r.kind, "created_at": r.created_at,
             "about_me": _mine(person, r.mentor_id, r.mentee_id),
             "created_by_me": r.created_by == person.user_id}
            for r in await _rules(session, person)]


async def _rules_erase(session: AsyncSession, person: Person, token: str, now: datetime) -> None:
    for rule in await _rules(session, person):
        if _mine(person, rule.mentor_id, rule.mentee_id):
            await session.delete(rule)  # a pin or block about nobody any more
        else:
            rule.created_by = token


# coordinators' records ---------------------------------------------------------------

async def _audit(session: AsyncSession, person: Person, mentions: bool) -> list[AuditEntry]:
    mine = (AuditEntry.platform == person.platform) & (AuditEntry.user_id == person.user_id)
    where = or_(mine, cast(AuditEntry.detail, Text).contains(person.user_id, autoescape=True)) \
        if mentions else mine
    found = await session.scalars(select(AuditEntry).where(where).order_by(AuditEntry.id))
    return [a for a in found if (a.platform == person.platform and a.user_id == person.user_id)
            or (mentions and names_id(json.dumps(a.detail, ensure_ascii=False), person.user_id))]


async def _audit_export(session: AsyncSession, person: Person) -> list[Row]:
    return [as_row(a) for a in await _audit(session, person, mentions=False)]


async def _audit_erase(session: AsyncSession, person: Person, token: str, now: datetime) -> None:
    for entry in await _audit(session, person, mentions=True):
        if entry.platform == person.platform and entry.user_id == person.user_id:
            entry.user_id = token
        entry.detail = scrub(entry.detail, person, token)


async def _actions(session: AsyncSession, person: Person) -> list[CoordinatorAction]:
    return list(await session.scalars(select(CoordinatorAction).where(
        CoordinatorAction.platform == person.platform,
        or_(CoordinatorAction.created_by == person.user_id,
            CoordinatorAction.decided_by == person.user_id)).order_by(CoordinatorAction.id)))


async def _actions_export(session: AsyncSession, person: Person) -> list[Row]:
    return [as_row(a) for a in await _actions(session, person)]


async def _actions_erase(session: AsyncSession, person: Person, token: str,
                         now: datetime) -> None:
    for action in await _actions(session, person):
        if action.created_by == person.user_id:
            # What they drafted is their text: gone; a draft still waiting is cancelled.
            action.created_by, action.payload = token, {}
            action.status = ActionStatus.CANCELLED if action.status == ActionStatus.PENDING \
                else action.status
        action.decided_by = scrub(action.decided_by, person, token)
        action.payload = scrub(action.payload, person, token)


# the company directory ------------------------------------------------------------------
# A sync brings a record back, but only with what the directory itself holds.

def _in_their_directory_record(column: InstrumentedAttribute[int]) -> Holds:
    """A table of the directory's: rows whose ``column`` names the person's record."""
    model = column.class_

    async def export(session: AsyncSession, person: Person) -> list[Row]:
        rows = await session.scalars(select(model).where(
            column.in_(person.directory_ids)).order_by(model.id))
        return [as_row(row) for row in rows]

    async def erase(session: AsyncSession, person: Person, token: str, now: datetime) -> None:
        await session.execute(delete(model).where(column.in_(person.directory_ids)))

    return Holds(export, erase)


REGISTRY: dict[str, Holds | NoPersonalData] = {
    "workspaces": NoPersonalData("a Slack workspace or Teams tenant: the organisation"),
    "rounds": NoPersonalData("a round's name and dates"),
    "participants": Holds(_participants_export, _participants_erase),
    "tandems": Holds(_tandems_export, _tandems_erase),
    "private_wishes": Holds(_wishes_export, _wishes_erase),
    "highlights": Holds(_highlights_export, _highlights_erase),
    "deliveries": Holds(_deliveries_export, _deliveries_erase),
    "conversation_refs": Holds(_refs_export, _refs_erase),
    "match_proposals": Holds(_proposals_export, _proposals_erase),
    "match_rules": Holds(_rules_export, _rules_erase),
    "audit_log": Holds(_audit_export, _audit_erase),
    "checkins": Holds(_checkins_export, _keep),
    "reminders": _of_their_tandems(Reminder),
    "responses": Holds(_responses_export, _responses_erase),
    "processed_events": Holds(_events_export, _events_erase),
    "leases": NoPersonalData("which bot instance holds a lease"),
    "coordinator_actions": Holds(_actions_export, _actions_erase),
    "installations": NoPersonalData("an app installation of a workspace or org (Slack OAuth "
                                    "mode): the organisation's, with the installing admin's id"),
    "oauth_states": NoPersonalData("a one-time state of an install in progress"),
    "meetings": _of_their_tandems(Meeting),
    "tandem_guides": _of_their_tandems(TandemGuide),
    "directory_people": _in_their_directory_record(DirectoryPerson.id),
    "directory_accounts": _in_their_directory_record(DirectoryAccount.person_id),
}


def missing_tables() -> list[str]:
    return sorted(set(Base.metadata.tables) - set(REGISTRY))


def check_registry() -> None:
    missing = missing_tables()
    if missing:
        raise RuntimeError(
            f"storage/personal_data.py does not say what tables {missing} hold about people")


def _ordered() -> list[tuple[str, Holds]]:
    """Personal tables, children first: participant rows are anonymised last."""
    check_registry()
    order = [t.name for t in reversed(Base.metadata.sorted_tables)]
    return [(name, holder) for name in order
            if isinstance(holder := REGISTRY[name], Holds)]


async def export(session: AsyncSession, person: Person) -> Export:
    found = Export(person)
    for name, holder in sorted(_ordered(), key=lambda item: item[0]):
        found.tables[name] = await holder.export(session, person)
    return found


async def erase(session: AsyncSession, person: Person, now: datetime,
                token: str | None = None) -> str:
    """Erase everything about ``person``; returns the anonymous token used."""
    token = token or new_token()
    for _name, holder in _ordered():
        await holder.erase(session, person, token, now)
    await session.flush()
    return token
