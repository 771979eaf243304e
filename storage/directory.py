"""The company directory: one record per employee the directory knows, and their user
ids on the platforms, kept apart from sign-ups.

Sources (an HR export, Microsoft Graph, Slack) hand over a whole snapshot
(``save_snapshot``); the matching reads the org chart (``org_chart``); other
areas look a person's record up by platform user id (``person_for``) or e-mail
(``person_by_email``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DirectoryAccount, DirectoryPerson, Participant

#: The fields a source may fill; the directory keeps nothing else about a person.
FIELDS = ("email", "display_name", "department", "manager_key", "job_title", "location",
          "preferred_language")
Account = tuple[str, str]  # (platform, user id)
#: What the descriptive fields' columns hold: a source's longer text is cut (Entra
#: allows 256-character display names), so that one long name cannot fail a sync.
LENGTHS = {name: getattr(DirectoryPerson, name).type.length
           for name in ("display_name", "department", "job_title", "location",
                        "preferred_language")}


@dataclass(frozen=True)
class Record:
    """One person as a source delivers them."""

    key: str
    email: str | None = None
    display_name: str | None = None
    department: str | None = None
    manager_key: str | None = None
    job_title: str | None = None
    location: str | None = None
    preferred_language: str | None = None
    active: bool = True
    accounts: tuple[Account, ...] = ()


@dataclass(frozen=True)
class OrgEntry:
    """A row of the org chart the matching reads."""

    key: str
    manager_key: str | None
    name: str
    department: str | None
    email: str | None
    accounts: tuple[Account, ...]
    #: Their office or place of work, as the directory has it.
    location: str | None = None


@dataclass
class SnapshotCounts:
    """What saving a snapshot changed; ``left`` are keys newly marked as gone."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    left: list[str] = field(default_factory=list)


def normal_email(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    return text or None


async def person_for(session: AsyncSession, platform: str, user_id: str
                     ) -> DirectoryPerson | None:
    """The directory's record of this platform user, or None."""
    return await session.scalar(
        select(DirectoryPerson).join(DirectoryAccount,
                                     DirectoryAccount.person_id == DirectoryPerson.id)
        .where(DirectoryAccount.platform == platform, DirectoryAccount.user_id == user_id))


async def person_by_email(session: AsyncSession, email: str) -> DirectoryPerson | None:
    return await session.scalar(
        select(DirectoryPerson).where(DirectoryPerson.email == normal_email(email)))


async def some_email(session: AsyncSession) -> str | None:
    """One active person's e-mail (for ``tandem doctor`` to ask a calendar about)."""
    return await session.scalar(
        select(DirectoryPerson.email).where(DirectoryPerson.email.is_not(None),
                                            DirectoryPerson.active.is_(True))
        .order_by(DirectoryPerson.id).limit(1))


async def person_by_key(session: AsyncSession, key: str) -> DirectoryPerson | None:
    return await session.scalar(select(DirectoryPerson).where(DirectoryPerson.key == key))


async def accounts_of(session: AsyncSession, person_id: int) -> list[Account]:
    rows = await session.execute(
        select(DirectoryAccount.platform, DirectoryAccount.user_id)
        .where(DirectoryAccount.person_id == person_id).order_by(DirectoryAccount.id))
    return [(platform, user_id) for platform, user_id in rows]


async def accounts_by_key(session: AsyncSession) -> dict[str, list[Account]]:
    """Every person's platform accounts, by their key (what earlier imports found)."""
    found: dict[str, list[Account]] = {}
    for person_key, platform, user_id in await session.execute(
            select(DirectoryPerson.key, DirectoryAccount.platform, DirectoryAccount.user_id)
            .join(DirectoryAccount, DirectoryAccount.person_id == DirectoryPerson.id)):
        found.setdefault(person_key, []).append((platform, user_id))
    return found


async def count_people(session: AsyncSession) -> int:
    from sqlalchemy import func

    return int(await session.scalar(select(func.count(DirectoryPerson.id))) or 0)


async def org_chart(session: AsyncSession) -> list[OrgEntry]:
    """Everyone the directory holds as active, with their platform accounts."""
    accounts: dict[int, list[Account]] = {}
    for person_id, platform, user_id in await session.execute(
            select(DirectoryAccount.person_id, DirectoryAccount.platform,
                   DirectoryAccount.user_id)):
        accounts.setdefault(person_id, []).append((platform, user_id))
    rows = await session.execute(
        select(DirectoryPerson.id, DirectoryPerson.key, DirectoryPerson.manager_key,
               DirectoryPerson.display_name, DirectoryPerson.department, DirectoryPerson.email,
               DirectoryPerson.location)
        .where(DirectoryPerson.active.is_(True)).order_by(DirectoryPerson.key))
    return [OrgEntry(key, manager, name or key, department, email,
                     tuple(sorted(accounts.get(pid, ()))), location)
            for pid, key, manager, name, department, email, location in rows]


async def save_snapshot(session: AsyncSession, source: str, records: Iterable[Record],
                        now: datetime, *, complete: bool = True) -> SnapshotCounts:
    """Write a source's snapshot in the caller's transaction (all or nothing).

    New people are added, known ones updated and seen; with ``complete``, people
    this source wrote earlier who are missing now are marked as gone (``left_at``).
    """
    counts = SnapshotCounts()
    wanted = {r.key: r for r in records}
    known = {p.key: p for p in await session.scalars(select(DirectoryPerson))}
    fresh: list[dict[str, Any]] = []
    for key, record in wanted.items():
        values = _values(record)
        person = known.get(key)
        if person is None:
            fresh.append({"key": key, **values, "source": source, "last_seen_at": now,
                          "left_at": None if record.active else now})
            counts.added += 1
            continue
        changed = any(getattr(person, name) != value for name, value in values.items())
        if changed or person.source != source:
            for name, value in values.items():
                setattr(person, name, value)
            person.source = source
            counts.updated += 1
        else:
            counts.unchanged += 1
        if not record.active and person.left_at is None:
            person.left_at = now
            counts.left.append(key)
        elif record.active:
            person.left_at = None
        person.last_seen_at = now
    if complete:
        for key, person in known.items():
            if key not in wanted and person.source == source and person.active:
                person.active, person.left_at = False, now
                counts.left.append(key)
    for start in range(0, len(fresh), 2000):
        await session.execute(insert(DirectoryPerson), fresh[start:start + 2000])
    await session.flush()
    await _save_accounts(session, wanted)
    return counts


def _values(record: Record) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(record, name) for name in FIELDS}
    for name, length in LENGTHS.items():
        if values[name] is not None:
            values[name] = values[name][:length]
    values["email"] = normal_email(record.email)
    values["active"] = record.active
    return values


async def _save_accounts(session: AsyncSession, wanted: dict[str, Record]) -> None:
    """Point each listed account at its person; accounts the snapshot moved are moved."""
    ids = {key: pid for pid, key in await session.execute(
        select(DirectoryPerson.id, DirectoryPerson.key))}
    desired = {account: ids[key] for key, record in wanted.items()
               for account in record.accounts}
    current = {(platform, user_id): (row_id, person_id) for row_id, platform, user_id, person_id
               in await session.execute(select(DirectoryAccount.id, DirectoryAccount.platform,
                                               DirectoryAccount.user_id,
                                               DirectoryAccount.person_id))}
    stale = [row_id for account, (row_id, person_id) in current.items()
             if account in desired and desired[account] != person_id]
    if stale:
        await session.execute(delete(DirectoryAccount).where(DirectoryAccount.id.in_(stale)))
    new = [{"person_id": person_id, "platform": platform, "user_id": user_id}
           for (platform, user_id), person_id in desired.items()
           if (platform, user_id) not in current
           or current[(platform, user_id)][1] != person_id]
    for start in range(0, len(new), 2000):
        await session.execute(insert(DirectoryAccount), new[start:start + 2000])


async def participants_of(session: AsyncSession, keys: Collection[str],
                          statuses: Collection[str]) -> list[Participant]:
    """Sign-ups (in one of ``statuses``) of the directory people with these keys,
    found by their platform accounts."""
    if not keys:
        return []
    return list(await session.scalars(
        select(Participant)
        .join(DirectoryAccount, (DirectoryAccount.platform == Participant.platform)
              & (DirectoryAccount.user_id == Participant.user_id))
        .join(DirectoryPerson, DirectoryPerson.id == DirectoryAccount.person_id)
        .where(DirectoryPerson.key.in_(list(keys)), Participant.status.in_(list(statuses)))
        .order_by(Participant.id)))
