"""Cancel scopes, continued: argument checks, relative deadlines, shutdown requests before
and after the block, misuse of the scope stack, and the deadline queue under churn."""

from __future__ import annotations

import math
import re

import pytest

import tether
from _helpers import leaf_exceptions
from tether.lowlevel import current_statistics
from tether.testing import MockClock, wait_all_tasks_blocked

# -- construction and properties ----------------------------------------------------------


def test_constructor_rejects_bad_deadlines() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        tether.CancelScope(relative_deadline=-1)
    with pytest.raises(ValueError, match="both"):
        tether.CancelScope(deadline=5, relative_deadline=1)
    with pytest.raises(ValueError, match="NaN"):
        tether.CancelScope(deadline=math.nan)
    with pytest.raises(ValueError, match="NaN"):
        tether.CancelScope(relative_deadline=math.nan)


def test_shield_must_be_a_bool() -> None:
    scope = tether.CancelScope()
    with pytest.raises(TypeError, match="bool"):
        scope.shield = 1  # type: ignore[assignment]
    scope.shield = True  # allowed before entry
    assert scope.shield


def test_entering_outside_a_run_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="inside a tether task"), tether.CancelScope():
        pytest.fail("unreachable")


async def test_repr_tells_state_cancellation_deadline_and_shield(
    mock_clock: MockClock,
) -> None:
    scope = tether.CancelScope(deadline=12.5, shield=True)
    assert re.fullmatch(
        r"<tether\.CancelScope at 0x[0-9a-f]+, unentered, deadline=12\.5, shielded>", repr(scope)
    )
    with scope:
        assert ", active," in repr(scope)
        scope.cancel()
        assert ", active, cancelled, deadline=12.5, shielded>" in repr(scope)
    assert ", exited, cancelled," in repr(scope)
    assert repr(tether.CancelScope()).endswith(", unentered>")


async def test_is_relative_and_relative_deadline_before_and_after_entry(
    mock_clock: MockClock,
) -> None:
    relative = tether.CancelScope(relative_deadline=5)
    absolute = tether.CancelScope(deadline=tether.current_time() + 100)
    plain = tether.CancelScope()
    assert relative.is_relative is True
    assert absolute.is_relative is False
    assert plain.is_relative is False
    assert relative.relative_deadline == 5
    assert plain.relative_deadline == math.inf
    start = tether.current_time()
    with relative, plain:
        assert relative.is_relative is None
        assert relative.deadline == start + 5
        mock_clock.jump(2)
        assert relative.relative_deadline == pytest.approx(3)
        assert plain.relative_deadline == math.inf


def test_relative_deadline_setter_checks_its_value() -> None:
    scope = tether.CancelScope()
    with pytest.raises(ValueError, match="non-negative"):
        scope.relative_deadline = -0.5
    with pytest.raises(ValueError, match="NaN"):
        scope.relative_deadline = math.nan
    scope.relative_deadline = 3
    assert scope.is_relative
    with pytest.raises(RuntimeError, match="already has an absolute deadline"):
        tether.CancelScope(deadline=10).relative_deadline = 1
    with pytest.raises(RuntimeError, match="relative_deadline"):
        tether.CancelScope(relative_deadline=1).deadline = 10


async def test_setting_relative_deadline_inside_the_block_moves_the_deadline(
    autojump_clock: MockClock,
) -> None:
    start = tether.current_time()
    with tether.CancelScope(relative_deadline=100) as scope:
        scope.relative_deadline = 3  # from now: earlier, so it fires first
        await tether.sleep(50)
    assert scope.cancelled_caught
    assert tether.current_time() == pytest.approx(start + 3)


async def test_setting_relative_deadline_after_the_block_counts_from_now(
    mock_clock: MockClock,
) -> None:
    with tether.CancelScope() as scope:
        pass
    now = tether.current_time()
    scope.relative_deadline = 4
    assert scope.deadline == now + 4
    scope.relative_deadline = math.inf
    assert scope.deadline == math.inf


async def test_cancel_called_notices_a_passed_deadline_before_the_loop_does(
    mock_clock: MockClock,
) -> None:
    with tether.CancelScope(deadline=tether.current_time() + 1) as scope:
        assert not scope.cancel_called
        mock_clock.jump(2)  # no checkpoint yet: the loop has not expired the deadline
        assert scope.cancel_called
        with pytest.raises(tether.Cancelled):
            await tether.checkpoint()
        assert tether.current_effective_deadline() == -math.inf


async def test_changing_the_deadline_of_a_cancelled_scope_changes_nothing_else(
    mock_clock: MockClock,
) -> None:
    with tether.CancelScope() as scope:
        scope.cancel()
        scope.deadline = tether.current_time() + 10
        assert scope.deadline == tether.current_time() + 10
        # A cancelled scope does not sit in the deadline queue.
        assert current_statistics().seconds_to_next_deadline == math.inf
    assert scope.cancel_called


async def test_shielding_a_scope_that_is_cancelled_from_outside_lets_it_run() -> None:
    with tether.CancelScope() as outer:
        outer.cancel()
        with tether.CancelScope() as inner:
            with pytest.raises(tether.Cancelled):
                await tether.checkpoint()
            inner.shield = True
            await tether.checkpoint()  # no longer cancelled
            inner.shield = False
            with pytest.raises(tether.Cancelled):
                await tether.checkpoint()
    assert not inner.cancelled_caught


# -- misuse of the scope stack ---------------------------------------------------------------


async def test_exiting_a_scope_that_is_not_active_is_an_error() -> None:
    scope = tether.CancelScope()
    with pytest.raises(RuntimeError, match="not active"):
        scope.__exit__(None, None, None)
    with scope:
        pass
    with pytest.raises(RuntimeError, match="not active"):
        scope.__exit__(None, None, None)


async def test_exiting_scopes_out_of_order_is_detected() -> None:
    outer = tether.CancelScope()
    inner = tether.CancelScope()
    outer.__enter__()
    inner.__enter__()
    with pytest.raises(RuntimeError, match="stack corrupted"):
        outer.__exit__(None, None, None)
    # Nothing was changed: leaving them in the right order still works.
    assert not inner.__exit__(None, None, None)
    assert not outer.__exit__(None, None, None)


async def test_a_task_returning_with_a_scope_still_open_fails() -> None:
    async def leaves_it_open() -> None:
        tether.CancelScope().__enter__()

    async def leaves_it_open_and_raises() -> None:
        tether.CancelScope().__enter__()
        raise ValueError("the real problem")

    async def run_both() -> None:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(leaves_it_open)
            nursery.start_soon(leaves_it_open_and_raises)

    with pytest.raises(BaseExceptionGroup) as info:
        await run_both()
    errors = leaf_exceptions(info.value)
    assert len(errors) == 2
    assert all(isinstance(e, RuntimeError) and "still open" in str(e) for e in errors)
    contexts = [e.__context__ for e in errors if e.__context__ is not None]
    assert [str(c) for c in contexts] == ["the real problem"]
    # The bookkeeping was unwound: this task's cancellation still works normally.
    with tether.CancelScope() as scope:
        scope.cancel()
        await tether.checkpoint()
    assert scope.cancelled_caught


# -- shutdown requests -------------------------------------------------------------------


def test_request_shutdown_checks_the_grace_period() -> None:
    scope = tether.CancelScope()
    with pytest.raises(ValueError, match="non-negative"):
        scope.request_shutdown(-1)
    with pytest.raises(ValueError, match="NaN"):
        scope.request_shutdown(math.nan)
    assert not scope.shutdown_requested


async def test_shutdown_requested_before_entry_counts_the_grace_from_entry(
    autojump_clock: MockClock,
) -> None:
    scope = tether.CancelScope()
    scope.request_shutdown(5)
    assert scope.shutdown_requested
    await tether.sleep(100)  # the grace period has not started yet
    start = tether.current_time()
    with scope:
        assert tether.shutdown_requested()
        await tether.wait_shutdown_requested()  # already requested: returns at once
        assert tether.current_time() == start
        await tether.sleep(50)
    assert scope.cancelled_caught
    assert tether.current_time() == pytest.approx(start + 5)


async def test_shutdown_requested_before_entry_wins_over_a_later_absolute_deadline(
    autojump_clock: MockClock,
) -> None:
    # "Cancel it grace_period seconds later": a far absolute deadline does not postpone that.
    start = tether.current_time()
    scope = tether.CancelScope(deadline=start + 1000)
    scope.request_shutdown(5)
    with scope:
        await tether.sleep(500)
    assert scope.cancelled_caught
    assert tether.current_time() == pytest.approx(start + 5)
    assert scope.deadline == pytest.approx(start + 5)


async def test_shutdown_requested_before_entry_never_postpones_a_deadline(
    autojump_clock: MockClock,
) -> None:
    start = tether.current_time()
    absolute = tether.CancelScope(deadline=start + 2)
    absolute.request_shutdown(10)
    relative = tether.CancelScope(relative_deadline=3)
    relative.request_shutdown(10)
    relative.request_shutdown(20)  # the shortest grace counts
    with absolute:
        await tether.sleep(50)
    assert tether.current_time() == pytest.approx(start + 2)
    with relative:
        await tether.sleep(50)
    assert tether.current_time() == pytest.approx(start + 5)


async def test_shutdown_request_inside_does_not_postpone_an_earlier_deadline(
    autojump_clock: MockClock,
) -> None:
    start = tether.current_time()
    with tether.CancelScope(deadline=start + 2) as scope:
        scope.request_shutdown(10)
        assert scope.deadline == start + 2
        await tether.sleep(50)
    assert tether.current_time() == pytest.approx(start + 2)


async def test_shutdown_request_after_the_block_only_sets_the_flag(
    mock_clock: MockClock,
) -> None:
    with tether.CancelScope() as scope:
        pass
    scope.request_shutdown(0)
    assert scope.shutdown_requested
    assert scope.deadline == math.inf
    assert not scope.cancel_called


async def test_shutdown_request_wakes_only_the_waiters_it_covers(
    autojump_clock: MockClock,
) -> None:
    woken: list[str] = []
    scopes: list[tether.CancelScope] = []

    async def waiter(name: str, shield: bool) -> None:
        with tether.CancelScope(shield=shield) as scope:
            scopes.append(scope)
            await tether.wait_shutdown_requested()
            woken.append(name)

    async with tether.open_nursery() as outside:
        outside.start_soon(waiter, "unrelated", False)
        async with tether.open_nursery() as inside:
            inside.start_soon(waiter, "inside", False)
            inside.start_soon(waiter, "behind a shield", True)
            await wait_all_tasks_blocked()
            # Ask only the inner nursery's scope: "unrelated" lives outside it, and a
            # shield hides the request as it hides cancellation.
            inside.cancel_scope.request_shutdown(100)
            await wait_all_tasks_blocked()
            assert woken == ["inside"]
            for scope in scopes:
                scope.cancel()
    assert woken == ["inside"]


# -- the deadline queue --------------------------------------------------------------------


async def test_deadlines_stay_right_while_many_scopes_come_and_go(
    autojump_clock: MockClock,
) -> None:
    start = tether.current_time()
    with tether.move_on_after(10) as outer:
        for i in range(300):
            # Each leaves a dead entry in the queue; they are compacted away in bulk.
            with tether.move_on_after(1000 + i):
                await tether.checkpoint()
            if i % 50 == 0:
                stats = current_statistics()
                assert stats.seconds_to_next_deadline == pytest.approx(10)
        with tether.move_on_after(20):
            await tether.sleep_forever()
    assert outer.cancelled_caught
    assert tether.current_time() == pytest.approx(start + 10)
    assert current_statistics().seconds_to_next_deadline == math.inf
