"""Group commit: small writes of concurrent callers share one transaction.

A fan-out claims and marks thousands of deliveries, each a tiny write; one
transaction per write spends most of its time opening sessions and committing.
Here the writes queued during one turn of the event loop run in one
transaction, and each caller is answered only after that transaction
committed, so claim-before-send and mark-after-send keep their meaning.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database

T = TypeVar("T")
Write = Callable[[AsyncSession], Awaitable[Any]]


class GroupCommit:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[tuple[Write, asyncio.Future[Any]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def run(self, write: Callable[[AsyncSession], Awaitable[T]]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((write, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.ensure_future(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the other senders of this turn queue up
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                async with self.db.session() as session:
                    results = [await write(session) for write, _ in batch]
            except Exception as error:  # every caller of the batch learns of it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
            else:
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)


_commits: WeakKeyDictionary[Database, GroupCommit] = WeakKeyDictionary()


def group_commit(db: Database) -> GroupCommit:
    found = _commits.get(db)
    if found is None:
        found = _commits[db] = GroupCommit(db)
    return found
