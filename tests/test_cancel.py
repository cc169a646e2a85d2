"""Cancel scopes: level-triggered cancellation, shielding, deadlines and their bookkeeping."""

import contextlib
import math
import sys

import pytest

import tether
from _helpers import leaf_exceptions
from tether.testing import wait_all_tasks_blocked


def test_cancelled_cannot_be_constructed():
    with pytest.raises(TypeError):
        tether.Cancelled()
    assert issubclass(tether.Cancelled, BaseException)
    assert not issubclass(tether.Cancelled, Exception)


def test_new_scope_defaults():
    scope = tether.CancelScope()
    assert scope.deadline == math.inf
    assert scope.shield is False
    assert scope.cancel_called is False
    assert scope.cancelled_caught is False


async def test_cancel_takes_effect_at_the_next_checkpoint():
    reached = []
    with tether.CancelScope() as scope:
        scope.cancel()
        reached.append("cancel() itself does not raise")
        await tether.checkpoint()
        reached.append("unreachable")
    assert reached == ["cancel() itself does not raise"]
    assert scope.cancel_called
    assert scope.cancelled_caught


async def test_cancellation_is_level_triggered():
    raised = 0
    with tether.CancelScope() as scope:
        scope.cancel()
        for _ in range(3):
            try:
                await tether.checkpoint()
            except tether.Cancelled:
                raised += 1
        await tether.sleep(0)  # still cancelled: this one escapes to the scope
    assert raised == 3
    assert scope.cancelled_caught
    await tether.checkpoint()  # out of the scope, checkpoints complete again


async def test_cancelled_caught_requires_the_block_to_exit_with_cancelled():
    with tether.CancelScope() as scope:
        scope.cancel()
        try:
            await tether.checkpoint()
        except tether.Cancelled:
            pass
    assert scope.cancel_called
    assert not scope.cancelled_caught


async def test_scope_without_checkpoints_is_not_interrupted():
    with tether.CancelScope() as scope:
        scope.cancel()
        scope.cancel()  # idempotent
    assert scope.cancel_called
    assert not scope.cancelled_caught


async def test_cancel_before_entering_applies_on_entry():
    scope = tether.CancelScope()
    scope.cancel()
    with scope:
        await tether.checkpoint()
        pytest.fail("a pre-cancelled scope let a checkpoint through")
    assert scope.cancelled_caught


async def test_except_exception_does_not_catch_cancelled():
    with tether.CancelScope() as scope:
        scope.cancel()
        try:
            await tether.checkpoint()
        except Exception:
            pytest.fail("Cancelled was caught by 'except Exception'")
    assert scope.cancelled_caught


async def test_other_exceptions_pass_through_a_cancelled_scope():
    scope = tether.CancelScope()

    async def fail_in_cancelled_scope():
        with scope:
            scope.cancel()
            raise ValueError("not a cancellation")

    with pytest.raises(ValueError, match="not a cancellation"):
        await fail_in_cancelled_scope()
    assert not scope.cancelled_caught


async def test_inner_scope_cancellation_does_not_affect_the_outer_scope():
    with tether.CancelScope() as outer:
        with tether.CancelScope() as inner:
            inner.cancel()
            await tether.checkpoint()
        await tether.checkpoint()
    assert inner.cancelled_caught
    assert not outer.cancel_called
    assert not outer.cancelled_caught


async def test_outer_cancellation_is_caught_by_the_outer_scope():
    with tether.CancelScope() as outer:
        with tether.CancelScope() as inner:
            outer.cancel()
            await tether.checkpoint()
    assert outer.cancelled_caught
    assert not inner.cancel_called
    assert not inner.cancelled_caught


async def test_cancel_wakes_a_task_parked_in_another_task():
    events = []

    async def sleeper(scope):
        with scope:
            await tether.sleep_forever()
        events.append(scope.cancelled_caught)

    scope = tether.CancelScope()
    async with tether.open_nursery() as nursery:
        nursery.start_soon(sleeper, scope)
        await wait_all_tasks_blocked()
        assert events == []
        scope.cancel()
    assert events == [True]


async def test_cancelled_children_do_not_leak_an_exception_group():
    with tether.CancelScope() as scope:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(tether.sleep_forever)
            nursery.start_soon(tether.sleep_forever)
            await wait_all_tasks_blocked()
            scope.cancel()
            await tether.sleep_forever()
    assert scope.cancelled_caught


async def test_scope_removes_only_its_cancelled_from_a_group():
    async def fails_when_cancelled():
        try:
            await tether.sleep_forever()
        except tether.Cancelled:
            raise ValueError("cleanup failed") from None

    async def cancel_both_children():
        with tether.CancelScope() as scope:
            async with tether.open_nursery() as nursery:
                nursery.start_soon(tether.sleep_forever)
                nursery.start_soon(fails_when_cancelled)
                await wait_all_tasks_blocked()
                scope.cancel()

    with pytest.raises(BaseExceptionGroup) as excinfo:
        await cancel_both_children()
    [error] = leaf_exceptions(excinfo.value)
    assert isinstance(error, ValueError)


# --- shielding --------------------------------------------------------------------------


async def test_shield_keeps_outer_cancellation_out(autojump_clock):
    progress = []
    with tether.CancelScope() as outer:
        outer.cancel()
        with tether.CancelScope(shield=True) as inner:
            await tether.sleep(1)
            progress.append("shielded sleep finished")
        await tether.checkpoint()
        progress.append("unreachable")
    assert progress == ["shielded sleep finished"]
    assert outer.cancelled_caught
    assert not inner.cancelled_caught


async def test_shielded_scope_can_still_cancel_itself():
    with tether.CancelScope() as outer:
        with tether.CancelScope(shield=True) as inner:
            inner.cancel()
            await tether.checkpoint()
    assert inner.cancelled_caught
    assert not outer.cancel_called


async def test_removing_the_shield_while_parked_delivers_the_cancellation():
    events = []
    outer = tether.CancelScope()
    inner = tether.CancelScope(shield=True)

    async def worker():
        with outer:
            with inner:
                events.append("parked")
                await tether.sleep_forever()
        events.append(("outer caught", outer.cancelled_caught))

    async with tether.open_nursery() as nursery:
        nursery.start_soon(worker)
        await wait_all_tasks_blocked()
        outer.cancel()
        await wait_all_tasks_blocked()
        assert events == ["parked"]  # the shield holds
        inner.shield = False
    assert events == ["parked", ("outer caught", True)]
    assert not inner.cancelled_caught


async def test_adding_the_shield_while_parked_blocks_later_cancellation():
    events = []
    outer = tether.CancelScope()
    inner = tether.CancelScope()

    async def worker():
        with outer:
            with inner:
                await tether.sleep_forever()
        events.append("woke up")

    async with tether.open_nursery() as nursery:
        nursery.start_soon(worker)
        await wait_all_tasks_blocked()
        inner.shield = True
        outer.cancel()
        await wait_all_tasks_blocked()
        assert events == []
        assert inner.shield is True
        inner.shield = False
    assert events == ["woke up"]
    assert outer.cancelled_caught


# --- deadlines ---------------------------------------------------------------------------


async def test_deadline_expiry_cancels_the_scope(autojump_clock):
    start = tether.current_time()
    with tether.CancelScope(deadline=start + 5) as scope:
        await tether.sleep_forever()
    assert scope.cancelled_caught
    assert scope.cancel_called
    assert tether.current_time() == pytest.approx(start + 5)


async def test_deadline_in_the_past_cancels_at_the_first_checkpoint(autojump_clock):
    start = tether.current_time()
    with tether.CancelScope(deadline=start - 1) as scope:
        await tether.checkpoint()
    assert scope.cancelled_caught
    assert tether.current_time() == start


async def test_moving_the_deadline_earlier_wakes_a_parked_task(autojump_clock):
    start = tether.current_time()
    scope = tether.CancelScope(deadline=start + 10)
    woke_at = []

    async def worker():
        with scope:
            await tether.sleep_forever()
        woke_at.append(tether.current_time())

    async with tether.open_nursery() as nursery:
        nursery.start_soon(worker)
        await tether.sleep(1)
        scope.deadline = start + 3
    assert woke_at == [pytest.approx(start + 3)]
    assert scope.cancelled_caught


async def test_moving_the_deadline_later_keeps_the_task_parked(autojump_clock):
    start = tether.current_time()
    scope = tether.CancelScope(deadline=start + 2)
    woke_at = []

    async def worker():
        with scope:
            await tether.sleep_forever()
        woke_at.append(tether.current_time())

    async with tether.open_nursery() as nursery:
        nursery.start_soon(worker)
        await tether.sleep(1)
        scope.deadline = start + 5
        assert scope.deadline == start + 5
    assert woke_at == [pytest.approx(start + 5)]


async def test_removing_the_deadline_keeps_the_task_parked(autojump_clock):
    start = tether.current_time()
    scope = tether.CancelScope(deadline=start + 2)
    woke_at = []

    async def worker():
        with scope:
            await tether.sleep_forever()
        woke_at.append(tether.current_time())

    async with tether.open_nursery() as nursery:
        nursery.start_soon(worker)
        await tether.sleep(1)
        scope.deadline = math.inf
        await tether.sleep(100)
        assert woke_at == []
        scope.cancel()
    assert woke_at == [pytest.approx(start + 101)]


async def test_current_effective_deadline(autojump_clock):
    assert tether.current_effective_deadline() == math.inf
    now = tether.current_time()
    with tether.CancelScope(deadline=now + 5):
        assert tether.current_effective_deadline() == now + 5
        with tether.CancelScope(deadline=now + 10):
            assert tether.current_effective_deadline() == now + 5
            with tether.CancelScope(deadline=now + 2):
                assert tether.current_effective_deadline() == now + 2
            with tether.CancelScope(shield=True):
                assert tether.current_effective_deadline() == math.inf
        with tether.CancelScope() as cancelled:
            cancelled.cancel()
            assert tether.current_effective_deadline() == -math.inf
    assert tether.current_effective_deadline() == math.inf


async def test_deeply_nested_scopes():
    depth = 3 * sys.getrecursionlimit()
    with contextlib.ExitStack() as stack:
        scopes = [stack.enter_context(tether.CancelScope()) for _ in range(depth)]
        scopes[0].cancel()
        with pytest.raises(tether.Cancelled):
            await tether.checkpoint()
        assert tether.current_effective_deadline() == -math.inf
    assert scopes[0].cancel_called
    assert not any(scope.cancel_called for scope in scopes[1:])


# --- misuse ------------------------------------------------------------------------------


async def test_a_scope_cannot_be_entered_twice():
    scope = tether.CancelScope()
    with scope:
        await tether.checkpoint()
    with pytest.raises(RuntimeError):
        scope.__enter__()


async def test_a_scope_cannot_be_entered_while_already_active():
    with tether.CancelScope() as scope:
        with pytest.raises(RuntimeError):
            scope.__enter__()
        await tether.checkpoint()
    assert not scope.cancelled_caught
