"""Tests for tether's synchronization primitives: Event, Lock, StrictFIFOLock, Semaphore,
CapacityLimiter and Condition."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

import tether
from tether.testing import assert_checkpoints, assert_no_checkpoints, wait_all_tasks_blocked

# ---------------------------------------------------------------------------------------
# Event


async def test_event_set_wakes_every_waiter() -> None:
    event = tether.Event()
    assert not event.is_set()
    woken: list[int] = []

    async def waiter(i: int) -> None:
        await event.wait()
        woken.append(i)

    async with tether.open_nursery() as nursery:
        for i in range(3):
            nursery.start_soon(waiter, i)
        await wait_all_tasks_blocked()
        assert woken == []
        assert event.statistics().tasks_waiting == 3
        with assert_no_checkpoints():
            event.set()
        assert event.is_set()
        assert event.statistics().tasks_waiting == 0
    assert sorted(woken) == [0, 1, 2]


async def test_event_wait_when_already_set_is_a_checkpoint() -> None:
    event = tether.Event()
    event.set()
    event.set()  # idempotent
    assert event.is_set()
    with assert_checkpoints():
        await event.wait()
    with tether.CancelScope() as scope:
        scope.cancel()
        await event.wait()
        raise AssertionError("unreachable")  # pragma: no cover
    assert scope.cancelled_caught


async def test_event_wait_in_cancelled_scope_raises_at_once() -> None:
    event = tether.Event()
    with tether.CancelScope() as scope:
        scope.cancel()
        await event.wait()
        raise AssertionError("unreachable")  # pragma: no cover
    assert scope.cancelled_caught
    assert event.statistics().tasks_waiting == 0


async def test_event_waiter_cancelled_while_waiting() -> None:
    event = tether.Event()
    async with tether.open_nursery() as nursery:
        scopes = []

        async def waiter(scope: tether.CancelScope) -> None:
            with scope:
                await event.wait()
                raise AssertionError("must not be woken")  # pragma: no cover

        for _ in range(2):
            scope = tether.CancelScope()
            scopes.append(scope)
            nursery.start_soon(waiter, scope)
        await wait_all_tasks_blocked()
        scopes[0].cancel()
        await wait_all_tasks_blocked()
        assert event.statistics().tasks_waiting == 1
        scopes[1].cancel()
    assert event.statistics().tasks_waiting == 0
    assert all(s.cancelled_caught for s in scopes)
    assert "unset" in repr(event)


def test_event_statistics_type() -> None:
    assert tether.Event().statistics() == tether.EventStatistics(tasks_waiting=0)


# ---------------------------------------------------------------------------------------
# Everything that acquires and releases: shared behaviour


def _limiter() -> Any:
    return tether.CapacityLimiter(1)


def _semaphore() -> Any:
    return tether.Semaphore(1)


def _bounded_semaphore() -> Any:
    return tether.Semaphore(1, max_value=1)


def _lock() -> Any:
    return tether.Lock()


def _fifo_lock() -> Any:
    return tether.StrictFIFOLock()


def _condition() -> Any:
    return tether.Condition()


LOCK_FACTORIES: list[Callable[[], Any]] = [
    _limiter,
    _semaphore,
    _bounded_semaphore,
    _lock,
    _fifo_lock,
    _condition,
]
LOCK_IDS = [
    "CapacityLimiter",
    "Semaphore",
    "BoundedSemaphore",
    "Lock",
    "StrictFIFOLock",
    "Condition",
]
lock_factories = pytest.mark.parametrize("factory", LOCK_FACTORIES, ids=LOCK_IDS)


def _waiting(primitive: Any) -> int:
    stats = primitive.statistics()
    if isinstance(primitive, tether.Condition):
        return int(stats.lock_statistics.tasks_waiting)
    return int(stats.tasks_waiting)


@lock_factories
async def test_mutual_exclusion(factory: Callable[[], Any]) -> None:
    primitive = factory()
    inside = 0
    peak = 0

    async def worker() -> None:
        nonlocal inside, peak
        for _ in range(3):
            async with primitive:
                inside += 1
                peak = max(peak, inside)
                await tether.checkpoint()
                await tether.checkpoint()
                inside -= 1

    async with tether.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(worker)
    assert peak == 1


@lock_factories
async def test_fifo_hand_off_and_no_barging(factory: Callable[[], Any]) -> None:
    primitive = factory()
    order: list[int] = []

    async def waiter(i: int) -> None:
        async with primitive:
            order.append(i)

    async with tether.open_nursery() as nursery:
        await primitive.acquire()
        for i in range(5):
            nursery.start_soon(waiter, i)
            await wait_all_tasks_blocked()
        assert _waiting(primitive) == 5
        primitive.release()
        # The token went to waiter 0 before it even ran: a newcomer cannot barge in.
        with pytest.raises(tether.WouldBlock):
            primitive.acquire_nowait()
        assert _waiting(primitive) == 4
    assert order == [0, 1, 2, 3, 4]
    # Free again afterwards.
    primitive.acquire_nowait()
    primitive.release()


@lock_factories
async def test_acquire_is_a_checkpoint_and_nowait_is_not(factory: Callable[[], Any]) -> None:
    primitive = factory()
    with assert_checkpoints():
        await primitive.acquire()
    with assert_no_checkpoints():
        primitive.release()
    with assert_no_checkpoints():
        primitive.acquire_nowait()
    with assert_no_checkpoints():
        primitive.release()
    with assert_checkpoints():
        async with primitive:
            pass


@lock_factories
async def test_acquire_in_cancelled_scope_takes_nothing(factory: Callable[[], Any]) -> None:
    primitive = factory()
    with tether.CancelScope() as scope:
        scope.cancel()
        await primitive.acquire()
        raise AssertionError("unreachable")  # pragma: no cover
    assert scope.cancelled_caught
    # Nothing was taken: it can still be acquired without waiting.
    primitive.acquire_nowait()
    primitive.release()


@lock_factories
async def test_waiter_cancelled_while_queued(factory: Callable[[], Any]) -> None:
    primitive = factory()
    got: list[int] = []
    scopes = [tether.CancelScope() for _ in range(3)]

    async def waiter(i: int) -> None:
        with scopes[i]:
            await primitive.acquire()
            got.append(i)
            primitive.release()

    async with tether.open_nursery() as nursery:
        await primitive.acquire()
        for i in range(3):
            nursery.start_soon(waiter, i)
            await wait_all_tasks_blocked()
        scopes[1].cancel()  # the middle one leaves the queue
        await wait_all_tasks_blocked()
        assert _waiting(primitive) == 2
        primitive.release()
    assert got == [0, 2]
    assert scopes[1].cancelled_caught
    primitive.acquire_nowait()
    primitive.release()


@lock_factories
async def test_waiter_cancelled_right_after_hand_off_keeps_it(factory: Callable[[], Any]) -> None:
    # The release hands the token over and wakes the waiter; a cancellation arriving
    # before the waiter runs must not make the token vanish.
    primitive = factory()
    scope = tether.CancelScope()
    events: list[str] = []

    async def waiter() -> None:
        with scope:
            await primitive.acquire()
            events.append("acquired")
            try:
                await tether.checkpoint()
            finally:
                primitive.release()
                events.append("released")

    async with tether.open_nursery() as nursery:
        await primitive.acquire()
        nursery.start_soon(waiter)
        await wait_all_tasks_blocked()
        primitive.release()
        scope.cancel()
    assert events == ["acquired", "released"]
    assert scope.cancelled_caught
    primitive.acquire_nowait()
    primitive.release()


@lock_factories
async def test_async_context_manager_releases_on_error(factory: Callable[[], Any]) -> None:
    primitive = factory()
    with pytest.raises(KeyError):
        async with primitive:
            raise KeyError("boom")
    primitive.acquire_nowait()
    primitive.release()


# ---------------------------------------------------------------------------------------
# Lock and StrictFIFOLock


@pytest.mark.parametrize("lock_type", [tether.Lock, tether.StrictFIFOLock])
async def test_lock_ownership_and_statistics(lock_type: type[Any]) -> None:
    lock = lock_type()
    assert not lock.locked()
    stats = lock.statistics()
    assert (stats.locked, stats.owner, stats.tasks_waiting) == (False, None, 0)
    assert "unlocked" in repr(lock)
    me = tether.lowlevel.current_task()

    await lock.acquire()
    assert lock.locked()
    assert lock.statistics().owner is me
    assert "locked" in repr(lock)

    # Not re-entrant: a clear error rather than a deadlock.
    with pytest.raises(RuntimeError):
        lock.acquire_nowait()
    with pytest.raises(RuntimeError):
        await lock.acquire()

    async def other_releases() -> None:
        with pytest.raises(RuntimeError):
            lock.release()

    async def other_waits() -> None:
        async with lock:
            pass

    async with tether.open_nursery() as nursery:
        nursery.start_soon(other_releases)
        nursery.start_soon(other_waits)
        await wait_all_tasks_blocked()
        stats = lock.statistics()
        assert (stats.locked, stats.owner, stats.tasks_waiting) == (True, me, 1)
        lock.release()
        # Handed over: the waiter owns it now, before it has run.
        assert lock.locked()
        assert lock.statistics().owner is not me
    assert not lock.locked()


@pytest.mark.parametrize("lock_type", [tether.Lock, tether.StrictFIFOLock])
async def test_lock_release_when_not_held(lock_type: type[Any]) -> None:
    lock = lock_type()
    with pytest.raises(RuntimeError):
        lock.release()


# ---------------------------------------------------------------------------------------
# Semaphore


async def test_semaphore_counting() -> None:
    sem = tether.Semaphore(2)
    assert sem.value == 2
    assert sem.max_value is None
    sem.acquire_nowait()
    await sem.acquire()
    assert sem.value == 0
    with pytest.raises(tether.WouldBlock):
        sem.acquire_nowait()
    sem.release()
    sem.release()
    sem.release()  # unbounded: may go above the initial value
    assert sem.value == 3
    assert "Semaphore(3)" in repr(sem)
    assert sem.statistics().tasks_waiting == 0


async def test_semaphore_release_by_another_task_and_hand_off() -> None:
    sem = tether.Semaphore(0)
    got: list[str] = []

    async def waiter(name: str) -> None:
        await sem.acquire()
        got.append(name)

    async with tether.open_nursery() as nursery:
        nursery.start_soon(waiter, "a")
        await wait_all_tasks_blocked()
        nursery.start_soon(waiter, "b")
        await wait_all_tasks_blocked()
        assert sem.statistics().tasks_waiting == 2
        sem.release()
        assert sem.value == 0  # handed straight to "a"
        sem.release()
        assert sem.value == 0
    assert got == ["a", "b"]


async def test_bounded_semaphore_misuse() -> None:
    sem = tether.Semaphore(1, max_value=2)
    assert sem.max_value == 2
    assert "max_value=2" in repr(sem)
    sem.release()
    with pytest.raises(ValueError, match="too many"):
        sem.release()
    assert sem.value == 2


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((1.0,), {}, TypeError),
        (("1",), {}, TypeError),
        ((True,), {}, TypeError),
        ((-1,), {}, ValueError),
        ((1,), {"max_value": 1.5}, TypeError),
        ((2,), {"max_value": 1}, ValueError),
    ],
)
def test_semaphore_bad_arguments(
    args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        tether.Semaphore(*args, **kwargs)


def test_semaphore_good_arguments() -> None:
    assert tether.Semaphore(0).value == 0
    assert tether.Semaphore(0, max_value=0).max_value == 0
    assert tether.Semaphore(3, max_value=5).value == 3


# ---------------------------------------------------------------------------------------
# CapacityLimiter


async def test_capacity_limiter_basics() -> None:
    limiter = tether.CapacityLimiter(2)
    assert limiter.total_tokens == 2
    assert limiter.borrowed_tokens == 0
    assert limiter.available_tokens == 2
    me = tether.lowlevel.current_task()

    await limiter.acquire()
    assert limiter.borrowed_tokens == 1
    assert limiter.available_tokens == 1
    # One token per borrower.
    with pytest.raises(RuntimeError):
        await limiter.acquire()
    with pytest.raises(RuntimeError):
        limiter.acquire_nowait()

    limiter.acquire_on_behalf_of_nowait("job-1")
    assert limiter.available_tokens == 0
    with pytest.raises(tether.WouldBlock):
        limiter.acquire_on_behalf_of_nowait("job-2")
    stats = limiter.statistics()
    assert stats.borrowed_tokens == 2
    assert stats.total_tokens == 2
    assert sorted(map(str, stats.borrowers)) == sorted([str(me), "job-1"])
    assert stats.tasks_waiting == 0
    assert "2/2" in repr(limiter)

    limiter.release_on_behalf_of("job-1")
    with pytest.raises(RuntimeError):
        limiter.release_on_behalf_of("job-1")
    limiter.release()
    with pytest.raises(RuntimeError):
        limiter.release()
    assert limiter.borrowed_tokens == 0


async def test_capacity_limiter_release_by_wrong_task() -> None:
    limiter = tether.CapacityLimiter(1)
    await limiter.acquire()

    async def thief() -> None:
        with pytest.raises(RuntimeError):
            limiter.release()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(thief)
    limiter.release()


async def test_capacity_limiter_on_behalf_of_waits_in_order() -> None:
    limiter = tether.CapacityLimiter(1)
    limiter.acquire_on_behalf_of_nowait("holder")
    got: list[str] = []

    async def borrow(name: str) -> None:
        await limiter.acquire_on_behalf_of(name)
        got.append(name)

    async with tether.open_nursery() as nursery:
        for name in ["a", "b", "c"]:
            nursery.start_soon(borrow, name)
            await wait_all_tasks_blocked()
        assert limiter.statistics().tasks_waiting == 3
        # The same borrower cannot queue twice, nor borrow while queued.
        with pytest.raises(RuntimeError):
            await limiter.acquire_on_behalf_of("b")
        with pytest.raises(RuntimeError):
            limiter.acquire_on_behalf_of_nowait("b")
        limiter.release_on_behalf_of("holder")
        # Recorded as the borrower before "a" even ran.
        assert limiter.statistics().borrowers == ["a"]
        await wait_all_tasks_blocked()
        assert got == ["a"]
        limiter.release_on_behalf_of("a")
        await wait_all_tasks_blocked()
        limiter.release_on_behalf_of("b")
        await wait_all_tasks_blocked()
        limiter.release_on_behalf_of("c")
    assert got == ["a", "b", "c"]
    assert limiter.borrowed_tokens == 0


async def test_capacity_limiter_change_total_tokens() -> None:
    limiter = tether.CapacityLimiter(1)
    limiter.acquire_on_behalf_of_nowait("x")
    got: list[int] = []

    async def borrow(i: int) -> None:
        async with limiter:
            got.append(i)
            await tether.sleep_forever()

    async with tether.open_nursery() as nursery:
        for i in range(4):
            nursery.start_soon(borrow, i)
            await wait_all_tasks_blocked()
        assert limiter.statistics().tasks_waiting == 4
        limiter.total_tokens = 3  # two new tokens: wakes exactly two waiters
        await wait_all_tasks_blocked()
        assert got == [0, 1]
        assert limiter.borrowed_tokens == 3
        limiter.total_tokens = 1  # lower than borrowed: nobody is evicted
        assert limiter.available_tokens == -2
        limiter.release_on_behalf_of("x")
        await wait_all_tasks_blocked()
        assert got == [0, 1]  # still 2 borrowed >= 1 total
        limiter.total_tokens = math.inf
        await wait_all_tasks_blocked()
        assert got == [0, 1, 2, 3]
        assert limiter.available_tokens == math.inf
        nursery.cancel_scope.cancel()
    assert limiter.borrowed_tokens == 0


async def test_capacity_limiter_cancelled_waiter_forgets_borrower() -> None:
    limiter = tether.CapacityLimiter(1)
    limiter.acquire_on_behalf_of_nowait("holder")
    with tether.CancelScope() as scope:
        async with tether.open_nursery() as nursery:

            async def cancel_soon() -> None:
                await wait_all_tasks_blocked()
                scope.cancel()

            nursery.start_soon(cancel_soon)
            await limiter.acquire_on_behalf_of("waiter")
    assert scope.cancelled_caught
    assert limiter.statistics().tasks_waiting == 0
    limiter.release_on_behalf_of("holder")
    # "waiter" was not recorded as a borrower, and may try again.
    limiter.acquire_on_behalf_of_nowait("waiter")
    assert limiter.statistics().borrowers == ["waiter"]


@pytest.mark.parametrize(
    ("value", "error"),
    [(1.5, TypeError), ("2", TypeError), (None, TypeError), (0, ValueError), (-3, ValueError)],
)
async def test_capacity_limiter_bad_total_tokens(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        tether.CapacityLimiter(value)
    limiter = tether.CapacityLimiter(2)
    with pytest.raises(error):
        limiter.total_tokens = value
    assert limiter.total_tokens == 2


def test_capacity_limiter_infinite() -> None:
    assert tether.CapacityLimiter(math.inf).available_tokens == math.inf


# ---------------------------------------------------------------------------------------
# Condition


async def test_condition_wait_and_notify() -> None:
    cond = tether.Condition()
    assert not cond.locked()
    ready = False
    seen: list[int] = []

    async def waiter(i: int) -> None:
        async with cond:
            while not ready:
                await cond.wait()
            assert cond.locked()
            seen.append(i)

    async with tether.open_nursery() as nursery:
        for i in range(4):
            nursery.start_soon(waiter, i)
            await wait_all_tasks_blocked()
        stats = cond.statistics()
        assert stats.tasks_waiting == 4
        assert not stats.lock_statistics.locked
        async with cond:
            ready = True
            cond.notify()
            assert cond.statistics().tasks_waiting == 3
            # Notified tasks wait for the lock we hold.
            assert cond.statistics().lock_statistics.tasks_waiting == 1
            cond.notify(2)
            await wait_all_tasks_blocked()
            assert seen == []
        await wait_all_tasks_blocked()
        assert seen == [0, 1, 2]
        async with cond:
            cond.notify_all()
    assert seen == [0, 1, 2, 3]
    assert "Condition" in repr(cond)


async def test_condition_with_explicit_lock() -> None:
    lock = tether.Lock()
    cond = tether.Condition(lock)
    await cond.acquire()
    assert lock.locked()
    assert cond.locked()
    cond.release()
    assert not lock.locked()
    cond.acquire_nowait()
    assert lock.statistics().owner is tether.lowlevel.current_task()
    cond.release()


async def test_condition_misuse() -> None:
    with pytest.raises(TypeError):
        tether.Condition(tether.StrictFIFOLock())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tether.Condition(tether.Semaphore(1))  # type: ignore[arg-type]
    cond = tether.Condition()
    with pytest.raises(RuntimeError):
        await cond.wait()
    with pytest.raises(RuntimeError):
        cond.notify()
    with pytest.raises(RuntimeError):
        cond.notify_all()
    with pytest.raises(RuntimeError):
        cond.release()


@pytest.mark.parametrize("notified_first", [False, True])
async def test_condition_wait_cancelled_retakes_lock(notified_first: bool) -> None:
    cond = tether.Condition()
    scope = tether.CancelScope()
    events: list[str] = []

    async def waiter() -> None:
        with scope:
            async with cond:
                try:
                    await cond.wait()
                finally:
                    # Whatever happened, wait() leaves the lock held by this task.
                    assert cond.statistics().lock_statistics.owner is tether.lowlevel.current_task()
                    events.append("holding")
        events.append("left")

    async with tether.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await wait_all_tasks_blocked()
        async with cond:
            if notified_first:
                cond.notify()  # now queued on the lock we hold
            scope.cancel()
            await wait_all_tasks_blocked()
            # It cannot leave before it has the lock back.
            assert events == []
        await wait_all_tasks_blocked()
    assert events == ["holding", "left"]
    assert scope.cancelled_caught
    assert not cond.locked()


async def test_condition_notify_wakes_in_fifo_order() -> None:
    cond = tether.Condition()
    order: list[int] = []

    async def waiter(i: int) -> None:
        async with cond:
            await cond.wait()
            order.append(i)

    async with tether.open_nursery() as nursery:
        for i in range(5):
            nursery.start_soon(waiter, i)
            await wait_all_tasks_blocked()
        for _ in range(5):
            async with cond:
                cond.notify()
            await wait_all_tasks_blocked()
    assert order == [0, 1, 2, 3, 4]


# ---------------------------------------------------------------------------------------
# Cancellation at every await: a randomized-free sweep over where the cancel lands


@pytest.mark.parametrize("cancel_after", range(10))
@lock_factories
async def test_cancellation_anywhere_keeps_state_consistent(
    factory: Callable[[], Any], cancel_after: int
) -> None:
    # Three tasks hammer one primitive; one of them is cancelled after `cancel_after`
    # scheduling rounds, wherever it happens to be. Afterwards the primitive must be free.
    primitive = factory()
    scope = tether.CancelScope()

    async def worker(cancellable: bool) -> None:
        with scope if cancellable else tether.CancelScope():
            for _ in range(4):
                async with primitive:
                    await tether.checkpoint()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(worker, True)
        nursery.start_soon(worker, False)
        nursery.start_soon(worker, False)
        for _ in range(cancel_after):
            await tether.checkpoint()
        scope.cancel()
    primitive.acquire_nowait()
    primitive.release()
    assert _waiting(primitive) == 0


async def test_timeouts_interrupt_waits(autojump_clock: tether.testing.MockClock) -> None:
    lock = tether.Lock()
    limiter = tether.CapacityLimiter(1)
    event = tether.Event()

    async def hold_forever() -> None:
        async with lock:
            await tether.sleep_forever()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(hold_forever)
        await wait_all_tasks_blocked()
        limiter.acquire_on_behalf_of_nowait("someone")
        start = tether.current_time()
        with tether.move_on_after(5) as scope:
            await lock.acquire()
        assert scope.cancelled_caught
        with pytest.raises(tether.TooSlowError):
            with tether.fail_after(5):
                await limiter.acquire()
        with tether.move_on_after(5):
            await event.wait()
        assert tether.current_time() - start == pytest.approx(15)
        assert lock.statistics().tasks_waiting == 0
        assert limiter.statistics().tasks_waiting == 0
        nursery.cancel_scope.cancel()
    assert not lock.locked()
