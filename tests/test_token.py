"""Tests for tether.lowlevel.TetherToken: re-entering a run from other threads and from
signal handlers with run_sync_soon."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import tether
import tether.abc
import tether.lowlevel
from tether.testing import wait_all_tasks_blocked

SAFETY = 10.0


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leftover = set(threading.enumerate()) - before
    assert not leftover, f"threads left behind: {sorted(t.name for t in leftover)}"


def start_thread(target: Any, *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args)
    thread.start()
    return thread


def causes_of(error: BaseException) -> list[BaseException]:
    """The leaf exceptions a TetherInternalError was raised from (groups flattened)."""

    def leaves(exc: BaseException) -> list[BaseException]:
        if isinstance(exc, BaseExceptionGroup):
            return [leaf for sub in exc.exceptions for leaf in leaves(sub)]
        return [exc]

    assert error.__cause__ is not None
    return leaves(error.__cause__)


# ---------------------------------------------------------------------------------------
# The token itself


async def test_one_token_per_run() -> None:
    token = tether.lowlevel.current_tether_token()
    assert isinstance(token, tether.lowlevel.TetherToken)
    assert tether.lowlevel.current_tether_token() is token

    async def child(out: list[object]) -> None:
        out.append(tether.lowlevel.current_tether_token())

    seen: list[object] = []
    async with tether.open_nursery() as nursery:
        nursery.start_soon(child, seen)
    assert seen == [token]


def test_each_run_has_its_own_token() -> None:
    async def get() -> tether.lowlevel.TetherToken:
        return tether.lowlevel.current_tether_token()

    assert tether.run(get) is not tether.run(get)


def test_token_has_no_public_constructor_and_needs_a_run() -> None:
    with pytest.raises(TypeError):
        tether.lowlevel.TetherToken()  # type: ignore[call-arg]
    with pytest.raises(RuntimeError):
        tether.lowlevel.current_tether_token()


# ---------------------------------------------------------------------------------------
# run_sync_soon


async def test_run_sync_soon_from_another_thread_runs_in_the_loop_thread() -> None:
    token = tether.lowlevel.current_tether_token()
    loop_thread = threading.get_ident()
    done = tether.Event()
    calls: list[tuple[Any, ...]] = []

    def callback(*args: Any) -> None:
        calls.append((*args, threading.get_ident() == loop_thread))
        done.set()

    thread = start_thread(token.run_sync_soon, callback, "a", 1)
    with tether.fail_after(SAFETY):
        await done.wait()
    thread.join()
    assert calls == [("a", 1, True)]


async def test_run_sync_soon_wakes_a_loop_blocked_in_its_io_wait() -> None:
    # An instrument tells the thread when the loop is about to block with nothing to do;
    # only the token's wake-up (through the I/O backend) can get it going again.
    token = tether.lowlevel.current_tether_token()
    blocking = threading.Event()

    class BlockWatcher(tether.abc.Instrument):
        def before_io_wait(self, timeout: float) -> None:
            if timeout > 1.0:
                blocking.set()

    def poke() -> None:
        assert blocking.wait(SAFETY)
        token.run_sync_soon(woken.set)

    woken = tether.Event()
    watcher = BlockWatcher()
    tether.lowlevel.add_instrument(watcher)
    try:
        thread = start_thread(poke)
        with tether.fail_after(SAFETY):  # the next deadline is SAFETY s away: a long block
            await woken.wait()
        thread.join()
    finally:
        tether.lowlevel.remove_instrument(watcher)
    assert blocking.is_set()


async def test_callbacks_run_in_the_order_they_were_queued() -> None:
    token = tether.lowlevel.current_tether_token()
    order: list[int] = []
    done = tether.Event()

    def queue_many() -> None:
        for i in range(1000):
            token.run_sync_soon(order.append, i)
        token.run_sync_soon(done.set)

    thread = start_thread(queue_many)
    with tether.fail_after(SAFETY):
        await done.wait()
    thread.join()
    assert order == list(range(1000))

    # From the loop thread itself too (a callback may queue another).
    order.clear()
    for i in range(5):
        token.run_sync_soon(order.append, i)
    token.run_sync_soon(lambda: token.run_sync_soon(order.append, "queued by a callback"))
    await wait_all_tasks_blocked()
    assert order == [0, 1, 2, 3, 4, "queued by a callback"]


async def test_many_threads_each_keep_their_order_and_nothing_is_lost() -> None:
    token = tether.lowlevel.current_tether_token()
    per_thread: dict[int, list[int]] = {t: [] for t in range(8)}
    remaining = len(per_thread)
    all_done = tether.Event()
    barrier = threading.Barrier(len(per_thread), timeout=SAFETY)

    def finished() -> None:
        nonlocal remaining
        remaining -= 1
        if not remaining:
            all_done.set()

    def hammer(t: int) -> None:
        barrier.wait()  # all start together, to interleave as much as possible
        for i in range(500):
            token.run_sync_soon(per_thread[t].append, i)
        token.run_sync_soon(finished)

    threads = [start_thread(hammer, t) for t in per_thread]
    with tether.fail_after(SAFETY):
        await all_done.wait()
    for thread in threads:
        thread.join()
    assert all(values == list(range(500)) for values in per_thread.values())


async def test_idempotent_callbacks_coalesce_while_pending() -> None:
    token = tether.lowlevel.current_tether_token()
    calls: list[tuple[str, int]] = []

    def record(tag: str, n: int) -> None:
        calls.append((tag, n))

    # Nothing runs until this task yields, so all of these are pending together.
    for _ in range(5):
        token.run_sync_soon(record, "same", 1, idempotent=True)
    token.run_sync_soon(record, "other args", 2, idempotent=True)
    token.run_sync_soon(record, "not idempotent", 3)
    token.run_sync_soon(record, "not idempotent", 3)
    await wait_all_tasks_blocked()
    assert sorted(calls) == [
        ("not idempotent", 3),
        ("not idempotent", 3),
        ("other args", 2),
        ("same", 1),
    ]

    # Coalescing is only among pending copies: once it ran, queueing it again runs it again.
    calls.clear()
    token.run_sync_soon(record, "same", 1, idempotent=True)
    await wait_all_tasks_blocked()
    token.run_sync_soon(record, "same", 1, idempotent=True)
    await wait_all_tasks_blocked()
    assert calls == [("same", 1), ("same", 1)]


async def test_idempotent_from_many_threads_runs_at_least_once_after_the_last_call() -> None:
    # The classic use: "something changed, wake up and look". However many threads poke,
    # the callback runs after the last poke, and far fewer times than it was queued.
    token = tether.lowlevel.current_tether_token()
    runs = 0
    pokes = 0
    lock = threading.Lock()
    seen_after_all_pokes = tether.Event()

    def look() -> None:
        nonlocal runs
        runs += 1
        with lock:
            if pokes == 4 * 200:
                seen_after_all_pokes.set()

    def poke() -> None:
        nonlocal pokes
        for _ in range(200):
            with lock:
                pokes += 1
            token.run_sync_soon(look, idempotent=True)

    threads = [start_thread(poke) for _ in range(4)]
    with tether.fail_after(SAFETY):
        await seen_after_all_pokes.wait()
    for thread in threads:
        thread.join()
    await wait_all_tasks_blocked()
    assert 1 <= runs <= 800


async def test_run_sync_soon_is_safe_in_a_signal_handler() -> None:
    # A signal handler runs in the loop's thread between two bytecodes, possibly while
    # that thread is itself inside run_sync_soon: it must neither deadlock nor lose work.
    token = tether.lowlevel.current_tether_token()
    handled = 0
    ran = 0
    signals_sent = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        nonlocal handled
        handled += 1
        token.run_sync_soon(count_run)

    def count_run() -> None:
        nonlocal ran
        ran += 1

    def send_signals() -> None:
        for _ in range(50):
            signal.pthread_kill(main_thread, signal.SIGUSR1)
        signals_sent.set()

    main_thread = threading.get_ident()
    old = signal.signal(signal.SIGUSR1, on_signal)
    try:
        thread = start_thread(send_signals)
        # Keep the loop thread busy inside run_sync_soon while signals arrive.
        while not signals_sent.is_set():
            token.run_sync_soon(lambda: None)
            await tether.checkpoint()
        thread.join()
        await wait_all_tasks_blocked()
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert handled >= 1  # signals coalesce, so maybe fewer than 50 handler calls...
    assert ran == handled  # ...but every one of them got its callback run


async def test_run_sync_soon_from_a_signal_wakes_the_loop() -> None:
    token = tether.lowlevel.current_tether_token()
    woken = tether.Event()

    def on_signal(signum: int, frame: object) -> None:
        token.run_sync_soon(woken.set)

    old = signal.signal(signal.SIGUSR2, on_signal)
    try:
        main_thread = threading.get_ident()
        thread = start_thread(signal.pthread_kill, main_thread, signal.SIGUSR2)
        with tether.fail_after(SAFETY):
            await woken.wait()
        thread.join()
    finally:
        signal.signal(signal.SIGUSR2, old)
    assert woken.is_set()


def test_a_callback_that_raises_crashes_the_run_with_tether_internal_error() -> None:
    class CallbackBug(Exception):
        pass

    def buggy() -> None:
        raise CallbackBug("oops")

    async def main() -> None:
        tether.lowlevel.current_tether_token().run_sync_soon(buggy)
        await tether.sleep_forever()  # the crash must end even this

    with pytest.raises(tether.TetherInternalError) as info:
        tether.run(main)
    assert [type(c) for c in causes_of(info.value)] == [CallbackBug]


def test_a_callback_that_raises_from_a_thread_crashes_the_run_too() -> None:
    def buggy() -> None:
        raise ZeroDivisionError

    async def main() -> None:
        token = tether.lowlevel.current_tether_token()
        thread = start_thread(token.run_sync_soon, buggy)
        try:
            await tether.sleep_forever()
        finally:
            thread.join()

    with pytest.raises(tether.TetherInternalError) as info:
        tether.run(main)
    assert [type(c) for c in causes_of(info.value)] == [ZeroDivisionError]


# ---------------------------------------------------------------------------------------
# After the run


def test_token_after_the_run_raises_run_finished_error() -> None:
    async def main() -> tether.lowlevel.TetherToken:
        return tether.lowlevel.current_tether_token()

    token = tether.run(main)
    with pytest.raises(tether.RunFinishedError):
        token.run_sync_soon(print)
    with pytest.raises(tether.RunFinishedError):
        token.run_sync_soon(print, idempotent=True)
    # From another thread as well, and through from_thread with the explicit token.
    errors: list[type[BaseException]] = []

    def from_a_thread() -> None:
        for call in (
            lambda: token.run_sync_soon(print),
            lambda: tether.from_thread.run_sync(print, tether_token=token),
            lambda: tether.from_thread.run(tether.sleep, 0, tether_token=token),
        ):
            try:
                call()
            except tether.RunFinishedError as exc:
                errors.append(type(exc))

    thread = start_thread(from_a_thread)
    thread.join()
    assert errors == [tether.RunFinishedError] * 3


def test_callbacks_queued_while_the_run_ends_still_run() -> None:
    # Whatever run_sync_soon accepted runs before tether.run returns; whatever it refused
    # raised RunFinishedError. No callback is silently dropped.
    accepted = 0
    refused = 0
    ran = 0

    def keep_queueing(token: tether.lowlevel.TetherToken, first_ran: tether.Event) -> None:
        nonlocal accepted, refused

        def count() -> None:
            nonlocal ran
            ran += 1
            first_ran.set()

        while True:
            try:
                token.run_sync_soon(count)
            except tether.RunFinishedError:
                refused += 1
                return
            accepted += 1

    async def main() -> threading.Thread:
        first_ran = tether.Event()
        thread = start_thread(keep_queueing, tether.lowlevel.current_tether_token(), first_ran)
        with tether.fail_after(SAFETY):
            await first_ran.wait()
        return thread  # and end the run while the thread is still queueing

    thread = tether.run(main)
    thread.join()
    assert refused == 1
    assert ran == accepted
    assert ran > 0
