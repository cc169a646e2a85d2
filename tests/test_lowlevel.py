"""tether.lowlevel: tasks, parking lots, run variables, manual rescheduling, instruments,
statistics, system tasks and re-entering the run loop through a TetherToken."""

import contextvars
import math
import threading

import outcome
import pytest

import tether
from _helpers import exception_chain
from tether.abc import Instrument
from tether.lowlevel import (
    Abort,
    ParkingLot,
    RunVar,
    Task,
    add_instrument,
    cancel_shielded_checkpoint,
    checkpoint_if_cancelled,
    current_root_task,
    current_statistics,
    current_task,
    current_tether_token,
    currently_ki_protected,
    remove_instrument,
    reschedule,
    spawn_system_task,
    wait_task_rescheduled,
)
from tether.testing import wait_all_tasks_blocked

SAFETY_NET = 10  # seconds of real time; only reached if the kernel misbehaves

flavour: contextvars.ContextVar[str] = contextvars.ContextVar("flavour", default="plain")
run_state = RunVar("run_state", default="fresh")
no_default = RunVar("no_default")


def never_abort(raise_cancel):
    return Abort.FAILED


# --- Task --------------------------------------------------------------------------------


async def test_task_attributes():
    seen = {}

    async def child():
        seen["task"] = current_task()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(child, name="worker")
    task = seen["task"]
    assert isinstance(task, Task)
    assert task.name == "worker"
    assert task.parent_nursery is nursery
    assert task.eventual_parent_nursery is None
    assert task.child_nurseries == []
    assert isinstance(task.context, contextvars.Context)
    assert task.coro.cr_code is child.__code__
    assert task.custom_sleep_data is None


async def test_child_nurseries_lists_the_open_nurseries_in_order():
    me = current_task()
    before = list(me.child_nurseries)
    async with tether.open_nursery() as outer:
        assert me.child_nurseries == [*before, outer]
        async with tether.open_nursery() as inner:
            assert me.child_nurseries == [*before, outer, inner]
    assert me.child_nurseries == before


async def test_custom_sleep_data_belongs_to_the_user():
    task = current_task()
    task.custom_sleep_data = {"waiting for": "godot"}
    await tether.checkpoint()
    assert task.custom_sleep_data == {"waiting for": "godot"}
    task.custom_sleep_data = None


async def test_root_task_is_the_ancestor_of_every_task():
    root = current_root_task()
    assert root.parent_nursery is None
    task = current_task()
    while task.parent_nursery is not None:
        task = task.parent_nursery.parent_task
    assert task is root


async def test_iter_await_frames_walks_a_parked_tasks_await_stack():
    async def inner():
        await tether.sleep_forever()

    async def outer():
        await inner()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(outer)
        await wait_all_tasks_blocked()
        [task] = nursery.child_tasks
        frames = list(task.iter_await_frames())
        assert [frame.f_code.co_name for frame, _ in frames[:2]] == ["outer", "inner"]
        assert all(isinstance(lineno, int) for _, lineno in frames)
        nursery.cancel_scope.cancel()


# --- checkpoints -------------------------------------------------------------------------


async def test_checkpoint_if_cancelled_and_cancel_shielded_checkpoint():
    await checkpoint_if_cancelled()  # not cancelled: returns
    with tether.CancelScope() as scope:
        scope.cancel()
        await cancel_shielded_checkpoint()  # never raises Cancelled
        await checkpoint_if_cancelled()
        pytest.fail("checkpoint_if_cancelled ignored a cancellation")
    assert scope.cancelled_caught


# --- ParkingLot --------------------------------------------------------------------------


async def test_parking_lot_unparks_in_fifo_order():
    lot = ParkingLot()
    woken = []

    async def park(i):
        await lot.park()
        woken.append(i)

    async with tether.open_nursery() as nursery:
        for i in range(4):
            nursery.start_soon(park, i, name=f"parker-{i}")
            await wait_all_tasks_blocked()  # parked in spawn order
        assert len(lot) == 4
        assert lot
        assert lot.statistics().tasks_waiting == 4

        assert [task.name for task in lot.unpark()] == ["parker-0"]
        await wait_all_tasks_blocked()
        assert woken == [0]

        assert [task.name for task in lot.unpark(count=2)] == ["parker-1", "parker-2"]
        await wait_all_tasks_blocked()
        assert sorted(woken) == [0, 1, 2]

        assert [task.name for task in lot.unpark_all()] == ["parker-3"]
    assert sorted(woken) == [0, 1, 2, 3]
    assert len(lot) == 0
    assert not lot
    assert lot.unpark() == []


async def test_cancelled_task_leaves_the_parking_lot():
    lot = ParkingLot()
    scope = tether.CancelScope()

    async def park_in_scope():
        with scope:
            await lot.park()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(park_in_scope)
        nursery.start_soon(lot.park)
        await wait_all_tasks_blocked()
        assert len(lot) == 2
        scope.cancel()
        await wait_all_tasks_blocked()
        assert len(lot) == 1
        lot.unpark_all()
    assert scope.cancelled_caught


async def test_repark_moves_waiters_to_another_lot():
    first, second = ParkingLot(), ParkingLot()
    woken = []

    async def park(i):
        await first.park()
        woken.append(i)

    async with tether.open_nursery() as nursery:
        for i in range(3):
            nursery.start_soon(park, i, name=f"parker-{i}")
            await wait_all_tasks_blocked()
        first.repark(second, count=2)
        assert (len(first), len(second)) == (1, 2)
        first.repark_all(second)
        assert (len(first), len(second)) == (0, 3)
        await wait_all_tasks_blocked()
        assert woken == []  # reparking does not wake anyone
        assert first.unpark_all() == []
        assert [task.name for task in second.unpark_all()] == [
            "parker-0",
            "parker-1",
            "parker-2",
        ]
    assert sorted(woken) == [0, 1, 2]


async def test_cancelling_a_reparked_task_removes_it_from_its_new_lot():
    first, second = ParkingLot(), ParkingLot()
    scope = tether.CancelScope()

    async def park():
        with scope:
            await first.park()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(park)
        await wait_all_tasks_blocked()
        first.repark_all(second)
        scope.cancel()
        await wait_all_tasks_blocked()
        assert (len(first), len(second)) == (0, 0)
    assert scope.cancelled_caught


# --- RunVar ------------------------------------------------------------------------------


async def test_runvar_get_set_and_reset():
    assert run_state.get() == "fresh"
    first = run_state.set("one")
    second = run_state.set("two")
    assert run_state.get() == "two"
    run_state.reset(second)
    assert run_state.get() == "one"
    run_state.reset(first)
    assert run_state.get() == "fresh"


async def test_runvar_without_a_default():
    with pytest.raises(LookupError):
        no_default.get()
    assert no_default.get(7) == 7
    token = no_default.set(1)
    assert no_default.get() == 1
    no_default.reset(token)
    with pytest.raises(LookupError):
        no_default.get()


async def test_runvar_tokens_are_checked():
    token = run_state.set("x")
    with pytest.raises(ValueError):
        no_default.reset(token)
    run_state.reset(token)
    with pytest.raises(ValueError):
        run_state.reset(token)


async def test_runvar_is_shared_by_all_tasks_of_the_run():
    run_state.set("set by the parent")
    seen = []

    async def child():
        seen.append(run_state.get())
        run_state.set("set by the child")

    async with tether.open_nursery() as nursery:
        nursery.start_soon(child)
    assert seen == ["set by the parent"]
    assert run_state.get() == "set by the child"  # unlike a ContextVar


def test_runvar_values_do_not_outlive_their_run():
    async def set_and_get(value):
        previous = run_state.get()
        run_state.set(value)
        return previous

    assert tether.run(set_and_get, "first run") == "fresh"
    assert tether.run(set_and_get, "second run") == "fresh"
    with pytest.raises(RuntimeError):
        run_state.get()


# --- wait_task_rescheduled / reschedule ----------------------------------------------------


async def test_reschedule_delivers_a_value():
    me = current_task()

    async def waker():
        await wait_all_tasks_blocked()
        reschedule(me, outcome.Value("hello"))

    async with tether.open_nursery() as nursery:
        nursery.start_soon(waker)
        assert await wait_task_rescheduled(never_abort) == "hello"


async def test_reschedule_defaults_to_none():
    me = current_task()

    async def waker():
        await wait_all_tasks_blocked()
        reschedule(me)

    async with tether.open_nursery() as nursery:
        nursery.start_soon(waker)
        assert await wait_task_rescheduled(never_abort) is None


async def test_reschedule_delivers_an_error():
    me = current_task()

    async def waker():
        await wait_all_tasks_blocked()
        reschedule(me, outcome.Error(KeyError("delivered")))

    async with tether.open_nursery() as nursery:
        nursery.start_soon(waker)
        with pytest.raises(KeyError, match="delivered"):
            await wait_task_rescheduled(never_abort)


async def test_abort_succeeded_turns_cancellation_into_cancelled():
    abort_calls = []

    def abort(raise_cancel):
        abort_calls.append(raise_cancel)
        return Abort.SUCCEEDED

    with tether.CancelScope() as scope:
        scope.cancel()
        await wait_task_rescheduled(abort)
    assert scope.cancelled_caught
    assert len(abort_calls) == 1


async def test_abort_failed_keeps_the_task_parked_until_rescheduled():
    me = current_task()
    scope = tether.CancelScope()
    raise_cancels = []

    def abort(raise_cancel):
        raise_cancels.append(raise_cancel)
        return Abort.FAILED

    async def canceller():
        await wait_all_tasks_blocked()
        scope.cancel()
        await wait_all_tasks_blocked()
        assert len(raise_cancels) == 1  # the abort was attempted, and refused
        reschedule(me, outcome.capture(raise_cancels[0]))

    async with tether.open_nursery() as nursery:
        nursery.start_soon(canceller)
        with scope:
            await wait_task_rescheduled(abort)
    assert scope.cancelled_caught


def test_abort_enum_members():
    assert {member.name for member in Abort} == {"SUCCEEDED", "FAILED"}


# --- instruments --------------------------------------------------------------------------


class Recorder(Instrument):
    """Records every hook call as a tuple (hook name, *arguments)."""

    def __init__(self) -> None:
        self.events: list[tuple[object, ...]] = []

    def before_run(self) -> None:
        self.events.append(("before_run",))

    def after_run(self) -> None:
        self.events.append(("after_run",))

    def task_spawned(self, task: Task) -> None:
        self.events.append(("task_spawned", task))

    def task_scheduled(self, task: Task) -> None:
        self.events.append(("task_scheduled", task))

    def before_task_step(self, task: Task) -> None:
        self.events.append(("before_task_step", task))

    def after_task_step(self, task: Task) -> None:
        self.events.append(("after_task_step", task))

    def task_exited(self, task: Task) -> None:
        self.events.append(("task_exited", task))

    def before_io_wait(self, timeout: float) -> None:
        self.events.append(("before_io_wait", timeout))

    def after_io_wait(self, timeout: float) -> None:
        self.events.append(("after_io_wait", timeout))

    def hooks_for(self, task: Task) -> list[object]:
        return [event[0] for event in self.events if event[1:] == (task,)]


def test_instruments_see_the_life_of_every_task():
    recorder = Recorder()
    tasks = {}

    async def child():
        tasks["child"] = current_task()
        await tether.checkpoint()

    async def main():
        tasks["main"] = current_task()
        async with tether.open_nursery() as nursery:
            nursery.start_soon(child)
        await tether.sleep(0.001)  # a real wait for I/O with a timeout

    tether.run(main, instruments=[recorder])

    assert recorder.events[0] == ("before_run",)
    assert recorder.events[-1] == ("after_run",)
    for task in tasks.values():
        hooks = recorder.hooks_for(task)
        assert hooks[:3] == ["task_spawned", "task_scheduled", "before_task_step"]
        assert hooks.count("task_spawned") == 1
        assert hooks.count("task_exited") == 1
        steps = [hook for hook in hooks if hook.endswith("_task_step")]
        assert steps == ["before_task_step", "after_task_step"] * (len(steps) // 2)
        assert len(steps) >= 4  # both tasks block at least once
        # The task exits during its last step.
        last_step = len(hooks) - 1 - hooks[::-1].index("before_task_step")
        assert hooks.index("task_exited") > last_step

    io_waits = [event for event in recorder.events if event[0].endswith("_io_wait")]
    assert io_waits, "the run never waited for I/O"
    for before, after in zip(io_waits[::2], io_waits[1::2], strict=True):
        assert before[0] == "before_io_wait"
        assert after[0] == "after_io_wait"
        assert before[1] == after[1]
    assert any(timeout > 0 for _, timeout in io_waits)


def test_task_scheduled_is_reported_before_every_step():
    recorder = Recorder()
    tasks = []

    async def child():
        tasks.append(current_task())
        await tether.checkpoint()  # a schedule point: runnable again at once
        await tether.sleep(0)
        await tether.sleep(0.001)  # blocked, then woken by its deadline

    async def main():
        async with tether.open_nursery() as nursery:
            nursery.start_soon(child)

    tether.run(main, instruments=[recorder])
    [task] = tasks
    wakeups = [
        hook for hook in recorder.hooks_for(task) if hook in ("task_scheduled", "before_task_step")
    ]
    assert wakeups == ["task_scheduled", "before_task_step"] * 4


def test_after_run_is_called_even_when_the_run_fails():
    recorder = Recorder()

    async def main():
        await tether.checkpoint()
        raise ValueError("main failed")

    with pytest.raises(ValueError, match="main failed"):
        tether.run(main, instruments=[recorder])
    assert recorder.events[-1] == ("after_run",)


def test_instrument_may_implement_only_some_hooks():
    exited = []

    class ExitCounter(Instrument):
        def task_exited(self, task):
            exited.append(task)

    async def main():
        async with tether.open_nursery() as nursery:
            nursery.start_soon(tether.checkpoint)
        return current_task()

    main_task = tether.run(main, instruments=[ExitCounter()])
    assert main_task in exited
    assert len(exited) >= 2


async def test_add_and_remove_instrument_during_a_run():
    recorder = Recorder()
    add_instrument(recorder)
    await tether.checkpoint()
    assert "before_task_step" in recorder.hooks_for(current_task())

    remove_instrument(recorder)
    recorded = len(recorder.events)
    await tether.checkpoint()
    assert len(recorder.events) == recorded

    with pytest.raises(KeyError):
        remove_instrument(recorder)


# --- statistics ----------------------------------------------------------------------------


async def test_current_statistics_counts_tasks():
    before = current_statistics()
    async with tether.open_nursery() as nursery:
        nursery.start_soon(tether.sleep_forever)
        nursery.start_soon(tether.sleep_forever)
        stats = current_statistics()
        assert stats.tasks_living == before.tasks_living + 2
        assert stats.tasks_runnable >= 2
        await wait_all_tasks_blocked()
        assert current_statistics().tasks_runnable == 0
        nursery.cancel_scope.cancel()
    assert current_statistics().tasks_living == before.tasks_living


async def test_current_statistics_reports_the_next_deadline(autojump_clock):
    assert current_statistics().seconds_to_next_deadline == math.inf
    with tether.move_on_after(5):
        assert current_statistics().seconds_to_next_deadline == pytest.approx(5)
        await tether.sleep(2)
        assert current_statistics().seconds_to_next_deadline == pytest.approx(3)


async def test_current_statistics_reports_the_run_sync_soon_queue():
    me = current_task()
    current_tether_token().run_sync_soon(reschedule, me)
    assert current_statistics().run_sync_soon_queue_size == 1
    await wait_task_rescheduled(never_abort)
    assert current_statistics().run_sync_soon_queue_size == 0


# --- system tasks ------------------------------------------------------------------------


async def test_system_task_lives_outside_the_user_task_tree():
    seen = {}

    async def system():
        seen["protected"] = currently_ki_protected()
        await tether.sleep_forever()

    task = spawn_system_task(system, name="background")
    assert isinstance(task, Task)
    assert task.name == "background"
    await wait_all_tasks_blocked()
    assert seen == {"protected": True}
    assert task.parent_nursery is not None
    assert task.parent_nursery.parent_task is current_root_task()
    me = current_task()
    assert all(task not in nursery.child_tasks for nursery in me.child_nurseries)


async def test_system_tasks_do_not_inherit_the_spawners_context():
    flavour.set("spawner's")
    seen = {}

    async def default_context():
        seen["default"] = flavour.get()

    async def explicit_context():
        seen["explicit"] = flavour.get()

    context = contextvars.copy_context()
    context.run(flavour.set, "explicit")
    spawn_system_task(default_context)
    spawn_system_task(explicit_context, context=context)
    await wait_all_tasks_blocked()
    assert seen["default"] != "spawner's"
    assert seen["explicit"] == "explicit"


def test_system_tasks_are_cancelled_when_the_main_task_exits():
    events = []

    async def background():
        try:
            await tether.sleep_forever()
        except tether.Cancelled:
            events.append("cancelled")
            raise

    async def main():
        spawn_system_task(background)
        await wait_all_tasks_blocked()
        return "main done"

    assert tether.run(main) == "main done"
    assert events == ["cancelled"]


def test_system_task_crash_becomes_tether_internal_error():
    async def crash():
        raise ValueError("system task bug")

    async def main():
        spawn_system_task(crash)
        with tether.move_on_after(SAFETY_NET):
            await tether.sleep_forever()

    with pytest.raises(tether.TetherInternalError) as excinfo:
        tether.run(main)
    assert any(isinstance(exc, ValueError) for exc in exception_chain(excinfo.value))


# --- TetherToken ---------------------------------------------------------------------------


async def test_token_is_one_object_per_run():
    assert current_tether_token() is current_tether_token()


def test_each_run_has_its_own_token():
    async def token():
        return current_tether_token()

    first, second = tether.run(token), tether.run(token)
    assert first is not second
    assert first != second


async def test_run_sync_soon_from_a_thread_runs_callbacks_in_order_in_the_run_thread():
    token = current_tether_token()
    me = current_task()
    calls = []

    def record(i):
        calls.append((i, threading.get_ident()))

    def submit():
        for i in range(5):
            token.run_sync_soon(record, i)
        token.run_sync_soon(reschedule, me)

    thread = threading.Thread(target=submit)
    thread.start()
    try:
        await wait_task_rescheduled(never_abort)
    finally:
        thread.join()
    run_thread = threading.get_ident()
    assert calls == [(i, run_thread) for i in range(5)]
    assert thread.ident != run_thread


async def test_idempotent_run_sync_soon_coalesces_pending_duplicates():
    token = current_tether_token()
    me = current_task()
    calls = []

    def wake():
        calls.append("wake")
        reschedule(me)  # a second call would fail: the task is no longer waiting

    for _ in range(3):
        token.run_sync_soon(wake, idempotent=True)
    await wait_task_rescheduled(never_abort)
    assert calls == ["wake"]


async def test_run_sync_soon_callbacks_are_ki_protected():
    me = current_task()
    seen = []

    def callback():
        seen.append(currently_ki_protected())
        reschedule(me)

    current_tether_token().run_sync_soon(callback)
    await wait_task_rescheduled(never_abort)
    assert seen == [True]


def test_callbacks_queued_before_the_run_ends_are_still_run():
    ran = []

    async def main():
        current_tether_token().run_sync_soon(ran.append, "ran")

    tether.run(main)
    assert ran == ["ran"]


def test_run_sync_soon_after_the_run_raises_run_finished_error():
    async def main():
        return current_tether_token()

    token = tether.run(main)
    with pytest.raises(tether.RunFinishedError):
        token.run_sync_soon(print)


def test_run_sync_soon_callback_crash_becomes_tether_internal_error():
    def crash():
        raise ValueError("callback bug")

    async def main():
        current_tether_token().run_sync_soon(crash)
        with tether.move_on_after(SAFETY_NET):
            await tether.sleep_forever()

    with pytest.raises(tether.TetherInternalError) as excinfo:
        tether.run(main)
    assert any(isinstance(exc, ValueError) for exc in exception_chain(excinfo.value))
