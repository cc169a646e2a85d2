"""Tests for thread offloading: tether.to_thread, tether.from_thread, the worker-thread
cache behind them (tether.lowlevel.start_thread_soon), the sqlite example and the demo.

Threads are coordinated with threading.Event / Barrier and tasks with
wait_all_tasks_blocked(); real-time waits appear only as safety nets (an Event.wait(10)
whose result is asserted), never as the synchronisation itself. The autouse fixture
checks that no test leaves a thread behind.
"""

from __future__ import annotations

import collections
import contextvars
import functools
import gc
import os
import runpy
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import outcome
import pytest

import tether
import tether.lowlevel
from tether.testing import assert_checkpoints, wait_all_tasks_blocked

SAFETY = 10.0  # seconds; only ever a net under a proper synchronisation
ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------
# Helpers


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    """Every test here ends with no thread that was not there when it started."""
    before = set(threading.enumerate())
    yield
    leftover = set(threading.enumerate()) - before
    assert not leftover, f"threads left behind: {sorted(t.name for t in leftover)}"


def wait(event: threading.Event) -> None:
    """Block a thread until ``event`` is set; fail (instead of hanging) after SAFETY s."""
    assert event.wait(SAFETY), "a thread waited too long for its go-ahead"


async def noop_in_thread(limiter: tether.CapacityLimiter | None = None) -> None:
    await tether.to_thread.run_sync(lambda: None, limiter=limiter)


def retire_worker(worker: threading.Thread) -> None:
    """Make an abandoned worker thread go away after its run is over.

    When its job finally ends the worker idles in the thread cache. A run that uses a
    thread retires the idle workers when it ends, so run short ones until it is gone.
    """
    deadline = time.monotonic() + SAFETY
    while worker.is_alive():
        assert time.monotonic() < deadline, f"{worker.name} never retired"
        tether.run(noop_in_thread)
        worker.join(0.01)


async def call_and_abandon(
    fn: Callable[[], object], limiter: tether.CapacityLimiter | None = None
) -> None:
    """``to_thread.run_sync(fn, abandon_on_cancel=True)``, cancelled once it is waiting."""
    with tether.CancelScope() as scope:
        async with tether.open_nursery() as nursery:

            async def cancel_when_blocked() -> None:
                await wait_all_tasks_blocked()
                scope.cancel()

            nursery.start_soon(cancel_when_blocked)
            await tether.to_thread.run_sync(fn, abandon_on_cancel=True, limiter=limiter)
            raise AssertionError("an abandoned call must not return")
    assert scope.cancelled_caught


class Probe(BaseException):
    """A BaseException that is none of KeyboardInterrupt, SystemExit or Cancelled."""


# ---------------------------------------------------------------------------------------
# to_thread.run_sync: results, errors, names, context


async def test_run_sync_returns_result_computed_in_another_thread() -> None:
    loop_thread = threading.get_ident()

    def work(a: int, b: int, *, scale: int = 1) -> tuple[int, int]:
        return (a + b) * scale, threading.get_ident()

    total, ident = await tether.to_thread.run_sync(work, 2, 3)
    assert total == 5
    assert ident != loop_thread
    # Keyword arguments go through functools.partial, as in Trio.
    total, _ = await tether.to_thread.run_sync(functools.partial(work, 2, 3, scale=10))
    assert total == 50


async def test_exception_keeps_the_thread_frames_in_its_traceback() -> None:
    def fails_in_thread(message: str) -> None:
        raise ValueError(message)

    with pytest.raises(ValueError, match="from the thread") as info:
        await tether.to_thread.run_sync(fails_in_thread, "from the thread")
    names = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    assert "fails_in_thread" in names
    assert names[-1] == "fails_in_thread"
    # ...and the caller's frame is there too, above it.
    assert "test_exception_keeps_the_thread_frames_in_its_traceback" in names


async def test_the_very_exception_object_is_raised() -> None:
    error = KeyError("mine")

    def fail() -> None:
        raise error

    with pytest.raises(KeyError) as info:
        await tether.to_thread.run_sync(fail)
    assert info.value is error


async def test_base_exceptions_from_the_thread_propagate() -> None:
    def fail() -> None:
        raise Probe("base")

    with pytest.raises(Probe, match="base"):
        await tether.to_thread.run_sync(fail)

    def exit_thread() -> None:
        raise SystemExit(3)

    with pytest.raises(SystemExit) as info:
        await tether.to_thread.run_sync(exit_thread)
    assert info.value.code == 3


async def test_async_functions_and_coroutines_are_rejected() -> None:
    async def coro_fn() -> int:
        return 1

    with pytest.raises(TypeError, match="async"):
        await tether.to_thread.run_sync(coro_fn)
    coro = coro_fn()
    with pytest.raises(TypeError, match="coroutine"):
        await tether.to_thread.run_sync(coro)  # type: ignore[arg-type]
    assert coro.cr_frame is None  # closed for us: no "never awaited" warning later
    with pytest.raises(TypeError, match="callable"):
        await tether.to_thread.run_sync(42)  # type: ignore[arg-type]

    # A sync function that returns a coroutine is caught too (after it ran, in the thread).
    def sneaky() -> Any:
        return coro_fn()

    with pytest.raises(TypeError, match="coroutine"):
        await tether.to_thread.run_sync(sneaky)
    gc.collect()  # any unclosed coroutine would warn now, and warnings are errors here


async def test_contextvars_are_copied_into_the_thread() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("from the task")

    def in_thread() -> str:
        seen = var.get()
        var.set("changed in the thread")
        return seen

    assert await tether.to_thread.run_sync(in_thread) == "from the task"
    # A copy: the thread's change does not leak back into the task...
    assert var.get() == "from the task"
    # ...nor into the next call that happens to reuse the same worker thread.
    assert await tether.to_thread.run_sync(var.get) == "from the task"


async def test_from_thread_calls_see_the_threads_context() -> None:
    # Trio (>= 0.23) runs from_thread.run/run_sync in a copy of the *thread's* context, so
    # context variables "propagate through" threads: a value the thread set is what the
    # callback sees. tether mirrors Trio's semantics.
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("task")

    async def read_async() -> str:
        return var.get()

    def in_thread() -> tuple[str, str]:
        var.set("thread")
        return tether.from_thread.run(read_async), tether.from_thread.run_sync(var.get)

    assert await tether.to_thread.run_sync(in_thread) == ("thread", "thread")
    assert var.get() == "task"


async def test_from_thread_calls_with_a_token_see_the_calling_threads_context() -> None:
    # The same rule for calls that run in a system task: a foreign thread's calls (and an
    # abandoned worker's) see that thread's context, sync and async alike.
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("task")
    token = tether.lowlevel.current_tether_token()

    async def read_async() -> str:
        await tether.checkpoint()
        return var.get()

    seen: dict[str, tuple[str, str]] = {}

    def foreign() -> None:
        var.set("foreign thread")
        seen["foreign"] = (
            tether.from_thread.run(read_async, tether_token=token),
            tether.from_thread.run_sync(var.get, tether_token=token),
        )

    thread = threading.Thread(target=foreign)
    thread.start()
    await tether.to_thread.run_sync(thread.join)  # joins without blocking the loop

    go = threading.Event()
    limiter = tether.CapacityLimiter(1)

    def abandoned() -> None:
        wait(go)
        var.set("abandoned worker")
        seen["abandoned"] = (
            tether.from_thread.run(read_async),
            tether.from_thread.run_sync(var.get),
        )

    await call_and_abandon(abandoned, limiter)
    go.set()
    await noop_in_thread(limiter)
    assert seen == {
        "foreign": ("foreign thread", "foreign thread"),
        "abandoned": ("abandoned worker", "abandoned worker"),
    }
    assert var.get() == "task"


async def test_thread_name_is_visible_inside_and_restored_after() -> None:
    def name() -> str:
        return threading.current_thread().name

    def first_call_name() -> str:
        return threading.current_thread().name

    assert await tether.to_thread.run_sync(name, thread_name="sqlite writer") == "sqlite writer"
    # Without a name the thread is named after the function.
    default = await tether.to_thread.run_sync(first_call_name)
    assert "first_call_name" in default
    assert default != "sqlite writer"
    # The worker is renamed back when the job ends (the cache reuses it; see below).
    assert all(t.name != "sqlite writer" for t in threading.enumerate())


async def test_worker_threads_are_reused_between_calls() -> None:
    first = await tether.to_thread.run_sync(threading.get_ident)
    second = await tether.to_thread.run_sync(threading.get_ident)
    assert first == second  # a call costs a hand-off to a cached worker, not a thread start


async def test_run_sync_is_a_checkpoint() -> None:
    with assert_checkpoints():
        await tether.to_thread.run_sync(lambda: None)


# ---------------------------------------------------------------------------------------
# Limiters


async def test_default_limiter_is_one_capacity_limiter_of_40_per_run() -> None:
    limiter = tether.to_thread.current_default_thread_limiter()
    assert isinstance(limiter, tether.CapacityLimiter)
    assert limiter.total_tokens == 40
    assert tether.to_thread.current_default_thread_limiter() is limiter

    def borrowed_while_running() -> int:
        return tether.from_thread.run_sync(lambda: limiter.statistics().borrowed_tokens)

    assert await tether.to_thread.run_sync(borrowed_while_running) == 1
    assert limiter.statistics().borrowed_tokens == 0


def test_each_run_gets_its_own_default_limiter() -> None:
    async def get() -> tether.CapacityLimiter:
        return tether.to_thread.current_default_thread_limiter()

    assert tether.run(get) is not tether.run(get)


async def test_custom_limiter_of_two_never_lets_more_than_two_run() -> None:
    limiter = tether.CapacityLimiter(2)
    # Each call meets exactly one partner at the barrier: it passes only with two threads
    # in at once, so reaching the end proves "2 at a time", and the counter proves "never 3".
    barrier = threading.Barrier(2, timeout=SAFETY)
    lock = threading.Lock()
    running = 0
    peak = 0

    def job(i: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        try:
            barrier.wait()
            return i * i
        finally:
            with lock:
                running -= 1

    results: dict[int, int] = {}

    async def call(i: int) -> None:
        results[i] = await tether.to_thread.run_sync(job, i, limiter=limiter)

    async with tether.open_nursery() as nursery:
        for i in range(10):
            nursery.start_soon(call, i)
        await wait_all_tasks_blocked()
        assert limiter.statistics().borrowed_tokens <= 2
    assert peak == 2
    assert results == {i: i * i for i in range(10)}
    assert limiter.statistics().borrowed_tokens == 0
    # The default limiter was not touched.
    assert tether.to_thread.current_default_thread_limiter().statistics().borrowed_tokens == 0


async def test_limiter_token_is_returned_when_the_thread_raises() -> None:
    limiter = tether.CapacityLimiter(1)

    def fail() -> None:
        raise OSError("disk on fire")

    for _ in range(3):  # with a leaked token the second call would wait forever
        with pytest.raises(OSError, match="disk on fire"):
            await tether.to_thread.run_sync(fail, limiter=limiter)
    assert limiter.statistics().borrowed_tokens == 0


async def test_two_thousand_concurrent_calls_with_the_default_limiter() -> None:
    limiter = tether.to_thread.current_default_thread_limiter()
    # A barrier of 40 passes only when exactly 40 calls are in their threads at once:
    # 2,000 calls make 50 full rounds. A limiter that let fewer through would break the
    # barrier (timeout); one that let more through would show in the peak.
    barrier = threading.Barrier(40, timeout=SAFETY)
    lock = threading.Lock()
    running = 0
    peak = 0

    def job(i: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        barrier.wait()
        with lock:
            running -= 1
        return i

    results: list[int] = []

    async def call(i: int) -> None:
        results.append(await tether.to_thread.run_sync(job, i))

    async with tether.open_nursery() as nursery:
        for i in range(2000):
            nursery.start_soon(call, i)
    assert sorted(results) == list(range(2000))
    assert peak == 40
    assert limiter.statistics().borrowed_tokens == 0
    assert limiter.statistics().tasks_waiting == 0


# ---------------------------------------------------------------------------------------
# Cancellation


async def test_cancelled_before_the_call_never_runs_the_function() -> None:
    ran = threading.Event()
    with tether.CancelScope() as scope:
        scope.cancel()
        await tether.to_thread.run_sync(ran.set)
    assert scope.cancelled_caught
    assert not ran.is_set()
    limiter = tether.to_thread.current_default_thread_limiter()
    assert limiter.statistics().borrowed_tokens == 0


async def test_cancel_without_abandon_waits_for_the_thread() -> None:
    go = threading.Event()
    limiter = tether.CapacityLimiter(1)
    result: list[int] = []

    def blocking() -> int:
        wait(go)
        return 7

    async with tether.open_nursery() as nursery:
        scope = tether.CancelScope()

        async def caller() -> None:
            with scope:
                # Not cancellable while the thread runs: the value comes back...
                result.append(await tether.to_thread.run_sync(blocking, limiter=limiter))
                # ...and the cancellation lands at the next checkpoint.
                await tether.checkpoint()
                result.append(-1)  # never reached

        nursery.start_soon(caller)
        await wait_all_tasks_blocked()
        scope.cancel()
        await wait_all_tasks_blocked()
        assert result == []  # still waiting for the thread, despite the cancel
        assert limiter.statistics().borrowed_tokens == 1
        go.set()
    assert result == [7]
    assert scope.cancelled_caught
    assert limiter.statistics().borrowed_tokens == 0


async def test_cancel_without_abandon_still_raises_the_threads_error() -> None:
    go = threading.Event()

    def blocking() -> None:
        wait(go)
        raise ValueError("thread error wins")

    scope = tether.CancelScope()
    async with tether.open_nursery() as nursery:

        async def cancel_then_release() -> None:
            await wait_all_tasks_blocked()
            scope.cancel()
            go.set()

        nursery.start_soon(cancel_then_release)
        with pytest.raises(ValueError, match="thread error wins"), scope:
            await tether.to_thread.run_sync(blocking)
    assert scope.cancel_called


async def test_cancel_with_abandon_returns_at_once_and_discards_the_result() -> None:
    go = threading.Event()
    done = threading.Event()
    limiter = tether.CapacityLimiter(1)

    def blocking() -> int:
        wait(go)
        done.set()
        return 99

    await call_and_abandon(blocking, limiter)
    assert not done.is_set()  # the thread is still blocked: we did not wait for it
    # The thread still holds its token until it ends.
    assert limiter.statistics().borrowed_tokens == 1
    go.set()
    # This call can start only once the abandoned thread has returned its token.
    await noop_in_thread(limiter)
    assert done.is_set()
    assert limiter.statistics().borrowed_tokens == 0


async def test_abandoned_thread_that_raises_does_not_disturb_anything() -> None:
    go = threading.Event()
    limiter = tether.CapacityLimiter(1)

    def blocking() -> None:
        wait(go)
        raise RuntimeError("nobody is listening")

    await call_and_abandon(blocking, limiter)
    go.set()
    await noop_in_thread(limiter)  # the token came back; the error went nowhere
    assert limiter.statistics().borrowed_tokens == 0


async def test_cancelled_while_waiting_for_the_limiter() -> None:
    limiter = tether.CapacityLimiter(1)
    go = threading.Event()
    ran_second = threading.Event()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(functools.partial(tether.to_thread.run_sync, wait, go, limiter=limiter))
        await wait_all_tasks_blocked()
        with tether.CancelScope() as scope:

            async def cancel_when_blocked() -> None:
                await wait_all_tasks_blocked()
                assert limiter.statistics().tasks_waiting == 1
                scope.cancel()

            nursery.start_soon(cancel_when_blocked)
            await tether.to_thread.run_sync(ran_second.set, limiter=limiter)
        assert scope.cancelled_caught
        assert limiter.statistics().borrowed_tokens == 1  # only the first call's
        assert limiter.statistics().tasks_waiting == 0
        go.set()
    assert not ran_second.is_set()
    assert limiter.statistics().borrowed_tokens == 0


@pytest.mark.parametrize("abandon", [False, True])
async def test_check_cancelled(abandon: bool) -> None:
    checked_once = tether.Event()
    go = threading.Event()
    limiter = tether.CapacityLimiter(1)
    seen: list[str] = []

    def polite_worker() -> None:
        tether.from_thread.check_cancelled()  # not cancelled yet: returns quietly
        seen.append("first check passed")
        tether.from_thread.run_sync(checked_once.set)
        wait(go)
        try:
            tether.from_thread.check_cancelled()
        except tether.Cancelled:
            seen.append("cancelled")
            raise
        seen.append("second check passed")  # never

    with tether.CancelScope() as scope:
        async with tether.open_nursery() as nursery:

            async def cancel_then_release() -> None:
                await checked_once.wait()
                await wait_all_tasks_blocked()
                scope.cancel()
                go.set()

            nursery.start_soon(cancel_then_release)
            await tether.to_thread.run_sync(
                polite_worker, abandon_on_cancel=abandon, limiter=limiter
            )
    assert scope.cancelled_caught
    # Abandoned, the task left at once: this call starts only when the thread has ended.
    await noop_in_thread(limiter)
    assert seen == ["first check passed", "cancelled"]


async def test_check_cancelled_only_works_in_worker_threads() -> None:
    with pytest.raises(RuntimeError, match="loop"):
        tether.from_thread.check_cancelled()
    errors: list[BaseException] = []

    def foreign() -> None:
        try:
            tether.from_thread.check_cancelled()
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=foreign)
    thread.start()
    thread.join()
    assert len(errors) == 1
    assert "to_thread.run_sync" in str(errors[0])


# ---------------------------------------------------------------------------------------
# from_thread from worker threads (the loop is found implicitly)


async def test_from_thread_run_and_run_sync_from_a_worker_thread() -> None:
    loop_thread = threading.get_ident()
    me = tether.lowlevel.current_task()

    async def async_double(x: int) -> tuple[int, int, object]:
        await tether.sleep(0)
        return 2 * x, threading.get_ident(), tether.lowlevel.current_task()

    def sync_triple(x: int) -> tuple[int, int]:
        return 3 * x, threading.get_ident()

    def in_thread() -> list[Any]:
        return [
            tether.from_thread.run(async_double, 5),
            tether.from_thread.run_sync(sync_triple, 5),
            threading.get_ident(),
        ]

    (doubled, async_ident, task), (tripled, sync_ident), worker = await tether.to_thread.run_sync(
        in_thread
    )
    assert (doubled, tripled) == (10, 15)
    assert async_ident == sync_ident == loop_thread
    assert worker != loop_thread
    # The callback runs inside the task that waits for the thread (so its cancel scopes,
    # nurseries and context apply), as in Trio.
    assert task is me


async def test_from_thread_errors_propagate_into_the_thread() -> None:
    async def async_fails() -> None:
        await tether.sleep(0)
        raise KeyError("async side")

    def sync_fails() -> None:
        raise LookupError("sync side")

    def in_thread() -> list[str]:
        caught: list[str] = []
        try:
            tether.from_thread.run(async_fails)
        except KeyError as exc:
            names = [frame.name for frame in traceback.extract_tb(exc.__traceback__)]
            assert "async_fails" in names
            caught.append("KeyError")
        try:
            tether.from_thread.run_sync(sync_fails)
        except LookupError as exc:
            names = [frame.name for frame in traceback.extract_tb(exc.__traceback__)]
            assert "sync_fails" in names
            caught.append("LookupError")
        return caught

    assert await tether.to_thread.run_sync(in_thread) == ["KeyError", "LookupError"]


async def test_from_thread_type_errors() -> None:
    async def async_fn() -> None:
        pass

    def sync_fn() -> None:
        pass

    def returns_coroutine() -> Any:
        return async_fn()

    def in_thread() -> list[str]:
        errors: list[str] = []
        calls: list[Callable[[], object]] = [
            lambda: tether.from_thread.run_sync(async_fn),
            lambda: tether.from_thread.run_sync(returns_coroutine),
            lambda: tether.from_thread.run(sync_fn),  # type: ignore[arg-type]
            lambda: tether.from_thread.run(42),  # type: ignore[arg-type]
        ]
        for call in calls:
            try:
                call()
            except TypeError as exc:
                errors.append(str(exc))
        return errors

    errors = await tether.to_thread.run_sync(in_thread)
    assert len(errors) == 4
    assert "from_thread.run" in errors[0]
    gc.collect()  # nothing left unawaited


async def test_coroutine_objects_given_to_from_thread_are_closed() -> None:
    # As everywhere else in tether (and in Trio): fn(arg) where fn, arg was meant is a
    # TypeError, and the coroutine object is closed so that Python does not also warn
    # "coroutine ... was never awaited" (an error under this suite's filterwarnings).
    async def async_fn() -> None:
        pass

    coros = [async_fn(), async_fn()]

    def in_thread() -> list[type[BaseException]]:
        raised: list[type[BaseException]] = []
        for call in (tether.from_thread.run, tether.from_thread.run_sync):
            try:
                call(coros.pop())  # type: ignore[operator]
            except TypeError as exc:
                raised.append(type(exc))
        return raised

    assert await tether.to_thread.run_sync(in_thread) == [TypeError, TypeError]
    gc.collect()


async def test_from_thread_run_in_a_cancelled_scope_raises_cancelled_in_the_thread() -> None:
    go = threading.Event()
    seen: list[str] = []

    async def needs_a_checkpoint() -> str:
        await tether.checkpoint()
        return "not cancelled?"

    def in_thread() -> str:
        wait(go)
        try:
            tether.from_thread.run(needs_a_checkpoint)
        except tether.Cancelled:
            seen.append("Cancelled in the thread")
        # run_sync has no checkpoint, so it still works inside the cancelled scope.
        seen.append(tether.from_thread.run_sync(lambda: "sync still runs"))
        return "thread finished"

    results: list[str] = []
    with tether.CancelScope() as scope:
        async with tether.open_nursery() as nursery:

            async def cancel_then_release() -> None:
                await wait_all_tasks_blocked()
                scope.cancel()
                go.set()

            nursery.start_soon(cancel_then_release)
            results.append(await tether.to_thread.run_sync(in_thread))
    assert seen == ["Cancelled in the thread", "sync still runs"]
    assert results == ["thread finished"]
    assert scope.cancelled_caught


async def test_uncaught_cancelled_from_the_thread_is_caught_by_the_scope() -> None:
    go = threading.Event()

    def in_thread() -> None:
        wait(go)
        tether.from_thread.run(tether.sleep, 0)  # raises Cancelled; let it out

    with tether.CancelScope() as scope:
        async with tether.open_nursery() as nursery:

            async def cancel_then_release() -> None:
                await wait_all_tasks_blocked()
                scope.cancel()
                go.set()

            nursery.start_soon(cancel_then_release)
            await tether.to_thread.run_sync(in_thread)
    assert scope.cancelled_caught


async def test_cancel_during_a_callback_then_abandon_at_once() -> None:
    # Cancelled while the waiting task runs the thread's from_thread.run callback: the
    # callback gets Cancelled (sent to the thread), and when the task goes back to
    # waiting in a cancelled scope it abandons the thread at once.
    in_callback = tether.Event()
    go = threading.Event()
    limiter = tether.CapacityLimiter(1)
    seen: list[str] = []

    async def long_callback() -> None:
        in_callback.set()
        await tether.sleep_forever()

    def worker() -> None:
        try:
            tether.from_thread.run(long_callback)
        except tether.Cancelled:
            seen.append("callback cancelled")
        wait(go)  # the task must not wait for this
        seen.append("thread done")

    with tether.CancelScope() as scope:
        async with tether.open_nursery() as nursery:

            async def cancel_during_callback() -> None:
                await in_callback.wait()
                await wait_all_tasks_blocked()
                scope.cancel()

            nursery.start_soon(cancel_during_callback)
            await tether.to_thread.run_sync(worker, abandon_on_cancel=True, limiter=limiter)
    # Reaching this line proves the task did not wait: the thread is blocked until `go`.
    assert scope.cancelled_caught
    assert "thread done" not in seen
    go.set()
    await noop_in_thread(limiter)
    assert seen == ["callback cancelled", "thread done"]


async def test_cancel_during_a_callback_is_seen_by_check_cancelled_afterwards() -> None:
    in_callback = tether.Event()
    seen: list[str] = []

    async def long_callback() -> None:
        in_callback.set()
        await tether.sleep_forever()

    def worker() -> None:
        try:
            tether.from_thread.run(long_callback)
        except tether.Cancelled:
            seen.append("callback cancelled")
        # A round trip, so the task is surely back to waiting for this thread.
        tether.from_thread.run_sync(lambda: None)
        try:
            tether.from_thread.check_cancelled()
        except tether.Cancelled:
            seen.append("check_cancelled raised")

    with tether.CancelScope() as scope:
        async with tether.open_nursery() as nursery:

            async def cancel_during_callback() -> None:
                await in_callback.wait()
                await wait_all_tasks_blocked()
                scope.cancel()

            nursery.start_soon(cancel_during_callback)
            await tether.to_thread.run_sync(worker)
            await tether.checkpoint()
    assert scope.cancelled_caught
    assert seen == ["callback cancelled", "check_cancelled raised"]


async def test_reentry_thread_to_task_to_thread_to_task() -> None:
    """thread -> from_thread.run(async fn -> to_thread.run_sync(g -> from_thread.run_sync))."""
    loop_thread = threading.get_ident()
    trail: list[tuple[str, int]] = []

    def innermost(x: int) -> int:
        trail.append(("innermost", threading.get_ident()))
        return x + 1

    def inner_thread(x: int) -> int:
        trail.append(("inner thread", threading.get_ident()))
        return tether.from_thread.run_sync(innermost, x * 10)

    async def middle(x: int) -> int:
        trail.append(("middle task", threading.get_ident()))
        return await tether.to_thread.run_sync(inner_thread, x + 1)

    def outer_thread(x: int) -> int:
        trail.append(("outer thread", threading.get_ident()))
        return tether.from_thread.run(middle, x)

    assert await tether.to_thread.run_sync(outer_thread, 1) == 21
    where = dict(trail)
    assert [step for step, _ in trail] == [
        "outer thread",
        "middle task",
        "inner thread",
        "innermost",
    ]
    assert where["middle task"] == where["innermost"] == loop_thread
    assert where["outer thread"] != loop_thread
    assert where["inner thread"] not in (loop_thread, where["outer thread"])


async def test_many_threads_calling_back_concurrently() -> None:
    counter = 0

    def bump() -> int:
        nonlocal counter
        counter += 1  # in the loop thread: no lock needed
        return counter

    async def async_bump() -> int:
        await tether.checkpoint()
        return bump()

    def in_thread(n: int) -> int:
        for _ in range(n):
            tether.from_thread.run_sync(bump)
            tether.from_thread.run(async_bump)
        return n

    async with tether.open_nursery() as nursery:
        for _ in range(20):
            nursery.start_soon(tether.to_thread.run_sync, in_thread, 25)
    assert counter == 20 * 25 * 2


async def test_from_thread_current_token() -> None:
    token = tether.lowlevel.current_tether_token()
    assert tether.from_thread.current_token() is None  # the loop thread is no worker
    assert await tether.to_thread.run_sync(tether.from_thread.current_token) is token
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(tether.from_thread.current_token()))
    thread.start()
    thread.join()
    assert seen == [None]


# ---------------------------------------------------------------------------------------
# from_thread: the loop thread, foreign threads, explicit tokens


async def test_from_thread_in_the_loop_thread_is_a_runtime_error_not_a_deadlock() -> None:
    token = tether.lowlevel.current_tether_token()

    async def never() -> None:
        raise AssertionError("must not run")

    with pytest.raises(RuntimeError, match="deadlock"):
        tether.from_thread.run(never)
    with pytest.raises(RuntimeError, match="deadlock"):
        tether.from_thread.run_sync(lambda: None)
    with pytest.raises(RuntimeError, match="deadlock"):
        tether.from_thread.run(never, tether_token=token)
    with pytest.raises(RuntimeError, match="deadlock"):
        tether.from_thread.run_sync(lambda: None, tether_token=token)


async def test_from_thread_in_a_foreign_thread_needs_a_token() -> None:
    async def afn() -> None:
        pass

    errors: list[BaseException] = []

    def foreign() -> None:
        for call in (
            lambda: tether.from_thread.run(afn),
            lambda: tether.from_thread.run_sync(lambda: None),
        ):
            try:
                call()
            except RuntimeError as exc:
                errors.append(exc)

    thread = threading.Thread(target=foreign)
    thread.start()
    thread.join()
    assert len(errors) == 2
    assert all("tether_token" in str(exc) for exc in errors)


async def test_from_thread_in_a_foreign_thread_with_an_explicit_token() -> None:
    token = tether.lowlevel.current_tether_token()
    loop_thread = threading.get_ident()
    me = tether.lowlevel.current_task()
    done = tether.Event()
    results: dict[str, Any] = {}

    async def afn(x: int) -> tuple[int, bool, bool]:
        await tether.sleep(0)
        task = tether.lowlevel.current_task()
        return x * 2, threading.get_ident() == loop_thread, task is me

    async def fails() -> None:
        await tether.checkpoint()
        raise ValueError("from a system task")

    def foreign() -> None:
        try:
            results["run"] = tether.from_thread.run(afn, 21, tether_token=token)
            results["run_sync"] = tether.from_thread.run_sync(
                lambda: threading.get_ident() == loop_thread, tether_token=token
            )
            try:
                tether.from_thread.run(fails, tether_token=token)
            except ValueError as exc:
                results["error"] = str(exc)
            try:
                tether.from_thread.run(afn, 1, tether_token="not a token")  # type: ignore[arg-type]
            except TypeError:
                results["bad token"] = "TypeError"
        finally:
            tether.from_thread.run_sync(done.set, tether_token=token)

    thread = threading.Thread(target=foreign)
    thread.start()
    with tether.fail_after(SAFETY):
        await done.wait()
    thread.join()
    # Foreign-thread calls run in the loop thread, in a system task (not in this task),
    # and their errors go back to the calling thread, not into the run.
    assert results == {
        "run": (42, True, False),
        "run_sync": True,
        "error": "from a system task",
        "bad token": "TypeError",
    }


async def test_explicit_token_in_a_worker_thread_behaves_like_the_implicit_one() -> None:
    token = tether.lowlevel.current_tether_token()
    me = tether.lowlevel.current_task()

    async def which_task() -> object:
        return tether.lowlevel.current_task()

    def in_thread() -> object:
        return tether.from_thread.run(which_task, tether_token=token)

    assert await tether.to_thread.run_sync(in_thread) is me


async def test_abandoned_thread_can_still_call_back_while_the_run_lives() -> None:
    go = threading.Event()
    loop_thread = threading.get_ident()
    me = tether.lowlevel.current_task()
    reply: list[Any] = []
    limiter = tether.CapacityLimiter(1)

    async def where() -> tuple[bool, bool]:
        await tether.checkpoint()  # not cancelled: runs in a system task now
        return threading.get_ident() == loop_thread, tether.lowlevel.current_task() is me

    def abandoned() -> None:
        wait(go)
        reply.append(tether.from_thread.run(where))
        reply.append(tether.from_thread.run_sync(lambda: "sync ok"))

    await call_and_abandon(abandoned, limiter)
    go.set()
    await noop_in_thread(limiter)  # waits for the abandoned thread to give its token back
    assert reply == [(True, False), "sync ok"]


def test_run_that_ends_while_an_abandoned_thread_holds_a_token() -> None:
    go = threading.Event()
    finished = threading.Event()
    report: dict[str, Any] = {}

    def abandoned() -> str:
        report["worker"] = threading.current_thread()
        wait(go)
        # The run is over by now: calling back is a clean RunFinishedError.
        for name, call in [
            ("run_sync", lambda: tether.from_thread.run_sync(lambda: None)),
            ("run", lambda: tether.from_thread.run(tether.sleep, 0)),
        ]:
            try:
                call()
            except tether.RunFinishedError:
                report[name] = "RunFinishedError"
        finished.set()
        return "result nobody will read"

    async def main() -> str:
        await call_and_abandon(abandoned)
        return "main done"

    assert tether.run(main) == "main done"
    assert not finished.is_set()  # run returned without waiting for the thread
    go.set()
    assert finished.wait(SAFETY)
    assert report["run_sync"] == report["run"] == "RunFinishedError"
    # Its result is dropped silently; later runs are unaffected.
    retire_worker(report["worker"])

    async def again() -> int:
        return await tether.to_thread.run_sync(lambda: 5)

    assert tether.run(again) == 5


def test_from_thread_racing_the_end_of_the_run_never_hangs() -> None:
    # A foreign thread calls in just as the run ends. Depending on the moment it gets the
    # result, RunFinishedError (the run no longer accepts work, or can no longer start the
    # system task) or Cancelled (the system task was cancelled with the run), but it is
    # always answered: a request accepted and then forgotten would hang the thread.
    outcomes: collections.Counter[str] = collections.Counter()

    def caller(token: tether.lowlevel.TetherToken, go: threading.Event, out: list[str]) -> None:
        wait(go)
        try:
            tether.from_thread.run(tether.sleep, 0, tether_token=token)
            out.append("ok")
        except tether.RunFinishedError:
            out.append("RunFinishedError")
        except tether.Cancelled:
            out.append("Cancelled")

    for step in range(50):
        result: list[str] = []

        async def main(out: list[str], step: int) -> threading.Thread:
            go = threading.Event()
            token = tether.lowlevel.current_tether_token()
            thread = threading.Thread(target=caller, args=(token, go, out))
            thread.start()
            go.set()
            await tether.sleep(step * 20e-6)  # end the run a little later each time
            return thread

        thread = tether.run(main, result, step)
        thread.join(SAFETY)
        assert not thread.is_alive(), "from_thread.run never got an answer"
        outcomes[result[0]] += 1
    assert set(outcomes) <= {"ok", "RunFinishedError", "Cancelled"}


@pytest.mark.slow
def test_an_idle_worker_retires_after_a_few_seconds() -> None:
    # Outside any run nothing retires workers when a run ends: only the idle timeout.
    delivered = threading.Event()
    workers: list[threading.Thread] = []

    def deliver(result: outcome.Outcome[threading.Thread]) -> None:
        workers.append(result.unwrap())
        delivered.set()

    start = time.monotonic()
    tether.lowlevel.start_thread_soon(threading.current_thread, deliver)
    assert delivered.wait(SAFETY)
    workers[0].join(30)
    assert not workers[0].is_alive(), "an idle worker thread never retired"
    assert time.monotonic() - start < 30


def test_no_thread_outlives_the_run() -> None:
    tether.run(noop_in_thread)  # retires whatever another test left idle
    before = threading.enumerate()

    async def busy() -> None:
        barrier = threading.Barrier(8, timeout=SAFETY)

        def job() -> int:
            barrier.wait()
            return tether.from_thread.run_sync(lambda: 1)

        async with tether.open_nursery() as nursery:
            for _ in range(64):
                nursery.start_soon(tether.to_thread.run_sync, job)
        # Threads existed during the run...
        assert len(threading.enumerate()) > len(before)

    tether.run(busy)
    # ...and none is left once it returned.
    assert threading.enumerate() == before


# ---------------------------------------------------------------------------------------
# tether.lowlevel.start_thread_soon


async def test_start_thread_soon_runs_fn_then_deliver_in_the_same_thread() -> None:
    await noop_in_thread()  # this run will retire the idle worker threads when it ends
    delivered = threading.Event()
    record: dict[str, Any] = {}

    def fn() -> int:
        record["fn thread"] = threading.current_thread()
        record["fn name"] = threading.current_thread().name
        return 42

    def deliver(result: outcome.Outcome[int]) -> None:
        record["deliver thread"] = threading.current_thread()
        record["result"] = result
        delivered.set()

    tether.lowlevel.start_thread_soon(fn, deliver, name="custom name")
    assert delivered.wait(SAFETY)
    assert record["fn thread"] is record["deliver thread"]
    assert record["fn thread"] is not threading.current_thread()
    assert record["fn name"] == "custom name"
    assert record["result"] == outcome.Value(42)

    failed = threading.Event()
    errors: list[outcome.Outcome[Any]] = []

    def boom() -> None:
        raise ValueError("in fn")

    tether.lowlevel.start_thread_soon(boom, lambda r: (errors.append(r), failed.set()))
    assert failed.wait(SAFETY)
    assert isinstance(errors[0], outcome.Error)
    assert isinstance(errors[0].error, ValueError)


async def test_a_deliver_that_raises_does_not_poison_the_thread_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Trio prints such an error and keeps the worker usable. Whatever tether does with
    # the error, the *next* job must still run.
    await noop_in_thread()
    hook_calls: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", hook_calls.append)
    delivered = threading.Event()

    def bad_deliver(result: outcome.Outcome[Any]) -> None:
        delivered.set()
        raise RuntimeError("deliver is buggy")

    tether.lowlevel.start_thread_soon(lambda: 1, bad_deliver)
    assert delivered.wait(SAFETY)
    second = threading.Event()
    tether.lowlevel.start_thread_soon(lambda: 2, lambda result: second.set())
    assert second.wait(5), "the job after a failing deliver was lost"


async def test_a_burst_of_jobs_is_drained_by_a_few_threads() -> None:
    # Jobs queue up; a worker that finishes one takes the next without sleeping, so 200
    # trivial jobs submitted at once do not start (or wake) a thread each.
    await noop_in_thread()
    jobs = 200
    done = threading.Event()
    threads: list[threading.Thread] = []
    lock = threading.Lock()

    def deliver(result: outcome.Outcome[threading.Thread]) -> None:
        with lock:
            threads.append(result.unwrap())
            if len(threads) == jobs:
                done.set()

    for _ in range(jobs):
        tether.lowlevel.start_thread_soon(threading.current_thread, deliver)
    assert done.wait(SAFETY)
    assert len(set(threads)) <= 10, f"{len(set(threads))} threads for {jobs} trivial jobs"


async def test_jobs_queued_behind_blocked_ones_still_start() -> None:
    # Every job must get a thread even when the workers that drain the queue are all
    # blocked in user code: 16 jobs that can only finish together (a barrier).
    await noop_in_thread()
    barrier = threading.Barrier(16, timeout=SAFETY)
    limiter = tether.CapacityLimiter(16)
    async with tether.open_nursery() as nursery:
        for _ in range(16):
            nursery.start_soon(
                functools.partial(tether.to_thread.run_sync, barrier.wait, limiter=limiter)
            )
    assert not barrier.broken


async def test_a_thread_that_cannot_start_fails_the_call_and_leaves_no_job_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tether._thread_cache import ThreadCache

    cache = ThreadCache()  # a private, empty cache: the call must start a thread
    monkeypatch.setattr("tether._threads.THREAD_CACHE", cache)
    real_start = threading.Thread.start

    def failing_start(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", failing_start)
    ran: list[int] = []
    limiter = tether.to_thread.current_default_thread_limiter()
    with pytest.raises(RuntimeError, match="can't start new thread"):
        await tether.to_thread.run_sync(ran.append, 1)
    assert limiter.borrowed_tokens == 0

    monkeypatch.setattr(threading.Thread, "start", real_start)
    await tether.to_thread.run_sync(ran.append, 2)
    # The failed call's job was taken back: it never runs, not even later.
    assert ran == [2]
    cache.retire_idle()


async def test_queued_jobs_wait_for_a_busy_worker_when_no_new_thread_can_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Out of threads, a burst is not lost: the one worker there is runs it all.
    await noop_in_thread()
    real_start = threading.Thread.start
    starts: list[threading.Thread] = []

    def start_only_one(self: threading.Thread) -> None:
        starts.append(self)
        if len(starts) > 1:
            raise RuntimeError("can't start new thread")
        real_start(self)

    from tether._thread_cache import ThreadCache

    cache = ThreadCache()  # a private cache: no idle workers from earlier tests
    monkeypatch.setattr(threading.Thread, "start", start_only_one)
    done = threading.Event()
    threads: list[threading.Thread] = []

    def deliver(result: Any) -> None:
        threads.append(result.value)
        if len(threads) == 5:
            done.set()

    for _ in range(5):
        cache.start_thread_soon(threading.current_thread, deliver)
    assert done.wait(SAFETY)
    monkeypatch.setattr(threading.Thread, "start", real_start)
    assert len(set(threads)) == 1
    cache.retire_idle()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_thread_cache_of_its_own() -> None:
    # A worker left searching by the parent's run (or idle, outside any run) is a thread
    # the child does not have: the child must start its own workers instead of waking
    # ghosts and hanging.
    delivered = threading.Event()
    tether.lowlevel.start_thread_soon(lambda: None, lambda result: delivered.set())
    assert delivered.wait(SAFETY)  # the worker is now idle in the parent's cache
    pid = os.fork()
    if pid == 0:  # pragma: no cover  # the child: coverage does not follow it
        status = 2
        try:
            signal.alarm(10)  # a hang fails the test instead of stalling the suite
            status = 0 if tether.run(tether.to_thread.run_sync, lambda: 7) == 7 else 1
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)
    _, wait_status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(wait_status) == 0
    tether.run(noop_in_thread)  # retires the parent's idle worker


# ---------------------------------------------------------------------------------------
# The sqlite example and the demo


def test_sqlite_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert sqlite3.sqlite_version  # the example needs only the standard library
    namespace = runpy.run_path(str(ROOT / "examples" / "sqlite_threads.py"), run_name="example")
    summary = tether.run(namespace["main"], 3, 40)
    out = capsys.readouterr().out
    assert summary == {
        "rows": 120,
        "per_worker": {0: 40, 1: 40, 2: 40},
        "threads": ["sqlite writer 0", "sqlite writer 1", "sqlite writer 2"],
    }
    assert "progress" in out
    assert "cancelled" in out  # the abandon_on_cancel part ran


def test_sqlite_example_as_a_script() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "sqlite_threads.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "rows in the table: " in result.stdout


async def test_demo_threads(capsys: pytest.CaptureFixture[str]) -> None:
    from tether._demo_threads import demo_threads

    await demo_threads()
    out = capsys.readouterr().out
    assert "to_thread" in out
    assert "from_thread" in out
    assert "bridge" in out


async def test_any_object_with_the_limiter_methods_can_limit() -> None:
    # As in Trio: the limiter may be anything with acquire/release_on_behalf_of.
    calls: list[str] = []

    class CountingLimiter:
        async def acquire_on_behalf_of(self, borrower: object) -> None:
            calls.append("acquire")
            await tether.checkpoint()

        def release_on_behalf_of(self, borrower: object) -> None:
            calls.append("release")

    limiter: Any = CountingLimiter()
    assert await tether.to_thread.run_sync(lambda: 42, limiter=limiter) == 42
    assert calls == ["acquire", "release"]
