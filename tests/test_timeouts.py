"""Sleeping and timeouts.

Almost every async test takes the ``autojump_clock`` fixture, so time is virtual: the
clock jumps to the next deadline as soon as every task is blocked, and the tests run
instantly.
"""

import math

import pytest

import tether
from tether.testing import assert_checkpoints

BAD_DURATIONS = [-1, -0.001, math.nan]


async def test_sleep_advances_time_by_exactly_the_duration(autojump_clock):
    start = tether.current_time()
    await tether.sleep(5)
    assert tether.current_time() == pytest.approx(start + 5)


async def test_sleep_zero_is_a_checkpoint(autojump_clock):
    with assert_checkpoints():
        await tether.sleep(0)
    with tether.CancelScope() as scope:
        scope.cancel()
        await tether.sleep(0)
    assert scope.cancelled_caught


async def test_sleep_until_wakes_at_the_deadline(autojump_clock):
    start = tether.current_time()
    await tether.sleep_until(start + 7)
    assert tether.current_time() == pytest.approx(start + 7)


async def test_sleep_until_a_past_deadline_returns_at_once_but_checkpoints(autojump_clock):
    start = tether.current_time()
    with assert_checkpoints():
        await tether.sleep_until(start - 10)
    assert tether.current_time() == start


async def test_sleep_forever_only_ends_by_cancellation(autojump_clock):
    start = tether.current_time()
    with tether.move_on_after(1000) as scope:
        await tether.sleep_forever()
    assert scope.cancelled_caught
    assert tether.current_time() == pytest.approx(start + 1000)


async def test_sleep_infinity_sleeps_forever(autojump_clock):
    start = tether.current_time()
    with tether.move_on_after(50) as scope:
        await tether.sleep(math.inf)
    assert scope.cancelled_caught
    assert tether.current_time() == pytest.approx(start + 50)


async def test_move_on_after_sets_a_relative_deadline_and_moves_on(autojump_clock):
    start = tether.current_time()
    reached = []
    with tether.move_on_after(2) as scope:
        assert isinstance(scope, tether.CancelScope)
        assert scope.deadline == pytest.approx(start + 2)
        await tether.sleep(3)
        reached.append("unreachable")
    assert reached == []
    assert scope.cancelled_caught
    assert tether.current_time() == pytest.approx(start + 2)


async def test_move_on_after_does_nothing_when_the_block_is_fast_enough(autojump_clock):
    with tether.move_on_after(2) as scope:
        await tether.sleep(1)
    assert not scope.cancel_called
    assert not scope.cancelled_caught


@pytest.mark.parametrize("timeout", [tether.move_on_after, tether.fail_after])
async def test_relative_timeouts_start_counting_when_entered(autojump_clock, timeout):
    manager = timeout(5)
    await tether.sleep(3)
    entered_at = tether.current_time()
    with manager as scope:
        assert scope.deadline == pytest.approx(entered_at + 5)


async def test_move_on_at_uses_an_absolute_deadline(autojump_clock):
    start = tether.current_time()
    with tether.move_on_at(start + 4) as scope:
        assert scope.deadline == start + 4
        await tether.sleep_forever()
    assert scope.cancelled_caught
    assert tether.current_time() == pytest.approx(start + 4)


async def test_move_on_at_a_past_deadline_cancels_at_the_first_checkpoint(autojump_clock):
    with tether.move_on_at(tether.current_time() - 5) as scope:
        await tether.checkpoint()
    assert scope.cancelled_caught


async def test_fail_after_raises_too_slow_error(autojump_clock):
    async def too_slow():
        with tether.fail_after(1):
            await tether.sleep(2)

    start = tether.current_time()
    with pytest.raises(tether.TooSlowError):
        await too_slow()
    assert tether.current_time() == pytest.approx(start + 1)


async def test_fail_after_is_silent_when_the_block_is_fast_enough(autojump_clock):
    start = tether.current_time()
    with tether.fail_after(2) as scope:
        assert scope.deadline == pytest.approx(start + 2)
        await tether.sleep(1)
    assert not scope.cancelled_caught


async def test_fail_at_raises_too_slow_error_at_the_deadline(autojump_clock):
    start = tether.current_time()

    async def too_slow():
        with tether.fail_at(start + 3):
            await tether.sleep_forever()

    with pytest.raises(tether.TooSlowError):
        await too_slow()
    assert tether.current_time() == pytest.approx(start + 3)


async def test_sleep_never_wakes_early_on_the_real_clock():
    # No autojump_clock: the default clock, and a real (short) wait for the OS to wake us.
    start = tether.current_time()
    await tether.sleep(0.02)
    assert tether.current_time() >= start + 0.02


def test_too_slow_error_is_an_ordinary_exception():
    assert issubclass(tether.TooSlowError, Exception)
    assert not issubclass(tether.TooSlowError, tether.Cancelled)


async def test_outer_move_on_wins_over_a_longer_inner_fail_after(autojump_clock):
    with tether.move_on_after(1) as outer:
        with tether.fail_after(5):
            await tether.sleep(10)
    assert outer.cancelled_caught


async def test_inner_fail_after_error_passes_through_an_outer_move_on(autojump_clock):
    async def nested():
        with tether.move_on_after(5) as outer:
            with tether.fail_after(1):
                await tether.sleep(10)
        return outer

    with pytest.raises(tether.TooSlowError):
        await nested()


async def test_timeouts_set_the_effective_deadline(autojump_clock):
    start = tether.current_time()
    with tether.move_on_after(10):
        with tether.fail_after(3):
            assert tether.current_effective_deadline() == pytest.approx(start + 3)
        assert tether.current_effective_deadline() == pytest.approx(start + 10)


# --- argument checking -------------------------------------------------------------------


@pytest.mark.parametrize("seconds", BAD_DURATIONS)
async def test_sleep_rejects_negative_and_nan_durations(autojump_clock, seconds):
    with pytest.raises(ValueError):
        await tether.sleep(seconds)


async def test_sleep_until_rejects_nan(autojump_clock):
    with pytest.raises(ValueError):
        await tether.sleep_until(math.nan)


@pytest.mark.parametrize("seconds", BAD_DURATIONS)
@pytest.mark.parametrize("timeout", [tether.move_on_after, tether.fail_after])
def test_relative_timeouts_reject_negative_and_nan(timeout, seconds):
    # Accept the error from either the call or the __enter__.
    with pytest.raises(ValueError), timeout(seconds):
        pass


@pytest.mark.parametrize("timeout", [tether.move_on_at, tether.fail_at])
def test_absolute_timeouts_reject_nan(timeout):
    with pytest.raises(ValueError), timeout(math.nan):
        pass


def test_cancel_scope_rejects_a_nan_deadline():
    with pytest.raises(ValueError):
        tether.CancelScope(deadline=math.nan)
    scope = tether.CancelScope()
    with pytest.raises(ValueError):
        scope.deadline = math.nan
    assert scope.deadline == math.inf
