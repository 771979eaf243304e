"""``Background``: work started after an answer runs, fails quietly, is waited for.

Proves that started work runs without anyone awaiting it; that a failing work
item is logged with its name and traceback and neither propagates nor stops
other work; that ``len()`` counts the work still running; that ``idle()`` also
waits for work started while it waits (work that starts more work); and that
``idle(grace_seconds=...)`` gives up after the grace (False, the work still
running and still counted) but returns True once everything is done, the grace
covering the whole wait rather than each piece of work.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.host.background import Background

TIMEOUT = 30.0  # seconds: bounds every wait, so a hang fails instead of blocking
#: A grace no test waits out: idle returning at all proves it did not wait for it.
FOREVER = 3600.0


async def test_started_work_runs_without_being_awaited() -> None:
    background = Background()
    ran = asyncio.Event()

    async def work() -> None:
        ran.set()

    background.start(work(), "set the flag")
    await asyncio.wait_for(ran.wait(), TIMEOUT)

    assert await asyncio.wait_for(background.idle(), TIMEOUT) is True
    assert len(background) == 0


async def test_idle_with_no_work_is_true_at_once() -> None:
    background = Background()

    assert await asyncio.wait_for(background.idle(), TIMEOUT) is True
    assert await asyncio.wait_for(background.idle(grace_seconds=0), TIMEOUT) is True


async def test_a_failing_work_item_is_logged_and_does_not_propagate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    background = Background()
    done: list[str] = []

    async def fails() -> None:
        await asyncio.sleep(0)
        raise ValueError("the DM could not be sent")

    async def succeeds() -> None:
        await asyncio.sleep(0.01)
        done.append("other work")

    with caplog.at_level(logging.ERROR, logger="bot.host.background"):
        background.start(fails(), "confirmation DM to U123")
        background.start(succeeds(), "open the modal")
        assert await asyncio.wait_for(background.idle(), TIMEOUT) is True

    assert done == ["other work"]  # the failure stopped nothing else
    assert len(background) == 0
    failures = [r for r in caplog.records if r.name == "bot.host.background"]
    assert len(failures) == 1
    record = failures[0]
    assert record.levelno == logging.ERROR
    assert "confirmation DM to U123" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)
    assert "the DM could not be sent" in caplog.text


async def test_len_counts_the_work_still_running() -> None:
    background = Background()
    gates = [asyncio.Event() for _ in range(3)]

    waiting = asyncio.Semaphore(0)

    async def wait_for_gate(gate: asyncio.Event) -> None:
        waiting.release()
        await gate.wait()

    assert len(background) == 0
    for number, gate in enumerate(gates):
        background.start(wait_for_gate(gate), f"work {number}")
    assert len(background) == 3
    for _ in gates:  # every piece of work has started and waits at its gate
        await asyncio.wait_for(waiting.acquire(), TIMEOUT)
    assert len(background) == 3  # nothing finished on its own

    gates[1].set()
    assert await asyncio.wait_for(background.idle(grace_seconds=0.02), TIMEOUT) is False
    assert len(background) == 2

    gates[0].set()
    gates[2].set()
    assert await asyncio.wait_for(background.idle(), TIMEOUT) is True
    assert len(background) == 0


async def test_a_failed_work_item_is_no_longer_counted(caplog: pytest.LogCaptureFixture) -> None:
    background = Background()

    async def fails() -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="bot.host.background"):
        background.start(fails(), "doomed")
        assert len(background) == 1
        assert await asyncio.wait_for(background.idle(), TIMEOUT) is True

    assert len(background) == 0
    assert "doomed" in caplog.text


async def test_idle_waits_for_work_started_by_work_meanwhile() -> None:
    background = Background()
    finished: list[int] = []

    async def work(depth: int) -> None:
        await asyncio.sleep(0.01)
        if depth < 3:
            # Started while ``idle`` is already waiting for this one.
            background.start(work(depth + 1), f"work {depth + 1}")
        finished.append(depth)

    background.start(work(0), "work 0")
    assert await asyncio.wait_for(background.idle(), TIMEOUT) is True

    assert finished == [0, 1, 2, 3]
    assert len(background) == 0


async def test_idle_waits_for_work_started_from_outside_while_it_waits() -> None:
    background = Background()
    finished: list[str] = []

    async def work(name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        finished.append(name)

    background.start(work("first", 0.01), "first")
    idle = asyncio.ensure_future(background.idle())
    await asyncio.sleep(0)  # idle is now waiting for "first" alone
    background.start(work("second", 0.05), "second")

    assert await asyncio.wait_for(idle, TIMEOUT) is True
    assert finished == ["first", "second"]
    assert len(background) == 0


async def test_idle_with_grace_is_false_while_work_still_runs_then_true_when_done() -> None:
    background = Background()
    release = asyncio.Event()
    finished = asyncio.Event()

    async def slow() -> None:
        await release.wait()
        finished.set()

    background.start(slow(), "slow work")
    loop = asyncio.get_running_loop()
    started = loop.time()

    assert await asyncio.wait_for(background.idle(grace_seconds=0.05), TIMEOUT) is False

    # It did wait for the grace; that it waited no longer shows in its returning at
    # all: the work is held until later.
    assert loop.time() - started >= 0.05
    assert len(background) == 1
    assert not finished.is_set()  # giving up did not cancel the work

    release.set()
    assert await asyncio.wait_for(background.idle(grace_seconds=0.5), TIMEOUT) is True
    assert finished.is_set()
    assert len(background) == 0


async def test_idle_with_grace_is_true_when_work_ends_within_it() -> None:
    background = Background()

    release = asyncio.Event()

    async def quick() -> None:
        await release.wait()

    background.start(quick(), "quick")
    idle = asyncio.ensure_future(background.idle(grace_seconds=FOREVER))
    await asyncio.sleep(0)  # idle now waits for "quick"
    assert not idle.done()
    release.set()
    # Returned when the work ended, not at the grace (which no test waits out).
    assert await asyncio.wait_for(idle, TIMEOUT) is True
    assert len(background) == 0


async def test_the_grace_covers_work_started_meanwhile_too() -> None:
    # Each piece of work ends within the grace but starts the next: the grace bounds
    # the whole wait, not each piece, so idle gives up after about the grace.
    background = Background()
    stop = asyncio.Event()

    async def relay() -> None:
        await asyncio.sleep(0.02)
        if not stop.is_set():
            background.start(relay(), "relay")

    background.start(relay(), "relay")
    loop = asyncio.get_running_loop()
    started = loop.time()

    # The relay never ends on its own: were the grace counted per piece of work,
    # idle would never return.
    assert await asyncio.wait_for(background.idle(grace_seconds=0.1), TIMEOUT) is False

    assert loop.time() - started >= 0.1
    assert len(background) == 1
    stop.set()
    assert await asyncio.wait_for(background.idle(), TIMEOUT) is True
    assert len(background) == 0
