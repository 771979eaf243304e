"""Waiting for a condition instead of sleeping for a while.

The bound only turns a hang into a failure; it is not a timing assertion: on a
slow machine the condition still holds, only later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], bool], what: str, within: float = 60.0) -> None:
    """Poll ``condition`` until it holds; fail with ``what`` if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.02)
