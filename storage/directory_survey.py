"""What the survey reads from the company directory: the facts it need not ask a
person for (their department, manager and office), and the departments the directory knows
(the choices of the department question for people it does not know)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DirectoryAccount, DirectoryPerson


@dataclass(frozen=True)
class KnownFacts:
    """A person's department, manager and office as the directory holds them (None:
    not held)."""

    department: str | None
    manager_key: str | None
    #: The manager's name as the directory has it (their key if it does not know them).
    manager_name: str | None
    location: str | None = None


async def facts_for(session: AsyncSession, users: Collection[tuple[str, str]]
                    ) -> dict[tuple[str, str], KnownFacts]:
    """The directory's facts about these (platform, user id)s, in two queries however
    many: the people the directory knows as active, then their managers' names. A
    user it does not know (or knows as gone) is not in the answer."""
    by_platform: defaultdict[str, set[str]] = defaultdict(set)
    for platform, user_id in users:
        by_platform[platform].add(user_id)
    people: dict[tuple[str, str], DirectoryPerson] = {}
    for platform, ids in by_platform.items():  # one platform, nearly always
        rows = await session.execute(
            select(DirectoryAccount.user_id, DirectoryPerson)
            .join(DirectoryPerson, DirectoryAccount.person_id == DirectoryPerson.id)
            .where(DirectoryAccount.platform == platform, DirectoryAccount.user_id.in_(ids),
                   DirectoryPerson.active.is_(True)))
        people.update(((platform, user_id), person) for user_id, person in rows)
    wanted = {p.manager_key for p in people.values() if p.manager_key}
    names: dict[str, str | None] = dict((await session.execute(
        select(DirectoryPerson.key, DirectoryPerson.display_name)
        .where(DirectoryPerson.key.in_(wanted)))).all()) if wanted else {}
    return {user: KnownFacts((person.department or "").strip() or None, person.manager_key,
                             (names.get(person.manager_key) or person.manager_key)
                             if person.manager_key else None,
                             (person.location or "").strip() or None)
            for user, person in people.items()}


async def departments(session: AsyncSession) -> tuple[str, ...]:
    """Every department an active person in the directory is in, sorted."""
    rows = await session.scalars(
        select(DirectoryPerson.department).distinct()
        .where(DirectoryPerson.active.is_(True), DirectoryPerson.department.is_not(None)))
    return tuple(sorted({d.strip() for d in rows if d and d.strip()}, key=str.casefold))
