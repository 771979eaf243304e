"""``storage.batching.Batcher`` on a real event loop: who shares a batch, and nobody hangs.

Proves that callers of one event-loop turn are served by one call of the batch
function, each with its own result in order; that a failing batch fails exactly
its own callers and the next batch works; that ``concurrency`` bounds the
batches in flight (1: one at a time; 2: a late caller starts a second batch,
never a third); that ``max_batch`` splits a crowd into several batches; that a
call made just as a batch finishes (from a done-callback, or in the very turn
the previous drain ends) is still answered; and that cancelled callers, before
or while their batch runs, neither break the other callers nor make the batcher
fail (no ``InvalidStateError``, no task exception left unretrieved).

No asyncio mocks: every test runs on the real loop, and every wait that could
hang is bounded by ``asyncio.wait_for`` so a hang fails the test.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest

from storage.batching import Batcher

TIMEOUT = 1.0  # seconds: far more than any of these tests needs; a hang fails fast


class Recorder:
    """A batch function: records each batch and how many run at once; each batch
    waits for ``gate`` (open unless a test closes it) before answering."""

    def __init__(self, *, fail: int | None = None, seconds: float = 0) -> None:
        self.batches: list[list[Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.gate = asyncio.Event()
        self.gate.set()
        #: Which call (0-based) raises instead of answering.
        self.fail = fail
        #: How long each batch takes once the gate is open.
        self.seconds = seconds

    async def __call__(self, items: Sequence[Any]) -> list[str]:
        number = len(self.batches)
        self.batches.append(list(items))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self.gate.wait()
            await asyncio.sleep(self.seconds)  # a real suspension even with the gate open
            if number == self.fail:
                raise RuntimeError(f"batch {number} failed")
            return [f"answer:{item}" for item in items]
        finally:
            self.in_flight -= 1


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run until ``condition`` holds; fail the test if it never does."""

    async def poll() -> None:
        for _ in range(100_000):
            if condition():
                return
            await asyncio.sleep(0)
        raise AssertionError("the condition never held")

    await asyncio.wait_for(poll(), TIMEOUT)


async def turns(count: int = 10) -> None:
    """Let the loop run ``count`` turns (for asserting that something does NOT happen)."""
    for _ in range(count):
        await asyncio.sleep(0)


@pytest.fixture(autouse=True)
async def loop_errors() -> AsyncIterator[list[dict[str, Any]]]:
    """Fails the test if anything reached the loop's exception handler, e.g. a drain
    task that died of ``InvalidStateError`` with nobody retrieving the exception."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        yield errors
        await turns()
        gc.collect()  # a finished task with an unretrieved exception reports when freed
        assert errors == []
    finally:
        loop.set_exception_handler(previous)


async def test_callers_of_one_turn_share_one_batch_and_get_their_own_results() -> None:
    run = Recorder()
    batcher: Batcher[int, str] = Batcher(run)

    results = await asyncio.wait_for(asyncio.gather(*(batcher(i) for i in range(7))), TIMEOUT)

    assert run.batches == [[0, 1, 2, 3, 4, 5, 6]]
    assert results == [f"answer:{i}" for i in range(7)]


async def test_a_caller_arriving_one_turn_later_still_joins_the_batch() -> None:
    # The first call finds the batcher idle and waits one turn for company: a
    # caller whose call lands in that turn (after the drain was scheduled) joins.
    run = Recorder()
    batcher: Batcher[str, str] = Batcher(run)

    first = asyncio.ensure_future(batcher("a"))
    await asyncio.sleep(0)  # "a" calls now, and schedules its drain
    second = asyncio.ensure_future(batcher("b"))  # calls in the drain's first turn

    results = await asyncio.wait_for(asyncio.gather(first, second), TIMEOUT)

    assert results == ["answer:a", "answer:b"]
    assert run.batches == [["a", "b"]]


async def test_a_lone_caller_is_answered_and_later_turns_get_new_batches() -> None:
    run = Recorder()
    batcher: Batcher[str, str] = Batcher(run)

    assert await asyncio.wait_for(batcher("a"), TIMEOUT) == "answer:a"
    assert await asyncio.wait_for(batcher("b"), TIMEOUT) == "answer:b"

    assert run.batches == [["a"], ["b"]]


async def test_a_failing_batch_fails_all_its_callers_and_the_next_batch_works() -> None:
    run = Recorder(fail=0)
    batcher: Batcher[int, str] = Batcher(run)

    outcomes = await asyncio.wait_for(
        asyncio.gather(*(batcher(i) for i in range(4)), return_exceptions=True), TIMEOUT)

    assert run.batches == [[0, 1, 2, 3]]
    assert all(isinstance(o, RuntimeError) for o in outcomes), outcomes
    assert {str(o) for o in outcomes} == {"batch 0 failed"}

    again = await asyncio.wait_for(asyncio.gather(batcher(10), batcher(11)), TIMEOUT)

    assert again == ["answer:10", "answer:11"]
    assert run.batches[1:] == [[10, 11]]


async def test_a_failing_batch_fails_only_its_own_callers() -> None:
    # Batch 0 (caller "a") is running when "b" and "c" arrive; batch 1 fails.
    run = Recorder(fail=1)
    run.gate.clear()
    batcher: Batcher[str, str] = Batcher(run)
    first = asyncio.ensure_future(batcher("a"))
    await until(lambda: run.in_flight == 1)
    later = [asyncio.ensure_future(batcher(x)) for x in ("b", "c")]
    await turns()
    run.gate.set()

    outcomes = await asyncio.wait_for(
        asyncio.gather(first, *later, return_exceptions=True), TIMEOUT)

    assert run.batches == [["a"], ["b", "c"]]
    assert outcomes[0] == "answer:a"
    assert [str(o) for o in outcomes[1:]] == ["batch 1 failed", "batch 1 failed"]
    assert all(isinstance(o, RuntimeError) for o in outcomes[1:])


async def test_concurrency_one_runs_one_batch_at_a_time() -> None:
    run = Recorder()
    run.gate.clear()
    batcher: Batcher[str, str] = Batcher(run, concurrency=1)

    first = asyncio.ensure_future(batcher("a"))
    await until(lambda: run.in_flight == 1)
    later = [asyncio.ensure_future(batcher(x)) for x in ("b", "c", "d")]
    await turns(20)

    # The late callers wait for the running batch instead of starting their own.
    assert run.batches == [["a"]]
    assert run.in_flight == 1
    assert not any(task.done() for task in later)

    run.gate.set()
    results = await asyncio.wait_for(asyncio.gather(first, *later), TIMEOUT)

    assert results == ["answer:a", "answer:b", "answer:c", "answer:d"]
    assert run.batches == [["a"], ["b", "c", "d"]]
    assert run.max_in_flight == 1


async def test_concurrency_two_starts_a_second_batch_but_never_a_third() -> None:
    run = Recorder()
    run.gate.clear()
    batcher: Batcher[str, str] = Batcher(run, concurrency=2)

    first = asyncio.ensure_future(batcher("a"))
    await until(lambda: run.in_flight == 1)
    # "b" arrives while batch 1 runs: it does not wait for it, it starts batch 2.
    second = asyncio.ensure_future(batcher("b"))
    await until(lambda: run.in_flight == 2)
    assert run.batches == [["a"], ["b"]]

    # Two batches are in flight: "c" and "d" wait for one of them to finish.
    later = [asyncio.ensure_future(batcher(x)) for x in ("c", "d")]
    await turns(20)
    assert run.in_flight == 2
    assert len(run.batches) == 2

    run.gate.set()
    results = await asyncio.wait_for(asyncio.gather(first, second, *later), TIMEOUT)

    assert results == ["answer:a", "answer:b", "answer:c", "answer:d"]
    assert run.max_in_flight == 2
    assert sorted(x for batch in run.batches for x in batch) == ["a", "b", "c", "d"]
    assert len(run.batches) == 3  # "c" and "d" came in one turn: one batch


async def test_concurrency_two_under_a_long_burst_never_exceeds_two() -> None:
    run = Recorder(seconds=0.003)
    batcher: Batcher[int, str] = Batcher(run, concurrency=2)

    async def caller(i: int) -> str:
        await asyncio.sleep(0.001 * (i % 5))  # arrivals spread over several turns
        return await batcher(i)

    results = await asyncio.wait_for(asyncio.gather(*(caller(i) for i in range(60))), TIMEOUT)

    assert results == [f"answer:{i}" for i in range(60)]
    assert run.max_in_flight == 2
    assert sorted(x for batch in run.batches for x in batch) == list(range(60))
    assert len(run.batches) < 60  # they did share


async def test_max_batch_splits_a_crowd_into_several_batches() -> None:
    run = Recorder()
    batcher: Batcher[int, str] = Batcher(run, max_batch=3)

    results = await asyncio.wait_for(asyncio.gather(*(batcher(i) for i in range(8))), TIMEOUT)

    assert results == [f"answer:{i}" for i in range(8)]
    assert run.batches == [[0, 1, 2], [3, 4, 5], [6, 7]]
    assert run.max_in_flight == 1


async def test_max_batch_with_concurrency_answers_everyone() -> None:
    run = Recorder()
    batcher: Batcher[int, str] = Batcher(run, max_batch=4, concurrency=2)

    results = await asyncio.wait_for(asyncio.gather(*(batcher(i) for i in range(30))), TIMEOUT)

    assert results == [f"answer:{i}" for i in range(30)]
    assert all(len(batch) <= 4 for batch in run.batches)
    assert sorted(x for batch in run.batches for x in batch) == list(range(30))
    assert run.max_in_flight <= 2


@pytest.mark.parametrize("concurrency", [1, 2])
async def test_a_call_from_the_done_callback_of_a_result_is_answered(concurrency: int) -> None:
    run = Recorder()
    batcher: Batcher[int, str] = Batcher(run, concurrency=concurrency)
    chained: list[asyncio.Future[str]] = []

    def next_call(done: asyncio.Future[str]) -> None:
        # Runs the moment the previous result is delivered: its batch just ended.
        if len(chained) < 10:
            task = asyncio.ensure_future(batcher(len(chained) + 1))
            task.add_done_callback(next_call)
            chained.append(task)

    first = asyncio.ensure_future(batcher(0))
    first.add_done_callback(next_call)

    assert await asyncio.wait_for(first, TIMEOUT) == "answer:0"
    await until(lambda: len(chained) == 10 and all(task.done() for task in chained))
    assert [task.result() for task in chained] == [f"answer:{i}" for i in range(1, 11)]
    assert [x for batch in run.batches for x in batch] == list(range(11))


@pytest.mark.parametrize("concurrency", [1, 2])
@pytest.mark.parametrize("late_first", [True, False])
async def test_a_call_in_the_turn_the_previous_drain_ends_is_answered(
    concurrency: int, late_first: bool
) -> None:
    """The batch function's last await resolves in the same loop turn as a new call:
    the call lands either just before the drain looks for more work or just after
    the drain has finished. Either way it must be answered."""
    loop = asyncio.get_running_loop()
    release: asyncio.Future[None] = loop.create_future()
    batches: list[list[str]] = []

    async def run(items: Sequence[str]) -> list[str]:
        batches.append(list(items))
        if len(batches) == 1:
            await release  # the drain resumes (and ends) in the turn "release" is set
        return [f"answer:{item}" for item in items]

    batcher: Batcher[str, str] = Batcher(run, concurrency=concurrency)
    late: list[asyncio.Future[str]] = []

    def call_late() -> None:
        late.append(asyncio.ensure_future(batcher("late")))

    first = asyncio.ensure_future(batcher("first"))
    await until(lambda: len(batches) == 1)
    # Both callbacks run in the next loop turn, in the order they are scheduled.
    if late_first:
        loop.call_soon(call_late)
        release.set_result(None)
    else:
        release.set_result(None)
        loop.call_soon(call_late)
    await until(lambda: bool(late))

    assert await asyncio.wait_for(first, TIMEOUT) == "answer:first"
    assert await asyncio.wait_for(late[0], TIMEOUT) == "answer:late"


async def test_calls_in_many_consecutive_turns_are_all_answered() -> None:
    # One new caller every turn, for as long as the batches keep coming: each turn
    # may meet a drain that is starting, running or just ending.
    run = Recorder()
    batcher: Batcher[int, str] = Batcher(run)
    tasks = []
    for i in range(100):
        tasks.append(asyncio.ensure_future(batcher(i)))
        await asyncio.sleep(0)

    results = await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)

    assert results == [f"answer:{i}" for i in range(100)]
    assert [x for batch in run.batches for x in batch] == list(range(100))


async def test_cancelling_a_waiting_caller_leaves_the_others_of_its_batch_answered() -> None:
    run = Recorder()
    run.gate.clear()
    batcher: Batcher[str, str] = Batcher(run)
    first = asyncio.ensure_future(batcher("a"))
    await until(lambda: run.in_flight == 1)
    # "b", "c" and "d" queue for the next batch; "c" gives up before it starts.
    waiting = {x: asyncio.ensure_future(batcher(x)) for x in ("b", "c", "d")}
    await turns()
    waiting["c"].cancel()
    await turns()
    run.gate.set()

    assert await asyncio.wait_for(first, TIMEOUT) == "answer:a"
    assert await asyncio.wait_for(waiting["b"], TIMEOUT) == "answer:b"
    assert await asyncio.wait_for(waiting["d"], TIMEOUT) == "answer:d"
    assert waiting["c"].cancelled()
    assert len(run.batches) == 2  # "b" and "d" still shared one batch
    assert {"b", "d"} <= set(run.batches[1])
    # and the batcher carries on
    assert await asyncio.wait_for(batcher("e"), TIMEOUT) == "answer:e"


async def test_cancelling_a_caller_in_its_first_turn_leaves_the_others_answered() -> None:
    run = Recorder()
    batcher: Batcher[int, str] = Batcher(run)
    tasks = [asyncio.ensure_future(batcher(i)) for i in range(4)]
    await asyncio.sleep(0)  # all four queued; the drain has not taken them yet
    tasks[0].cancel()  # the caller that started the drain

    outcomes = await asyncio.wait_for(
        asyncio.gather(*tasks, return_exceptions=True), TIMEOUT)

    assert isinstance(outcomes[0], asyncio.CancelledError)
    assert outcomes[1:] == ["answer:1", "answer:2", "answer:3"]


@pytest.mark.parametrize("fail", [False, True])
async def test_a_caller_cancelled_while_its_batch_runs_breaks_nothing(fail: bool) -> None:
    run = Recorder(fail=0 if fail else None)
    run.gate.clear()
    batcher: Batcher[str, str] = Batcher(run)
    # The cancelled caller comes first: answering it would fail before the others.
    tasks = [asyncio.ensure_future(batcher(x)) for x in ("a", "b", "c")]
    await until(lambda: run.in_flight == 1)
    tasks[0].cancel()
    await turns()
    run.gate.set()

    outcomes = await asyncio.wait_for(
        asyncio.gather(*tasks, return_exceptions=True), TIMEOUT)

    assert run.batches[0] == ["a", "b", "c"]
    assert isinstance(outcomes[0], asyncio.CancelledError)
    if fail:
        assert [str(o) for o in outcomes[1:]] == ["batch 0 failed"] * 2
    else:
        assert outcomes[1:] == ["answer:b", "answer:c"]
    # The drain survived (the ``loop_errors`` fixture checks it died of nothing) and
    # the next caller is served.
    assert await asyncio.wait_for(batcher("d"), TIMEOUT) == "answer:d"


async def test_every_caller_of_a_cancelled_batch_cancelled_still_lets_the_next_run() -> None:
    run = Recorder()
    run.gate.clear()
    batcher: Batcher[str, str] = Batcher(run)
    tasks = [asyncio.ensure_future(batcher(x)) for x in ("a", "b")]
    await until(lambda: run.in_flight == 1)
    for task in tasks:
        task.cancel()
    await turns()
    run.gate.set()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), TIMEOUT)

    assert all(task.cancelled() for task in tasks)
    assert await asyncio.wait_for(batcher("c"), TIMEOUT) == "answer:c"
