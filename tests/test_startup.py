"""Start-up: what ``import tether`` loads, and the kernel's stand-ins for ``outcome`` and
``attrs`` behaving like the real thing where users can see them."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import outcome
import pytest

import tether
from tether.lowlevel import (
    ParkingLot,
    ParkingLotStatistics,
    RunStatistics,
    current_statistics,
    current_task,
    reschedule,
    wait_task_rescheduled,
)
from tether.testing import wait_all_tasks_blocked

# Modules that ``import tether`` plus ``tether.run`` of an empty main must not load: each
# costs milliseconds of start-up, and the kernel does without them.
HEAVY = ("attr", "attrs", "outcome", "inspect", "dis", "platform", "asyncio", "selectors")


def _modules_after(program: str) -> set[str]:
    code = f"{program}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    return set(json.loads(out))


def test_import_and_empty_run_skip_heavy_modules() -> None:
    loaded = _modules_after("import tether\nasync def main(): pass\ntether.run(main)")
    assert "tether._core" in loaded
    assert sorted(loaded & set(HEAVY)) == []


def test_upper_tiers_load_on_demand_without_heavy_modules() -> None:
    # The first to_thread call, channel or lock does not pay for outcome/attrs/inspect.
    loaded = _modules_after(
        "import tether\ntether.to_thread\ntether.open_memory_channel\ntether.Lock"
    )
    assert {"tether._threads", "tether._channel", "tether._sync"} <= loaded
    assert sorted(loaded & set(HEAVY)) == []


def test_sync_and_channel_statistics_are_read_only_records() -> None:
    lock_stats = tether.Lock().statistics()
    assert lock_stats == tether.Lock().statistics()
    assert repr(lock_stats) == "LockStatistics(locked=False, owner=None, tasks_waiting=0)"
    with pytest.raises(AttributeError):
        lock_stats.locked = True  # type: ignore[misc]
    match tether.CapacityLimiter(3).statistics():
        case tether.CapacityLimiterStatistics(borrowed_tokens, total_tokens, _, waiting):
            assert (borrowed_tokens, total_tokens, waiting) == (0, 3, 0)
        case _:  # pragma: no cover
            pytest.fail("statistics do not match positionally")
    send, receive = tether.open_memory_channel[int](2)
    assert send.statistics() == receive.statistics()
    assert pickle.loads(pickle.dumps(send.statistics())) == send.statistics()


def _never_abort(_: object) -> tether.lowlevel.Abort:
    return tether.lowlevel.Abort.FAILED


async def test_reschedule_takes_outcome_objects() -> None:
    me = current_task()

    async def waker(send: object) -> None:
        await wait_all_tasks_blocked()
        reschedule(me, send)  # type: ignore[arg-type]

    async with tether.open_nursery() as nursery:
        nursery.start_soon(waker, outcome.Value(7))
        assert await wait_task_rescheduled(_never_abort) == 7
    async with tether.open_nursery() as nursery:
        nursery.start_soon(waker, outcome.Error(LookupError("sent")))
        with pytest.raises(LookupError, match="sent"):
            await wait_task_rescheduled(_never_abort)


def test_reschedule_takes_outcome_in_a_fresh_interpreter() -> None:
    # The kernel learns outcome's classes on first use: check that first use, in a
    # process where nothing else has passed one yet.
    program = """
import outcome, tether
from tether.lowlevel import current_task, reschedule, wait_task_rescheduled, Abort
from tether.testing import wait_all_tasks_blocked
async def main():
    me = current_task()
    async def waker():
        await wait_all_tasks_blocked()
        reschedule(me, outcome.Value("first"))
    async with tether.open_nursery() as nursery:
        nursery.start_soon(waker)
        print(await wait_task_rescheduled(lambda _: Abort.FAILED))
tether.run(main)
"""
    out = subprocess.run(
        [sys.executable, "-c", program], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    assert out == "first\n"


class _LooksLikeValue:
    value = 1


@pytest.mark.parametrize("bad", [object(), _LooksLikeValue(), 1])
async def test_reschedule_rejects_other_objects(bad: object) -> None:
    me = current_task()
    errors: list[TypeError] = []

    async def waker() -> None:
        await wait_all_tasks_blocked()
        try:
            reschedule(me, bad)  # type: ignore[arg-type]
        except TypeError as exc:
            errors.append(exc)
        reschedule(me)

    async with tether.open_nursery() as nursery:
        nursery.start_soon(waker)
        assert await wait_task_rescheduled(_never_abort) is None
    assert len(errors) == 1
    assert "must be an outcome.Value or outcome.Error" in str(errors[0])


async def _returns(value: int) -> int:
    await tether.sleep(0)
    return value


async def _raises() -> None:
    await tether.sleep(0)
    raise KeyError("boom")


async def test_task_handle_outcome_is_a_real_outcome(autojump_clock: object) -> None:
    async with tether.open_nursery() as nursery:
        handle = nursery.start_task(_returns, 5)
        assert handle.outcome is None
        assert await handle == 5
    result = handle.outcome
    assert type(result) is outcome.Value
    assert result.value == 5
    assert handle.outcome is result  # the same object each time
    assert handle.result() == 5  # reading the outcome does not use up the result

    with pytest.RaisesGroup(KeyError):
        async with tether.open_nursery() as nursery:
            failing = nursery.start_task(_raises)
    error = failing.outcome
    assert type(error) is outcome.Error
    assert isinstance(error.error, KeyError)
    with pytest.raises(tether.TaskFailedError):
        failing.result()


async def test_cancelled_task_handle_has_no_outcome(autojump_clock: object) -> None:
    async with tether.open_nursery() as nursery:
        handle = nursery.start_task(tether.sleep_forever)
        await wait_all_tasks_blocked()
        handle.cancel()
    assert handle.cancelled()
    assert handle.outcome is None


async def test_statistics_snapshots_behave_like_records() -> None:
    stats = current_statistics()
    assert isinstance(stats, RunStatistics)
    assert repr(stats).startswith("RunStatistics(tasks_living=")
    assert "io_statistics=IOStatistics(backend=" in repr(stats)
    assert stats == current_statistics()
    assert hash(stats) == hash(current_statistics())
    assert pickle.loads(pickle.dumps(stats)) == stats
    with pytest.raises(AttributeError):
        stats.tasks_living = 0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del stats.tasks_runnable  # type: ignore[misc]
    match stats:
        case RunStatistics(living, runnable):
            assert (living, runnable) == (stats.tasks_living, stats.tasks_runnable)
        case _:  # pragma: no cover
            pytest.fail("RunStatistics did not match positionally")

    lot_stats = ParkingLot().statistics()
    assert lot_stats == ParkingLotStatistics(tasks_waiting=0)
    assert lot_stats == ParkingLotStatistics(0)
    assert lot_stats != ParkingLotStatistics(tasks_waiting=1)
    assert lot_stats != (0,)
    assert repr(lot_stats) == "ParkingLotStatistics(tasks_waiting=0)"
