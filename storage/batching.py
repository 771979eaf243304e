"""Batching: callers who want the same kind of database work at once share it.

When a whole company answers an announcement, hundreds of requests are in
flight together and each wants a row or two: whose participant row is this,
save these answers, claim this delivery. One statement per caller makes the
database connection a queue, because every statement costs a round trip (on
SQLite several hops to aiosqlite's thread) whatever its size. Here calls that
arrive together are served by one batch function with set-oriented statements.
A call that finds the batcher idle waits for a single turn of the event loop,
so a quiet bot pays nothing.

Up to ``concurrency`` batches run at once: under load, a caller who just missed
a batch starts the next one instead of waiting for the previous to finish.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Enough to drain a burst in a few statements, few enough to stay below the
#: databases' bind-parameter limits (PostgreSQL 32,767; SQLite 32,766, but 999
#: before 3.32), even with two parameters an item.
MAX_BATCH = 400


@dataclass(frozen=True)
class Failed:
    """A batch function's result for one item that failed on its own: its caller
    alone gets ``error``."""

    error: Exception


class Batcher(Generic[T, R]):
    """``await batcher(item)`` returns what ``run`` answered for ``item``.

    ``run`` gets the items of one batch in arrival order and returns one result
    per item, in the same order (a ``Failed`` is raised to its caller). If it
    raises, every caller of that batch gets the error.
    """

    def __init__(self, run: Callable[[Sequence[T]], Awaitable[Sequence[R | Failed]]], *,
                 concurrency: int = 1, max_batch: int = MAX_BATCH) -> None:
        self._run, self._concurrency, self._max = run, concurrency, max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._drains: set[asyncio.Task[None]] = set()  # held: the loop keeps weak refs
        #: Drains running, counted by the drains themselves: a done task lingers in
        #: ``_drains`` until its callbacks run, and must not count by then.
        self._running = 0
        #: A drain was started and has not yet taken what is pending.
        self._starting = False

    async def __call__(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if not self._starting and self._running < self._concurrency:
            self._starting, self._running = True, self._running + 1
            # A context of its own: a batch serves many requests, and would otherwise
            # log under the id of the request that happened to start it.
            drain = asyncio.get_running_loop().create_task(
                self._drain(), context=contextvars.Context())
            self._drains.add(drain)
            drain.add_done_callback(self._drains.discard)
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            try:
                await asyncio.sleep(0)  # let the other callers of this turn queue up
            finally:
                self._starting = False
            while self._pending:
                batch, self._pending = self._pending[:self._max], self._pending[self._max:]
                await self._answer(batch)
                batch = []
        except BaseException:
            # Cancelled (shutdown): nobody may wait for an answer that never comes.
            for _, future in batch + self._pending:
                future.cancel()
            self._pending = []
            raise
        finally:
            self._running -= 1

    async def _answer(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._run([item for item, _ in batch])
        except Exception as error:  # every caller of the batch learns of it
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Failed):
                future.set_exception(result.error)
            else:
                future.set_result(result)
