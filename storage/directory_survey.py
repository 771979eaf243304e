"""What the survey reads from the company directory: the facts it need not ask a
person for (their department, manager and office), and the departments the directory knows
(the choices of the department question for people it does not know)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.directory import person_by_key, person_for
from storage.models import DirectoryPerson


@dataclass(frozen=True)
class KnownFacts:
    """A person's department, manager and office as the directory holds them (None:
    not held)."""

    department: str | None
    manager_key: str | None
    #: The manager's name as the directory has it (their key if it does not know them).
    manager_name: str | None
    location: str | None = None


async def facts_for(session: AsyncSession, platform: str, user_id: str) -> KnownFacts | None:
    """The directory's facts about this platform user, or None when it does not know
    them (or knows them as gone)."""
    person = await person_for(session, platform, user_id)
    if person is None or not person.active:
        return None
    manager_name = None
    if person.manager_key:
        manager = await person_by_key(session, person.manager_key)
        manager_name = (manager.display_name if manager is not None else None) \
            or person.manager_key
    department = (person.department or "").strip() or None
    return KnownFacts(department, person.manager_key, manager_name,
                      (person.location or "").strip() or None)


async def departments(session: AsyncSession) -> tuple[str, ...]:
    """Every department an active person in the directory is in, sorted."""
    rows = await session.scalars(
        select(DirectoryPerson.department).distinct()
        .where(DirectoryPerson.active.is_(True), DirectoryPerson.department.is_not(None)))
    return tuple(sorted({d.strip() for d in rows if d and d.strip()}, key=str.casefold))
