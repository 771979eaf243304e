"""People in the company directory, for tests of what the bot does with it."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import directory
from storage.db import Database
from storage.directory import Record

SEEN = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def employee(platform: str, user_id: str, name: str, department: str | None = None,
             manager: str | None = None) -> Record:
    """A person the directory knows by their account on ``platform``; ``manager`` is
    the key of another record."""
    return Record(key=f"{user_id.lower()}@example.com", email=f"{user_id.lower()}@example.com",
                  display_name=name, department=department, manager_key=manager,
                  accounts=((platform, user_id),))


async def load_directory(db: Database, records: list[Record]) -> None:
    async with db.session() as session:
        await directory.save_snapshot(session, "csv", records, SEEN)
