"""tether.testing: MockClock, wait_all_tasks_blocked, checkpoint assertions and Sequencer."""

import math

import pytest

import tether
from tether.abc import Clock
from tether.lowlevel import current_clock
from tether.testing import (
    MockClock,
    Sequencer,
    assert_checkpoints,
    assert_no_checkpoints,
    wait_all_tasks_blocked,
)

# --- MockClock -----------------------------------------------------------------------------


def test_mock_clock_defaults():
    clock = MockClock()
    assert isinstance(clock, Clock)
    assert clock.rate == 0
    assert clock.autojump_threshold == math.inf


def test_mock_clock_jump_moves_time_forward_only():
    clock = MockClock()
    start = clock.current_time()
    clock.jump(3.5)
    assert clock.current_time() == start + 3.5
    with pytest.raises(ValueError):
        clock.jump(-1)
    assert clock.current_time() == start + 3.5


def test_mock_clock_rejects_a_negative_rate():
    with pytest.raises(ValueError):
        MockClock(rate=-1)
    clock = MockClock()
    with pytest.raises(ValueError):
        clock.rate = -0.5


def test_mock_clock_at_rate_zero_stands_still():
    clock = MockClock()

    async def main():
        start = tether.current_time()
        for _ in range(20):
            await tether.checkpoint()
        return tether.current_time() - start

    assert tether.run(main, clock=clock) == 0


def test_mock_clock_converts_deadlines_to_real_sleep_times():
    clock = MockClock(rate=2.0)
    now = clock.current_time()
    assert clock.deadline_to_sleep_time(now - 1) == 0
    # Ten virtual seconds at two virtual seconds per real second: (at most) five real ones.
    assert 4.5 < clock.deadline_to_sleep_time(now + 10) <= 5


def test_changing_the_rate_does_not_make_time_jump():
    clock = MockClock()
    clock.jump(100)
    clock.rate = 1.0
    assert 100 <= clock.current_time() < 101


def test_autojump_skips_straight_to_the_next_deadline():
    clock = MockClock(autojump_threshold=0)

    async def main():
        assert current_clock() is clock
        start = tether.current_time()
        await tether.sleep(3600)
        return tether.current_time() - start

    assert tether.run(main, clock=clock) == pytest.approx(3600)


def test_autojump_threshold_can_be_changed_during_a_run():
    clock = MockClock()

    async def main():
        clock.autojump_threshold = 0
        start = tether.current_time()
        await tether.sleep(100)
        return tether.current_time() - start

    assert tether.run(main, clock=clock) == pytest.approx(100)


async def test_jump_wakes_sleepers_whose_deadline_passed(mock_clock):
    woke_at = []

    async def sleeper():
        await tether.sleep(10)
        woke_at.append(tether.current_time())

    start = tether.current_time()
    async with tether.open_nursery() as nursery:
        nursery.start_soon(sleeper)
        await wait_all_tasks_blocked()
        mock_clock.jump(9)
        await wait_all_tasks_blocked()
        assert woke_at == []
        mock_clock.jump(1)
    assert woke_at == [pytest.approx(start + 10)]


# --- wait_all_tasks_blocked -----------------------------------------------------------------


async def test_wait_all_tasks_blocked_waits_for_busy_tasks():
    progress = []

    async def busy():
        for step in range(50):
            progress.append(step)
            await tether.checkpoint()
        await tether.sleep_forever()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(busy)
        nursery.start_soon(busy)
        await wait_all_tasks_blocked()
        assert len(progress) == 100
        nursery.cancel_scope.cancel()


async def test_wait_all_tasks_blocked_with_a_cushion():
    progress = []

    async def busy():
        for step in range(10):
            progress.append(step)
            await tether.checkpoint()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(busy)
        await wait_all_tasks_blocked(cushion=0.001)
        assert progress == list(range(10))


async def test_wait_all_tasks_blocked_returns_before_an_autojump(autojump_clock):
    start = tether.current_time()
    async with tether.open_nursery() as nursery:
        nursery.start_soon(tether.sleep, 10)
        await wait_all_tasks_blocked()
        assert tether.current_time() == start
    assert tether.current_time() == pytest.approx(start + 10)


async def test_wait_all_tasks_blocked_is_cancellable():
    with tether.CancelScope() as scope:
        scope.cancel()
        await wait_all_tasks_blocked()
    assert scope.cancelled_caught


# --- checkpoint assertions --------------------------------------------------------------------


async def test_assert_checkpoints():
    with assert_checkpoints():
        await tether.checkpoint()
    with assert_checkpoints():
        await tether.sleep(0)
    with pytest.raises(AssertionError), assert_checkpoints():
        pass


async def test_assert_no_checkpoints():
    with assert_no_checkpoints():
        sum(range(10))
    with pytest.raises(AssertionError), assert_no_checkpoints():
        await tether.checkpoint()


# --- Sequencer -------------------------------------------------------------------------------


async def test_sequencer_runs_blocks_in_sequence_order():
    seq = Sequencer()
    order = []

    async def step(position):
        async with seq(position):
            order.append(position)

    async with tether.open_nursery() as nursery:
        for position in reversed(range(4)):
            nursery.start_soon(step, position)
    assert order == [0, 1, 2, 3]


async def test_sequencer_interleaves_tasks():
    seq = Sequencer()
    order = []

    async def first():
        async with seq(0):
            order.append("first: 0")
        async with seq(2):
            order.append("first: 2")

    async def second():
        async with seq(1):
            order.append("second: 1")
        async with seq(3):
            order.append("second: 3")

    async with tether.open_nursery() as nursery:
        nursery.start_soon(second)
        nursery.start_soon(first)
    assert order == ["first: 0", "second: 1", "first: 2", "second: 3"]


async def test_sequencer_rejects_a_reused_position():
    seq = Sequencer()

    async def use(position):
        async with seq(position):
            pass

    await use(0)
    with pytest.raises(RuntimeError):
        await use(0)
