"""Group commit: small writes of concurrent callers share one transaction.

A fan-out claims and marks thousands of deliveries, each a tiny write; one
transaction per write spends most of its time opening sessions and committing.
Here the writes queued during one turn of the event loop run in one
transaction, and each caller is answered only after that transaction
committed, so claim-before-send and mark-after-send keep their meaning.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from storage.batching import Batcher
from storage.db import Database, per_database

T = TypeVar("T")
Write = Callable[[AsyncSession], Awaitable[Any]]


class GroupCommit:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._batcher: Batcher[Write, Any] = Batcher(self._commit)

    async def run(self, write: Callable[[AsyncSession], Awaitable[T]]) -> T:
        result: T = await self._batcher(write)
        return result

    async def _commit(self, writes: Sequence[Write]) -> list[Any]:
        async with self.db.session() as session:
            return [await write(session) for write in writes]


group_commit = per_database(GroupCommit)
