"""Deliveries marked sent together: the marks of one moment share one statement.

Every message the bot sends is marked sent right after the platform took it (see
``conversations.outbox``). When hundreds of sign-up summaries or nudges go out at
once, a transaction and an UPDATE per mark cost more than the sends; here the marks
that arrive together are one executemany UPDATE in one transaction, and each
caller is answered once it committed, so "marked after sent" keeps its meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage import deliveries
from storage.batching import Batcher
from storage.db import Database, per_database

Mark = tuple[str, str, datetime]


class SentMarks:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._batcher: Batcher[Mark, None] = Batcher(self._mark)

    async def mark(self, key: str, message_ref: str, sent_at: datetime) -> None:
        await self._batcher((key, message_ref, sent_at))

    async def _mark(self, marks: Sequence[Mark]) -> list[None]:
        async with self.db.session() as session:
            await deliveries.mark_all_sent(session, marks)
        return [None] * len(marks)


sent_marks = per_database(SentMarks)
