"""One person's export and erasure, as my-data and forget-me run them, at a fixed time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from storage import personal_data
from storage.db import Database

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
#: What the erased person's id is replaced with where others' records keep it.
TOKEN = "forgotten-abc"


async def erase(db: Database, platform: str, user_id: str) -> None:
    async with db.session() as session:
        person = await personal_data.find_person(session, platform, user_id)
        await personal_data.erase(session, person, NOW, token=TOKEN)


async def export(db: Database, platform: str, user_id: str) -> dict[str, list[dict[str, Any]]]:
    async with db.session() as session:
        person = await personal_data.find_person(session, platform, user_id)
        return (await personal_data.export(session, person)).tables
