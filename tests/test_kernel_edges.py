"""The kernel's edges: misuse that must fail clearly, rarely taken paths of the run loop,
nursery.start(), parking lots, instruments, RunVar, MockClock and the Sequencer."""

from __future__ import annotations

import contextlib
import logging
import pickle
import signal
import types
from collections.abc import Generator
from typing import Any

import pytest

import tether
from _helpers import leaf_exceptions
from tether.lowlevel import (
    Abort,
    ParkingLot,
    ParkingLotStatistics,
    RunVar,
    Task,
    add_instrument,
    add_parking_lot_breaker,
    cancel_shielded_checkpoint,
    checkpoint_if_cancelled,
    current_task,
    currently_ki_protected,
    enable_ki_protection,
    remove_instrument,
    remove_parking_lot_breaker,
    reschedule,
    spawn_system_task,
    wait_task_rescheduled,
)
from tether.testing import MockClock, Sequencer, wait_all_tasks_blocked


@types.coroutine
def _yield_foreign(value: object) -> Generator[Any, Any, Any]:
    """What awaiting another library's future looks like to the kernel."""
    return (yield value)


# -- tether.run and the run loop ----------------------------------------------------------


def test_run_rejects_what_is_not_an_async_function() -> None:
    async def fine() -> None:
        pass

    def generator() -> Generator[None, None, None]:
        yield

    with pytest.raises(TypeError, match="expected an async function"):
        tether.run(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="generator function"):
        tether.run(generator)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"tether\.abc\.Clock"):
        tether.run(fine, clock=object())  # type: ignore[arg-type]


def test_checkpoint_if_cancelled_outside_a_run_is_an_error() -> None:
    coro = checkpoint_if_cancelled()
    with pytest.raises(RuntimeError, match=r"inside tether\.run"):
        coro.send(None)


async def test_awaiting_another_librarys_awaitable_raises_typeerror_in_the_task() -> None:
    with pytest.raises(TypeError, match=r"yielded 42 \(builtins\.int\).*another async library"):
        await _yield_foreign(42)
    await tether.checkpoint()  # the task carries on normally


async def test_rescheduling_a_task_that_is_not_blocked_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not blocked"):
        reschedule(current_task())


async def test_sleep_forever_woken_without_cancellation_is_an_error() -> None:
    tasks: list[Task] = []

    async def sleeper() -> None:
        tasks.append(current_task())
        await tether.sleep_forever()

    async def run_it() -> None:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(sleeper)
            await wait_all_tasks_blocked()
            reschedule(tasks[0])

    with pytest.raises(BaseExceptionGroup) as info:
        await run_it()
    (error,) = leaf_exceptions(info.value)
    assert isinstance(error, RuntimeError)
    assert "rescheduled without being cancelled" in str(error)


async def test_an_abort_function_must_return_abort() -> None:
    async def bad_abort_waiter() -> None:
        await wait_task_rescheduled(lambda _: None)  # type: ignore[arg-type,return-value]

    async with tether.open_nursery() as nursery:
        nursery.start_soon(bad_abort_waiter)
        await wait_all_tasks_blocked()
        with pytest.raises(TypeError, match=r"must return tether\.lowlevel\.Abort"):
            nursery.cancel_scope.cancel()  # delivery runs the abort function right here
        # Let the waiter go, so the nursery can finish.
        (task,) = nursery.child_tasks
        reschedule(task)
    with pytest.raises(TypeError, match="must be callable"):
        await wait_task_rescheduled(None)  # type: ignore[arg-type]


def test_a_crash_inside_the_run_loop_is_a_tether_internal_error() -> None:
    closed: list[bool] = []

    def exploding_abort(_: object) -> Abort:
        raise ValueError("abort function bug")

    async def waiter() -> None:
        try:
            with tether.move_on_after(1):
                await wait_task_rescheduled(exploding_abort)
        finally:
            closed.append(True)  # the leftover coroutine is closed, so this runs

    async def main() -> None:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(waiter)

    with pytest.raises(tether.TetherInternalError, match="run loop itself crashed") as info:
        tether.run(main, clock=MockClock(autojump_threshold=0))
    assert isinstance(info.value.__cause__, ValueError)
    assert closed == [True]


def test_a_sigint_handler_installed_during_the_run_is_left_in_place() -> None:
    def mine(signum: int, frame: object) -> None:
        pass

    async def main() -> None:
        signal.signal(signal.SIGINT, mine)

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    try:
        tether.run(main)
        assert signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


async def test_schedule_points_are_reported_to_instruments() -> None:
    scheduled: list[Task] = []

    class Watcher(tether.abc.Instrument):
        def task_scheduled(self, task: Task) -> None:
            scheduled.append(task)

    watcher = Watcher()
    add_instrument(watcher)
    try:
        with tether.CancelScope() as scope:
            scope.cancel()
            await cancel_shielded_checkpoint()  # not a cancellation point
    finally:
        remove_instrument(watcher)
    assert current_task() in scheduled
    assert not scope.cancelled_caught


def test_no_system_task_can_start_once_the_run_is_over() -> None:
    errors: list[BaseException] = []

    async def noop() -> None:
        pass

    class LateSpawner(tether.abc.Instrument):
        def after_run(self) -> None:
            try:
                spawn_system_task(noop)
            except RuntimeError as exc:
                errors.append(exc)

    async def main() -> None:
        pass

    tether.run(main, instruments=[LateSpawner()])
    assert len(errors) == 1
    assert "system nursery is not open" in str(errors[0])


# -- instruments -----------------------------------------------------------------------------


def test_instruments_must_be_instruments() -> None:
    async def main() -> None:
        pass

    with pytest.raises(TypeError, match=r"tether\.abc\.Instrument"):
        tether.run(main, instruments=[object()])  # type: ignore[list-item]


async def test_a_failing_instrument_is_removed_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []

    class Broken(tether.abc.Instrument):
        def before_task_step(self, task: Task) -> None:
            calls.append("step")
            raise RuntimeError("instrument bug")

    broken = Broken()
    with caplog.at_level(logging.ERROR, logger="tether.abc.Instrument"):
        add_instrument(broken)
        add_instrument(broken)  # already there: no-op
        await tether.checkpoint()
        await tether.checkpoint()
    assert calls == ["step"]  # called once, then removed
    assert "raised in before_task_step and was removed" in caplog.text
    with pytest.raises(KeyError):
        remove_instrument(broken)


# -- nurseries and start() -------------------------------------------------------------------


def test_open_nursery_needs_a_run_and_async_with() -> None:
    with pytest.raises(RuntimeError, match=r"inside tether\.run"):
        tether.open_nursery()


async def test_open_nursery_with_plain_with_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="async with"), tether.open_nursery():  # type: ignore[attr-defined]
        pytest.fail("unreachable")


async def test_nursery_and_task_status_reprs() -> None:
    assert repr(tether.TASK_STATUS_IGNORED) == "TASK_STATUS_IGNORED"
    seen: list[str] = []

    async def child(task_status: tether.TaskStatus[None] = tether.TASK_STATUS_IGNORED) -> None:
        seen.append(repr(task_status))
        task_status.started()

    async with tether.open_nursery() as nursery:
        assert repr(nursery).startswith(f"<tether.Nursery of {current_task()!r}, 0 children")
        await nursery.start(child, name="the-child")
    assert seen[0].startswith("<TaskStatus for <Task 'the-child'")


async def test_nonstrict_nursery_raises_the_bodys_own_exception_object() -> None:
    error = ValueError("from the body")

    release = tether.Event()

    async def finishes_cleanly() -> None:
        with tether.CancelScope(shield=True):
            await release.wait()

    async def body() -> None:
        async with tether.open_nursery(strict_exception_groups=False) as nursery:
            nursery.start_soon(finishes_cleanly)
            await wait_all_tasks_blocked()
            release.set()
            raise error

    with pytest.raises(ValueError, match="from the body") as info:
        await body()
    assert info.value is error


async def test_cancelling_the_new_nursery_reaches_scopes_opened_before_started(
    autojump_clock: MockClock,
) -> None:
    inner_scopes: list[tether.CancelScope] = []

    async def child(task_status: tether.TaskStatus[None] = tether.TASK_STATUS_IGNORED) -> None:
        with tether.CancelScope() as scope:
            inner_scopes.append(scope)
            task_status.started()
            await tether.sleep_forever()

    async with tether.open_nursery() as nursery:
        await nursery.start(child)
        await wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    # The child's own scope moved below the nursery's: the nursery's cancellation reached
    # it, and it was not the child's scope that caught the Cancelled.
    assert not inner_scopes[0].cancelled_caught
    assert nursery.cancel_scope.cancelled_caught


async def test_started_after_the_start_call_was_cancelled_leaves_the_child_behind() -> None:
    proceed = tether.Event()
    where: list[tether.Nursery | None] = []

    async def slow_starter(
        task_status: tether.TaskStatus[None] = tether.TASK_STATUS_IGNORED,
    ) -> None:
        with tether.CancelScope(shield=True):
            await proceed.wait()
        task_status.started()  # too late: the start() call was cancelled meanwhile
        where.append(current_task().parent_nursery)
        await tether.checkpoint()  # the caller's cancellation applies here

    async with tether.open_nursery() as nursery:
        with tether.CancelScope() as scope:

            async def cancel_then_release() -> None:
                await wait_all_tasks_blocked()
                scope.cancel()
                proceed.set()

            nursery.start_soon(cancel_then_release)
            await nursery.start(slow_starter)
        assert scope.cancelled_caught
    assert len(where) == 1
    assert where[0] is not nursery  # it never moved into the target nursery


@pytest.mark.parametrize("opens_a_scope", [False, True])
async def test_starting_into_an_already_cancelled_nursery_cancels_the_child(
    opens_a_scope: bool,
) -> None:
    release = tether.Event()
    outcome: list[str] = []

    async def keep_open() -> None:
        with tether.CancelScope(shield=True):
            await release.wait()

    async def child(task_status: tether.TaskStatus[str] = tether.TASK_STATUS_IGNORED) -> None:
        with tether.CancelScope() if opens_a_scope else contextlib.nullcontext():
            task_status.started("started")
            try:
                await tether.sleep_forever()
            except tether.Cancelled:
                outcome.append("child cancelled")
                raise

    holder: list[tether.Nursery] = []

    async def host(task_status: tether.TaskStatus[None] = tether.TASK_STATUS_IGNORED) -> None:
        async with tether.open_nursery() as target:
            target.start_soon(keep_open)
            holder.append(target)
            target.cancel_scope.cancel()
            task_status.started()

    async with tether.open_nursery() as outer:
        await outer.start(host)
        target = holder[0]
        # `target` is cancelled but still open (keep_open is shielded). Starting into it
        # from outside: the child moves in at started() and is cancelled at once.
        assert await target.start(child) == "started"
        await wait_all_tasks_blocked()
        assert outcome == ["child cancelled"]
        release.set()


async def test_started_after_the_target_nursery_closed_is_an_error() -> None:
    statuses: list[tether.TaskStatus[None]] = []
    errors: list[BaseException] = []

    async def hands_off(task_status: tether.TaskStatus[None] = tether.TASK_STATUS_IGNORED) -> None:
        statuses.append(task_status)  # and returns without calling started()

    async with tether.open_nursery() as target:
        with pytest.raises(RuntimeError, match=r"without calling task_status\.started"):
            await target.start(hands_off)
    try:
        statuses[0].started()
    except RuntimeError as exc:
        errors.append(exc)
    assert "closed before started() was called" in str(errors[0])


# -- parking lots ------------------------------------------------------------------------------


async def test_parking_lot_argument_checks_and_repr() -> None:
    lot = ParkingLot()
    assert repr(lot) == "<ParkingLot with 0 parked>"
    assert not lot
    with pytest.raises(ValueError, match=r"int or math\.inf"):
        lot.unpark(count=1.5)
    with pytest.raises(ValueError, match="non-negative"):
        lot.unpark(count=-1)
    with pytest.raises(TypeError, match="ParkingLot"):
        lot.repark([])  # type: ignore[arg-type]
    assert lot.unpark(count=float("inf")) == []


async def test_break_lot_wakes_waiters_and_fails_later_parks() -> None:
    lot = ParkingLot()
    results: list[str] = []

    async def waiter() -> None:
        try:
            await lot.park()
        except tether.BrokenResourceError:
            results.append("broken")

    async with tether.open_nursery() as nursery:
        nursery.start_soon(waiter)
        nursery.start_soon(waiter)
        await wait_all_tasks_blocked()
        assert repr(lot) == "<ParkingLot with 2 parked>"
        lot.break_lot()
        lot.break_lot()  # the same culprit again: no-op
    assert results == ["broken", "broken"]
    assert lot.broken_by == [current_task()]
    with pytest.raises(tether.BrokenResourceError, match="broken by"):
        await lot.park()


async def test_a_breaker_task_exiting_breaks_the_lot() -> None:
    lot = ParkingLot()
    other = ParkingLot()
    got: list[BaseException] = []
    owners: list[Task] = []

    async def owner() -> None:
        me = current_task()
        owners.append(me)
        add_parking_lot_breaker(me, lot)
        add_parking_lot_breaker(me, other)
        remove_parking_lot_breaker(me, other)  # `other` stays intact
        await tether.sleep(0)

    async def waiter() -> None:
        try:
            await lot.park()
        except tether.BrokenResourceError as exc:
            got.append(exc)

    async with tether.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await wait_all_tasks_blocked()
        nursery.start_soon(owner)
    assert len(got) == 1
    assert lot.broken_by == owners
    assert other.broken_by == []
    with pytest.raises(ValueError, match="not registered"):
        remove_parking_lot_breaker(owners[0], other)
    # Registering a task that has already exited breaks the lot at once.
    late = ParkingLot()
    add_parking_lot_breaker(owners[0], late)
    assert late.broken_by == owners


async def test_breaking_a_lot_drops_its_breaker_registration() -> None:
    lot = ParkingLot()
    me = current_task()
    add_parking_lot_breaker(me, lot)
    lot.break_lot()
    with pytest.raises(ValueError, match="not registered"):
        remove_parking_lot_breaker(me, lot)


async def test_statistics_records_compare_hash_match_and_pickle() -> None:
    lot = ParkingLot()
    stats = lot.statistics()
    assert stats == ParkingLotStatistics(tasks_waiting=0)
    assert stats != ParkingLotStatistics(tasks_waiting=1)
    assert stats != "tasks_waiting=0"
    assert hash(stats) == hash(ParkingLotStatistics(0))
    assert repr(stats) == "ParkingLotStatistics(tasks_waiting=0)"
    match stats:
        case ParkingLotStatistics(waiting):
            assert waiting == 0
    with pytest.raises(AttributeError, match="read-only"):
        stats.tasks_waiting = 3  # type: ignore[misc]
    with pytest.raises(AttributeError, match="read-only"):
        del stats.tasks_waiting  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(stats)) == stats


# -- tasks ------------------------------------------------------------------------------------


async def test_task_name_can_be_changed_and_is_a_string() -> None:
    me = current_task()
    original = me.name
    me.name = 123  # type: ignore[assignment]
    assert me.name == "123"
    me.name = original


async def test_await_stack_stops_at_an_async_generator_and_is_empty_when_done() -> None:
    async def agen() -> Any:
        await tether.sleep_forever()
        yield  # pragma: no cover

    tasks: list[Task] = []

    async def iterate() -> None:
        tasks.append(current_task())
        async for _ in agen():
            pass  # pragma: no cover

    async with tether.open_nursery() as nursery:
        nursery.start_soon(iterate)
        await wait_all_tasks_blocked()
        frames = [frame.f_code.co_name for frame, _ in tasks[0].iter_await_frames()]
        # The coroutine's own frame; the generator's frames are not reachable from it.
        assert frames == ["iterate"]
        nursery.cancel_scope.cancel()
    assert list(tasks[0].iter_await_frames()) == []


# -- KeyboardInterrupt protection markers ----------------------------------------------------


def test_ki_protection_markers_look_through_wrappers() -> None:
    def check() -> bool:
        return currently_ki_protected()

    # No code object of its own: the marker goes on the function it wraps.
    enable_ki_protection(staticmethod(check))
    assert check() is True
    with pytest.raises(TypeError, match="cannot change KeyboardInterrupt protection"):
        enable_ki_protection(len)
    assert currently_ki_protected() is False  # plain code outside tether


# -- RunVar --------------------------------------------------------------------------------


async def test_runvar_get_set_reset() -> None:
    var: RunVar[int] = RunVar("counter")
    other: RunVar[int] = RunVar("other", default=7)
    assert var.name == "counter"
    assert repr(var) == "<RunVar name='counter'>"
    with pytest.raises(LookupError):
        var.get()
    assert var.get(5) == 5
    assert other.get() == 7
    token = var.set(1)
    assert token.var is var
    second = var.set(2)
    assert var.get() == 2
    var.reset(second)
    assert var.get() == 1
    with pytest.raises(ValueError, match="already been used"):
        var.reset(second)
    with pytest.raises(ValueError, match="different RunVar"):
        other.reset(token)
    with pytest.raises(TypeError, match="RunVarToken"):
        var.reset(object())  # type: ignore[arg-type]
    var.reset(token)
    with pytest.raises(LookupError):
        var.get()


# -- MockClock -----------------------------------------------------------------------------


def test_mock_clock_checks_and_repr() -> None:
    clock = MockClock()
    with pytest.raises(ValueError, match="autojump_threshold"):
        clock.autojump_threshold = -1
    with pytest.raises(ValueError, match="rate"):
        clock.rate = -1
    with pytest.raises(ValueError, match="backwards"):
        clock.jump(-1)
    clock.jump(2.5)
    assert repr(clock).startswith("<MockClock, time=2.5000000, rate=0.0 @ 0x")


async def test_a_mock_clock_that_is_not_the_runs_clock_does_not_drive_the_run() -> None:
    bystander = MockClock(autojump_threshold=0)
    bystander.start_clock()  # not this run's clock: changes nothing here
    bystander.autojump_threshold = 0
    with tether.move_on_after(0.05) as scope:
        await tether.sleep_forever()
    assert scope.cancelled_caught  # the real clock ran the deadline
    assert bystander.current_time() == 0


# -- Sequencer ------------------------------------------------------------------------------


async def test_sequencer_breaks_when_a_waiter_is_cancelled() -> None:
    seq = Sequencer()
    events: list[str] = []

    async def late() -> None:
        try:
            async with seq(2):
                events.append("2 ran")  # pragma: no cover
        except RuntimeError as exc:
            events.append(f"2: {exc}")

    async with tether.open_nursery() as nursery:
        nursery.start_soon(late)
        with tether.CancelScope() as scope:

            async def wait_for_one() -> None:
                async with seq(1):
                    pass  # pragma: no cover

            async with tether.open_nursery() as inner:
                inner.start_soon(wait_for_one)
                await wait_all_tasks_blocked()
                scope.cancel()  # position 1 is cancelled while waiting for its turn
    assert events == ["2: Sequencer is broken: a task waiting for its turn was cancelled"]
    with pytest.raises(RuntimeError, match="broken"):
        async with seq(0):
            pass  # pragma: no cover
    with pytest.raises(RuntimeError, match="already used"):
        async with seq(1):
            pass  # pragma: no cover
