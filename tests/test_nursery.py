"""Nurseries: spawning children, start(), error propagation and the task tree."""

import contextvars

import outcome
import pytest

import tether
from _helpers import leaf_exceptions, run_captured
from tether.lowlevel import current_task
from tether.testing import wait_all_tasks_blocked

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


async def raise_now(exc: BaseException) -> None:
    raise exc


# --- start_soon --------------------------------------------------------------------------


async def test_nursery_waits_for_every_child(autojump_clock):
    finished = []

    async def child(delay):
        await tether.sleep(delay)
        finished.append(delay)

    start = tether.current_time()
    async with tether.open_nursery() as nursery:
        for delay in (3, 1, 2):
            nursery.start_soon(child, delay)
        assert finished == []  # start_soon only schedules
    assert finished == [1, 2, 3]
    assert tether.current_time() - start == pytest.approx(3)


async def test_start_soon_returns_none_and_passes_arguments():
    received = []

    async def child(*args):
        received.append(args)

    async with tether.open_nursery() as nursery:
        assert nursery.start_soon(child, 1, "two") is None
    assert received == [(1, "two")]


async def test_start_soon_rejects_a_coroutine_object_immediately():
    async def child():
        pass

    coro = child()
    try:
        async with tether.open_nursery() as nursery:
            with pytest.raises(TypeError, match="coroutine"):
                nursery.start_soon(coro)
            nursery.start_soon(child)  # the nursery is still usable
    finally:
        coro.close()


async def test_children_may_spawn_siblings_after_the_body_finished():
    ran = []

    async def second():
        ran.append("second")

    async def first(nursery):
        await tether.checkpoint()
        ran.append("first")
        nursery.start_soon(second)

    async with tether.open_nursery() as nursery:
        nursery.start_soon(first, nursery)
    assert ran == ["first", "second"]


async def test_children_spawned_into_a_cancelled_nursery_start_cancelled():
    events = []

    async def child():
        events.append("started")
        await tether.checkpoint()
        events.append("unreachable")

    async with tether.open_nursery() as nursery:
        nursery.cancel_scope.cancel()
        nursery.start_soon(child)
    assert events == ["started"]
    assert nursery.cancel_scope.cancelled_caught


async def test_start_soon_on_a_closed_nursery_is_a_runtime_error():
    async def child(task_status=tether.TASK_STATUS_IGNORED):
        task_status.started()

    async with tether.open_nursery() as nursery:
        pass
    with pytest.raises(RuntimeError):
        nursery.start_soon(child)
    with pytest.raises(RuntimeError):
        await nursery.start(child)


# --- start ---------------------------------------------------------------------------------


async def test_start_returns_the_value_given_to_started():
    async def server(port, *, task_status=tether.TASK_STATUS_IGNORED):
        task_status.started(port + 1)
        await tether.sleep_forever()

    async with tether.open_nursery() as nursery:
        assert await nursery.start(server, 8000) == 8001
        nursery.cancel_scope.cancel()


async def test_started_without_a_value_makes_start_return_none():
    async def child(*, task_status=tether.TASK_STATUS_IGNORED):
        task_status.started()

    async with tether.open_nursery() as nursery:
        assert await nursery.start(child) is None


async def test_start_waits_for_started_then_the_child_keeps_running():
    events = []

    async def child(*, task_status=tether.TASK_STATUS_IGNORED):
        events.append("child setting up")
        await tether.checkpoint()
        task_status.started()
        await tether.checkpoint()
        events.append("child still running")

    async with tether.open_nursery() as nursery:
        await nursery.start(child)
        events.append("start returned")
    assert events == ["child setting up", "start returned", "child still running"]


async def test_started_may_only_be_called_once():
    async def child(*, task_status=tether.TASK_STATUS_IGNORED):
        task_status.started("first")
        with pytest.raises(RuntimeError):
            task_status.started("second")

    async with tether.open_nursery() as nursery:
        assert await nursery.start(child) == "first"


async def test_started_task_is_one_of_the_nurserys_children():
    async def child(*, task_status=tether.TASK_STATUS_IGNORED):
        task_status.started(current_task())
        await tether.sleep_forever()

    async with tether.open_nursery() as nursery:
        task = await nursery.start(child, name="started child")
        assert nursery.child_tasks == frozenset({task})
        assert task.name == "started child"
        nursery.cancel_scope.cancel()


async def test_task_status_ignored_lets_startable_functions_be_awaited_directly():
    async def child(value, *, task_status=tether.TASK_STATUS_IGNORED):
        task_status.started(value)
        return value * 2

    assert await child(21) == 42


async def test_exception_before_started_propagates_from_start():
    async def broken(*, task_status=tether.TASK_STATUS_IGNORED):
        await tether.checkpoint()
        raise ValueError("could not start")

    async with tether.open_nursery() as nursery:
        with pytest.raises(ValueError, match="could not start"):
            await nursery.start(broken)
        # The failure was reported by start(); the nursery itself is unharmed.
        assert not nursery.cancel_scope.cancel_called


async def test_child_returning_without_started_is_a_runtime_error():
    async def forgetful(*, task_status=tether.TASK_STATUS_IGNORED):
        await tether.checkpoint()

    async with tether.open_nursery() as nursery:
        with pytest.raises(RuntimeError):
            await nursery.start(forgetful)


async def test_cancelling_start_cancels_the_child_before_it_started(autojump_clock):
    events = []

    async def slow_starter(*, task_status=tether.TASK_STATUS_IGNORED):
        try:
            await tether.sleep_forever()  # never gets as far as task_status.started()
        except tether.Cancelled:
            events.append("child cancelled")
            raise

    begin = tether.current_time()
    async with tether.open_nursery() as nursery:
        with tether.move_on_after(1) as scope:
            await nursery.start(slow_starter)
        assert scope.cancelled_caught
        assert events == ["child cancelled"]
        assert nursery.child_tasks == frozenset()
        assert not nursery.cancel_scope.cancel_called
    assert tether.current_time() - begin == pytest.approx(1)


async def test_after_started_the_child_no_longer_obeys_the_starters_scope(autojump_clock):
    events = []

    async def worker(*, task_status=tether.TASK_STATUS_IGNORED):
        task_status.started()
        await tether.sleep(5)
        events.append("worker finished")

    async with tether.open_nursery() as nursery:
        with tether.CancelScope() as scope:
            await nursery.start(worker)
            scope.cancel()
    assert events == ["worker finished"]


async def test_started_moves_the_task_into_the_nursery():
    seen = {}

    async def child(nursery, *, task_status=tether.TASK_STATUS_IGNORED):
        me = current_task()
        seen["eventual_before"] = me.eventual_parent_nursery
        seen["parent_before"] = me.parent_nursery
        task_status.started()
        seen["parent_after"] = me.parent_nursery

    async with tether.open_nursery() as nursery:
        await nursery.start(child, nursery)
    assert seen["eventual_before"] is nursery
    assert seen["parent_before"] is not nursery
    assert seen["parent_after"] is nursery


# --- errors ---------------------------------------------------------------------------------


async def test_errors_from_several_children_are_all_reported():
    errors = [ValueError("a"), KeyError("b"), OSError("c")]

    async def spawn_failing_children():
        async with tether.open_nursery() as nursery:
            for error in errors:
                nursery.start_soon(raise_now, error)

    with pytest.raises(ExceptionGroup) as excinfo:
        await spawn_failing_children()
    assert sorted(map(id, excinfo.value.exceptions)) == sorted(map(id, errors))


async def test_a_failing_child_cancels_its_siblings_and_the_body():
    events = []

    async def sleeper():
        try:
            await tether.sleep_forever()
        except tether.Cancelled:
            events.append("sibling cancelled")
            raise

    async def body():
        async with tether.open_nursery() as nursery:
            nursery.start_soon(sleeper)
            await wait_all_tasks_blocked()
            nursery.start_soon(raise_now, ValueError("child failed"))
            try:
                await tether.sleep_forever()
            finally:
                events.append("body cancelled")

    with pytest.raises(ExceptionGroup) as excinfo:
        await body()
    assert sorted(events) == ["body cancelled", "sibling cancelled"]
    # The Cancelled exceptions were absorbed by the nursery's own scope.
    [error] = leaf_exceptions(excinfo.value)
    assert isinstance(error, ValueError)


async def test_body_error_and_child_error_are_both_reported():
    async def fails_when_cancelled():
        try:
            await tether.sleep_forever()
        except tether.Cancelled:
            raise KeyError("child") from None

    async def body():
        async with tether.open_nursery() as nursery:
            nursery.start_soon(fails_when_cancelled)
            await wait_all_tasks_blocked()
            raise ValueError("body")

    with pytest.raises(ExceptionGroup) as excinfo:
        await body()
    assert sorted(type(e).__name__ for e in excinfo.value.exceptions) == ["KeyError", "ValueError"]


async def test_nested_nursery_errors_nest_their_groups():
    async def inner_fails():
        async with tether.open_nursery() as inner:
            inner.start_soon(raise_now, ValueError("deep"))

    with pytest.raises(ExceptionGroup) as excinfo:
        async with tether.open_nursery() as outer:
            outer.start_soon(inner_fails)
    [inner_group] = excinfo.value.exceptions
    assert isinstance(inner_group, ExceptionGroup)
    [error] = inner_group.exceptions
    assert isinstance(error, ValueError)


async def test_cancelling_an_outer_nursery_cancels_grandchildren():
    events = []

    async def grandchild():
        try:
            await tether.sleep_forever()
        finally:
            events.append("grandchild done")

    async def child():
        async with tether.open_nursery() as inner:
            inner.start_soon(grandchild)

    async with tether.open_nursery() as outer:
        outer.start_soon(child)
        await wait_all_tasks_blocked()
        outer.cancel_scope.cancel()
    assert events == ["grandchild done"]
    assert outer.cancel_scope.cancelled_caught


# --- strict_exception_groups ---------------------------------------------------------------


async def test_strict_nursery_wraps_even_a_single_error():
    with pytest.raises(ExceptionGroup) as excinfo:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(raise_now, ValueError("only one"))
    [error] = excinfo.value.exceptions
    assert isinstance(error, ValueError)


async def test_strict_nursery_wraps_a_body_error():
    with pytest.raises(ExceptionGroup) as excinfo:
        async with tether.open_nursery():
            raise ValueError("from the body")
    [error] = excinfo.value.exceptions
    assert isinstance(error, ValueError)


async def test_non_strict_nursery_raises_a_single_error_bare():
    with pytest.raises(ValueError, match="only one"):
        async with tether.open_nursery(strict_exception_groups=False) as nursery:
            nursery.start_soon(raise_now, ValueError("only one"))


async def test_non_strict_nursery_still_groups_several_errors():
    async def body():
        async with tether.open_nursery(strict_exception_groups=False) as nursery:
            nursery.start_soon(raise_now, ValueError("one"))
            nursery.start_soon(raise_now, KeyError("two"))

    with pytest.raises(ExceptionGroup) as excinfo:
        await body()
    assert len(excinfo.value.exceptions) == 2


def test_run_strict_exception_groups_false_is_the_nursery_default():
    async def main():
        async with tether.open_nursery() as nursery:
            nursery.start_soon(raise_now, ValueError("bare"))

    with pytest.raises(ValueError, match="bare"):
        tether.run(main, strict_exception_groups=False)


def test_open_nursery_argument_overrides_the_run_default():
    async def main():
        async with tether.open_nursery(strict_exception_groups=True) as nursery:
            nursery.start_soon(raise_now, ValueError("wrapped"))

    with pytest.raises(ExceptionGroup) as excinfo:
        tether.run(main, strict_exception_groups=False)
    assert excinfo.group_contains(ValueError, match="wrapped", depth=1)


# --- KeyboardInterrupt ----------------------------------------------------------------------


def test_keyboard_interrupt_in_a_child_is_never_swallowed():
    async def main():
        try:
            async with tether.open_nursery() as nursery:
                nursery.start_soon(tether.sleep_forever)
                nursery.start_soon(raise_now, ValueError("ordinary error"))
                nursery.start_soon(raise_now, KeyboardInterrupt())
        except Exception:
            return "swallowed by 'except Exception'"
        return "swallowed by the nursery"

    result = run_captured(main)
    assert isinstance(result, outcome.Error), result
    group = result.error
    assert isinstance(group, BaseExceptionGroup)
    assert not isinstance(group, ExceptionGroup)
    assert group.subgroup(KeyboardInterrupt) is not None
    assert group.subgroup(ValueError) is not None


def test_keyboard_interrupt_passes_through_a_cancelled_scope():
    async def main():
        with tether.CancelScope() as scope:
            async with tether.open_nursery() as nursery:
                nursery.start_soon(tether.sleep_forever)
                await wait_all_tasks_blocked()
                scope.cancel()
                raise KeyboardInterrupt
        return "swallowed by the cancel scope"

    result = run_captured(main)
    assert isinstance(result, outcome.Error), result
    [interrupt] = leaf_exceptions(result.error)
    assert isinstance(interrupt, KeyboardInterrupt)


def test_lone_keyboard_interrupt_is_raised_bare_when_not_strict():
    async def main():
        async with tether.open_nursery() as nursery:
            nursery.start_soon(tether.sleep_forever)
            nursery.start_soon(raise_now, KeyboardInterrupt())

    result = run_captured(main, strict_exception_groups=False)
    assert isinstance(result, outcome.Error), result
    assert type(result.error) is KeyboardInterrupt


# --- introspection ----------------------------------------------------------------------


async def test_parent_task_and_child_tasks():
    async with tether.open_nursery() as nursery:
        assert nursery.parent_task is current_task()
        assert nursery in current_task().child_nurseries
        assert nursery.child_tasks == frozenset()

        nursery.start_soon(tether.sleep_forever, name="sleeper")
        [child] = nursery.child_tasks
        assert child.name == "sleeper"
        assert child.parent_nursery is nursery
        assert isinstance(nursery.child_tasks, frozenset)

        await wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert nursery.child_tasks == frozenset()
    assert nursery not in current_task().child_nurseries


async def test_finished_children_leave_child_tasks():
    async with tether.open_nursery() as nursery:
        nursery.start_soon(tether.checkpoint)
        nursery.start_soon(tether.sleep_forever)
        assert len(nursery.child_tasks) == 2
        await wait_all_tasks_blocked()
        [remaining] = nursery.child_tasks
        assert "sleep_forever" in remaining.name
        nursery.cancel_scope.cancel()


async def test_default_task_name_comes_from_the_function():
    async def descriptive_name():
        return current_task().name

    names = []

    async def record():
        names.append(await descriptive_name())

    async with tether.open_nursery() as nursery:
        nursery.start_soon(record)
    assert "record" in names[0]


# --- contextvars ------------------------------------------------------------------------


async def test_child_runs_in_a_copy_of_the_spawners_context():
    seen = {}

    async def child():
        seen["inherited"] = request_id.get()
        request_id.set("child's own value")
        seen["own"] = request_id.get()

    request_id.set("parent")
    async with tether.open_nursery() as nursery:
        nursery.start_soon(child)
        request_id.set("changed after spawning")
    assert seen == {"inherited": "parent", "own": "child's own value"}
    assert request_id.get() == "changed after spawning"


async def test_started_child_keeps_the_context_of_the_task_that_called_start():
    seen = []

    async def child(*, task_status=tether.TASK_STATUS_IGNORED):
        task_status.started()
        await tether.checkpoint()
        seen.append(request_id.get())
        seen.append(current_task().context.get(request_id))

    async def starter(nursery):
        request_id.set("starter")
        await nursery.start(child)

    async with tether.open_nursery() as nursery:
        nursery.start_soon(starter, nursery)
    assert seen == ["starter", "starter"]
