"""The fake Microsoft Graph started for a test, and a sleep that only records."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.fakes.graph import FakeGraph


class Waits:
    """Records what the client waited, and yields to the loop instead of sleeping."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        await asyncio.sleep(0)


@asynccontextmanager
async def running_graph(folder: Path, tenant: str) -> AsyncIterator[FakeGraph]:
    fake = FakeGraph(folder, tenant=tenant)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
