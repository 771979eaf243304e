"""Work that runs after a request was answered, tracked so that shutdown waits for it.

Slack wants its answer within 3 s and Teams within 15 s, and a person waits on
it: whatever does not change that answer (a confirmation DM, opening a modal,
the coordinator's matching run) starts here once the answer is on its way. The
tasks are held (asyncio keeps only weak references to tasks), their failures
are logged rather than lost, and ``idle`` lets a graceful shutdown finish them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

log = logging.getLogger(__name__)


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Future[None]] = set()

    def start(self, work: Awaitable[object], what: str) -> None:
        """Run ``work`` from now on; ``what`` names it in the log should it fail."""
        task = asyncio.ensure_future(self._logged(work, what))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _logged(work: Awaitable[object], what: str) -> None:
        try:
            await work
        except Exception:  # nobody awaits this task: the log is where failures go
            log.exception("background work failed: %s", what)

    def __len__(self) -> int:
        return len(self._tasks)

    async def idle(self, grace_seconds: float | None = None) -> bool:
        """Wait until all work, including work started meanwhile, is done; False if
        some was still running after ``grace_seconds``."""
        deadline = None if grace_seconds is None else (
            asyncio.get_running_loop().time() + grace_seconds)
        while self._tasks:
            remaining = None if deadline is None else deadline - asyncio.get_running_loop().time()
            if remaining is not None and remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True
