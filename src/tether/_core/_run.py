"""Tier 2: the run loop.

``run()`` builds a :class:`Runner`, which owns the clock, the I/O backend, the run queue
and the deadline queue, and steps tasks until none is left. A task runs until it hits a
trap (see ``_traps``); the loop then either queues it again (checkpoints) or records its
abort function and leaves it parked until something calls :meth:`Runner.reschedule`.
"""

from __future__ import annotations

import contextvars
import functools
import math
import os
import signal
import threading
import types
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from ._cancel import CancelScope, DeadlineQueue
from ._clock import SystemClock
from ._entry_queue import EntryQueue, TetherToken
from ._exceptions import Cancelled, TetherInternalError
from ._global import GLOBAL_RUN_CONTEXT, current_runner
from ._instruments import Instruments
from ._io import IOBackend, IOStatistics, make_io_backend
from ._ki import enable_ki_protection, ki_protection_enabled, mark_task_boundary
from ._mock_clock import MockClock
from ._nursery import Nursery, open_nursery
from ._outcome import SEND_KINDS, Error, Value, foreign_send_kind
from ._parking_lot import ParkingLot
from ._task import Task, _checkpoint_abort
from ._traps import (
    CHECKPOINT,
    SCHEDULE_POINT,
    Abort,
    RaiseCancelT,
    checkpoint,
    describe_bad_yield,
    wait_task_rescheduled,
)
from ._util import FrozenRecord, coroutine_object_error, coroutine_or_error, name_of

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable, Sequence

    import outcome

    from ._abc import Clock, Instrument

T = TypeVar("T")

# The longest the loop blocks in one I/O wait, so clock changes are noticed eventually.
_MAX_TIMEOUT = 86400.0
_NO_SEND: Any = object()
_IDLE_WAITERS, _IDLE_AUTOJUMP = 1, 2
_CO_GENERATOR = 0x20  # inspect.CO_GENERATOR


class RunStatistics(FrozenRecord):
    """A snapshot of the run loop, from :func:`tether.lowlevel.current_statistics`."""

    __slots__ = (
        "io_statistics",
        "run_sync_soon_queue_size",
        "seconds_to_next_deadline",
        "tasks_living",
        "tasks_runnable",
    )
    __match_args__ = (
        "tasks_living",
        "tasks_runnable",
        "seconds_to_next_deadline",
        "io_statistics",
        "run_sync_soon_queue_size",
    )
    tasks_living: int
    tasks_runnable: int
    seconds_to_next_deadline: float
    io_statistics: IOStatistics
    run_sync_soon_queue_size: int

    def __init__(
        self,
        tasks_living: int,
        tasks_runnable: int,
        seconds_to_next_deadline: float,
        io_statistics: IOStatistics,
        run_sync_soon_queue_size: int,
    ) -> None:
        self._fill(
            tasks_living,
            tasks_runnable,
            seconds_to_next_deadline,
            io_statistics,
            run_sync_soon_queue_size,
        )


class Runner:
    """The state of one ``tether.run``: one per run, reachable via GLOBAL_RUN_CONTEXT."""

    def __init__(
        self,
        clock: Clock,
        instruments: Instruments,
        io: IOBackend,
        strict_exception_groups: bool,
    ) -> None:
        self.clock = clock
        self.instruments = instruments
        self.io = io
        self.strict_exception_groups = strict_exception_groups
        self.runq: list[Task] = []
        self.tasks: set[Task] = set()
        self.deadlines = DeadlineQueue()
        self.current_task: Task | None = None
        self.init_task: Task | None = None
        self.main_task: Task | None = None
        self.main_task_outcome: Value | Error | None = None
        self.system_nursery: Nursery | None = None
        self.system_context = contextvars.copy_context()
        self.entry_queue = EntryQueue(io)
        self.token = TetherToken._create(self.entry_queue)
        self.ki_pending = False
        # wait_all_tasks_blocked waiters, keyed (cushion, tiebreak). A plain dict: there are
        # few, and they are looked at only when the loop is idle.
        self.waiting_for_idle: dict[tuple[float, int], Task] = {}
        self.clock_autojump_threshold = math.inf
        self.run_vars: dict[Any, Any] = {}
        self.internal_errors: list[BaseException] = []
        self.parking_lot_breakers: dict[Task, list[ParkingLot]] = {}
        self.shutdown_waiters: dict[Task, None] = {}
        self.rng: Any = None  # a random.Random when scheduling is seeded

    # -- scheduling ----------------------------------------------------------------------

    def reschedule(
        self, task: Task, next_send: outcome.Outcome[Any] | Value | Error = _NO_SEND
    ) -> None:
        """Make a parked task runnable, resuming it with ``next_send`` (default ``Value(None)``)."""
        if task._abort_func is None or task._abort_func is _checkpoint_abort:
            raise RuntimeError(f"cannot reschedule {task!r}: it is not blocked")
        if next_send is _NO_SEND:
            task._send_fn = task._coro_send
            task._send_arg = None
        else:
            # The kernel's own Value/Error, or outcome's (which the dict learns on first use).
            # Checked before the task is touched: a bad next_send leaves it parked.
            is_error = SEND_KINDS.get(type(next_send))
            if is_error is None:
                is_error = foreign_send_kind(next_send)
            if is_error:
                task._send_fn = task._coro_throw
                task._send_arg = next_send.error  # type: ignore[union-attr]
            else:
                task._send_fn = task._coro_send
                task._send_arg = next_send.value  # type: ignore[union-attr]
        task._abort_func = None
        task.custom_sleep_data = None
        self.runq.append(task)
        if self.instruments.by_hook["task_scheduled"]:
            self.instruments.call("task_scheduled", task)

    def _reschedule_throw(self, task: Task, exc: BaseException) -> None:
        # reschedule(task, Error(exc)) without building the outcome: cancellation's path.
        if task._abort_func is None or task._abort_func is _checkpoint_abort:
            raise RuntimeError(f"cannot reschedule {task!r}: it is not blocked")
        task._abort_func = None
        task.custom_sleep_data = None
        task._send_fn = task._coro_throw
        task._send_arg = exc
        self.runq.append(task)
        if self.instruments.by_hook["task_scheduled"]:
            self.instruments.call("task_scheduled", task)

    # -- spawning and exiting ------------------------------------------------------------

    def spawn_impl(
        self,
        async_fn: Callable[..., Awaitable[object]],
        args: Sequence[object],
        nursery: Nursery | None,
        name: object,
        *,
        system_task: bool = False,
        context: contextvars.Context | None = None,
    ) -> Task:
        if nursery is not None and nursery._closed:
            raise RuntimeError("Nursery is closed to new arrivals")
        if context is None:
            context = self.system_context.copy() if system_task else contextvars.copy_context()
        coro = context.run(coroutine_or_error, async_fn, *args)
        task = Task._create(
            coro, async_fn if name is None else name, context, nursery, self, system_task
        )
        self.tasks.add(task)
        if nursery is not None:
            nursery._children.add(task)
            task._cancel_status = nursery._scope
            nursery._scope._tasks.add(task)
        else:
            task._cancel_status = CancelScope._root()
            task._cancel_status._tasks.add(task)
        if self.instruments.by_hook["task_spawned"]:
            self.instruments.call("task_spawned", task)
        self.runq.append(task)
        if self.instruments.by_hook["task_scheduled"]:
            self.instruments.call("task_scheduled", task)
        return task

    def spawn_system(
        self,
        async_fn: Callable[..., Awaitable[object]],
        args: Sequence[object],
        name: object = None,
        context: contextvars.Context | None = None,
    ) -> Task:
        if self.system_nursery is None:
            raise RuntimeError("the system nursery is not open")
        return self.spawn_impl(
            async_fn, args, self.system_nursery, name, system_task=True, context=context
        )

    def _task_exited(self, task: Task, result: Value | Error) -> None:
        nursery = task._parent_nursery
        expected = nursery._scope if nursery is not None else None
        status = task._cancel_status
        if expected is not None and status is not expected:
            # The task returned from inside a cancel scope or nursery it never exited
            # (a coroutine abandoned mid-'with', usually). Unwind the bookkeeping.
            while status is not expected and status._parent is not None:
                status._tasks.discard(task)
                if status._parent._children is not None:
                    status._parent._children.discard(status)
                status = status._parent
            task._cancel_status = expected
            error = RuntimeError(
                f"{task!r} exited with a cancel scope or nursery still open; scopes must be "
                "exited in the task that entered them, in reverse order"
            )
            if type(result) is Error:
                error.__context__ = result.error
            result = Error(error)
        task._cancel_status._tasks.discard(task)
        self.tasks.remove(task)
        if self.parking_lot_breakers:
            for lot in self.parking_lot_breakers.pop(task, ()):
                lot.break_lot(task)
        if task is self.main_task:
            self.main_task_outcome = result
            result = Value(None)
            if self.system_nursery is not None:
                self.system_nursery.cancel_scope.cancel()
        elif task is self.init_task and type(result) is Error:
            self.internal_errors.append(result.error)
        if nursery is not None:
            nursery._child_finished(task, result)
        if self.instruments.by_hook["task_exited"]:
            self.instruments.call("task_exited", task)
        task._send_arg = None

    # -- the init task ---------------------------------------------------------------------

    async def init(self, async_fn: Callable[..., Awaitable[object]], args: tuple[Any, ...]) -> None:
        # Outer nursery: the run_sync_soon task, which must outlive every other system task.
        async with open_nursery() as entry_nursery:
            async with open_nursery() as system_nursery:
                self.system_nursery = system_nursery
                try:
                    self.main_task = self.spawn_impl(async_fn, args, system_nursery, None)
                except BaseException as exc:
                    self.main_task_outcome = Error(exc)
                    system_nursery.cancel_scope.cancel()
                self.spawn_impl(
                    self.entry_queue.task,
                    (),
                    entry_nursery,
                    "<TetherToken.run_sync_soon task>",
                    system_task=True,
                )
            self.system_nursery = None
            entry_nursery.cancel_scope.cancel()

    # -- KeyboardInterrupt -------------------------------------------------------------------

    def _ki_handler(self, signum: int, frame: types.FrameType | None) -> None:
        task = self.current_task
        default = task._system_task if task is not None else True
        if ki_protection_enabled(frame, default):
            self.ki_pending = True
            self.io.wakeup_threadsafe()
        else:
            raise KeyboardInterrupt

    def _raise_ki(self) -> NoReturn:
        self.ki_pending = False
        raise KeyboardInterrupt

    def _deliver_ki(self) -> None:
        main = self.main_task
        if main is not None and main._abort_func is not None and main in self.tasks:
            main._attempt_abort(self._raise_ki)

    # -- graceful shutdown -------------------------------------------------------------------

    def wake_shutdown_waiters(self, scope: CancelScope) -> None:
        for task in list(self.shutdown_waiters):
            if scope._covers(task._cancel_status):
                del self.shutdown_waiters[task]
                self.reschedule(task)

    # -- idleness (wait_all_tasks_blocked, autojump) -----------------------------------------

    @enable_ki_protection
    async def wait_all_tasks_blocked(self, cushion: float = 0.0) -> None:
        task = self.current_task
        assert task is not None
        key = (float(cushion), id(task))
        self.waiting_for_idle[key] = task

        def abort(_: RaiseCancelT) -> Abort:
            del self.waiting_for_idle[key]
            return Abort.SUCCEEDED

        await wait_task_rescheduled(abort)

    # -- the loop ------------------------------------------------------------------------------

    def _wait_timeout(self) -> tuple[float, int]:
        if self.runq:
            return 0.0, 0
        timeout = self.clock.deadline_to_sleep_time(self.deadlines.next_deadline())
        timeout = min(max(0.0, timeout), _MAX_TIMEOUT)
        if self.waiting_for_idle:
            cushion = min(self.waiting_for_idle)[0]
            if cushion < timeout:
                return cushion, _IDLE_WAITERS
        elif self.clock_autojump_threshold < timeout:
            return self.clock_autojump_threshold, _IDLE_AUTOJUMP
        return timeout, 0

    def _when_idle(self, primed: int, cushion: float) -> None:
        if primed == _IDLE_WAITERS:
            idle = self.waiting_for_idle
            for key in sorted(idle):
                if key[0] != cushion:
                    break
                self.reschedule(idle.pop(key))
        elif isinstance(self.clock, MockClock):
            self.clock._autojump()
            self.deadlines.expire(self.clock.current_time())

    @mark_task_boundary
    def run_loop(self) -> None:
        """Step tasks until none is left. The hottest code in tether: locals, no allocation."""
        io = self.io
        clock = self.clock
        deadlines = self.deadlines
        entry_queue = self.entry_queue
        instruments = self.instruments
        before_step = instruments.by_hook["before_task_step"]
        after_step = instruments.by_hook["after_task_step"]
        before_io = instruments.by_hook["before_io_wait"]
        after_io = instruments.by_hook["after_io_wait"]
        scheduled = instruments.by_hook["task_scheduled"]
        spare: list[Task] = []
        tasks = self.tasks
        while tasks:
            if self.ki_pending:
                self._deliver_ki()
            timeout, primed = self._wait_timeout()
            if timeout > 0 or io.has_waiters:
                if before_io:
                    instruments.call("before_io_wait", timeout)
                io.poll(timeout)
                if after_io:
                    instruments.call("after_io_wait", timeout)
            if deadlines._heap:
                deadlines.expire(clock.current_time())
            if entry_queue.parked_task is not None:
                entry_queue.wake_if_needed()
            if self.ki_pending:
                self._deliver_ki()
            if not self.runq:
                if primed:
                    self._when_idle(primed, timeout)
                continue

            batch = self.runq
            self.runq = spare
            if self.rng is not None:
                self.rng.shuffle(batch)
            for task in batch:
                self.current_task = task
                if before_step:
                    instruments.call("before_task_step", task)
                send_arg = task._send_arg
                task._send_arg = None
                task._abort_func = None
                try:
                    msg = task.context.run(task._send_fn, send_arg)
                except StopIteration as stop:
                    self.current_task = None
                    self._task_exited(task, Value(stop.value))
                except BaseException as exc:
                    self.current_task = None
                    tb = exc.__traceback__
                    if tb is not None:  # drop the run loop's own frame from the traceback
                        exc = exc.with_traceback(tb.tb_next)
                    self._task_exited(task, Error(exc))
                    del exc
                else:
                    task._schedule_points += 1
                    if msg is CHECKPOINT:
                        task._cancel_points += 1
                        if task._cancel_status._effectively_cancelled:
                            task._send_fn = task._coro_throw
                            task._send_arg = Cancelled._create()
                        else:
                            task._send_fn = task._coro_send
                            task._abort_func = _checkpoint_abort
                        self.runq.append(task)
                        if scheduled:
                            instruments.call("task_scheduled", task)
                    elif msg is SCHEDULE_POINT:
                        task._send_fn = task._coro_send
                        self.runq.append(task)
                        if scheduled:
                            instruments.call("task_scheduled", task)
                    elif callable(msg):
                        task._cancel_points += 1
                        task._abort_func = msg
                        if task._cancel_status._effectively_cancelled:
                            task._attempt_delivery_of_any_pending_cancel()
                    else:
                        task._send_fn = task._coro_throw
                        task._send_arg = TypeError(describe_bad_yield(msg))
                        self.runq.append(task)
                if after_step:
                    instruments.call("after_task_step", task)
            self.current_task = None
            batch.clear()
            spare = batch


# -- the public entry point --------------------------------------------------------------------


def run(
    async_fn: Callable[..., Coroutine[Any, Any, T]],
    *args: object,
    clock: Clock | None = None,
    instruments: Iterable[Instrument] = (),
    strict_exception_groups: bool = True,
    scheduling_seed: int | None = None,
) -> T:
    """Run ``async_fn(*args)`` under a new tether kernel and return what it returns.

    This is the entry point from synchronous code. It blocks until ``async_fn`` and every
    task it started have finished. An exception from ``async_fn`` propagates; errors from
    tasks in its nurseries arrive as ``ExceptionGroup``. ``clock`` replaces the real clock
    (see :class:`tether.testing.MockClock`), ``instruments`` observe the loop, and
    ``strict_exception_groups=False`` lets nurseries raise a single error bare.

    ``scheduling_seed`` (or the ``TETHER_SCHEDULING_SEED`` environment variable) turns on
    seeded scheduling for tests: each round of runnable tasks runs in an order shuffled
    by a random generator with that seed, so an ordering bug shows up under some seeds
    and replays exactly under the same one. By default tasks run in the order they
    became runnable.

    Raises ``TypeError`` if ``async_fn`` is not an async function (a coroutine object, or a
    plain function, is a mistake worth a clear message) and ``RuntimeError`` if a run is
    already active in this thread.
    """
    if GLOBAL_RUN_CONTEXT.runner is not None:
        raise RuntimeError("tether.run() cannot be called from inside a running tether.run()")
    if clock is None:
        clock = SystemClock()
    from ._abc import Clock as _Clock

    if not isinstance(clock, _Clock):
        raise TypeError(f"clock must be a tether.abc.Clock, not {clock!r}")
    # Fail fast on the commonest mistake, before any machinery starts.
    _reject_non_async(async_fn)
    runner = Runner(clock, Instruments(instruments), make_io_backend(), strict_exception_groups)
    if scheduling_seed is None and os.environ.get("TETHER_SCHEDULING_SEED"):
        scheduling_seed = int(os.environ["TETHER_SCHEDULING_SEED"])
    if scheduling_seed is not None:
        import random

        runner.rng = random.Random(scheduling_seed)
    GLOBAL_RUN_CONTEXT.runner = runner
    restore_sigint = _install_ki_handler(runner)
    try:
        clock.start_clock()
        if runner.instruments.by_hook["before_run"]:
            runner.instruments.call("before_run")
        runner.init_task = runner.spawn_impl(
            runner.init, (async_fn, args), None, "<init>", system_task=True
        )
        try:
            runner.run_loop()
        except BaseException as exc:
            raise TetherInternalError("the tether run loop itself crashed") from exc
        if runner.instruments.by_hook["after_run"]:
            runner.instruments.call("after_run")
    finally:
        restore_sigint()
        GLOBAL_RUN_CONTEXT.runner = None
        runner.io.close()
        _close_leftover_coroutines(runner)
    if runner.internal_errors:
        raise TetherInternalError(
            "a system task or run_sync_soon callback raised"
        ) from _group_or_single(runner.internal_errors)
    if runner.ki_pending:
        ki = KeyboardInterrupt()
        if type(runner.main_task_outcome) is Error:
            ki.__context__ = runner.main_task_outcome.error
        raise ki
    result = runner.main_task_outcome
    assert result is not None
    if type(result) is Error:
        error = result.error
        del result, runner  # no reference cycles through the traceback
        try:
            raise error  # directly: one frame of tether above the user's, not three
        finally:
            del error
    assert type(result) is Value
    return result.value  # type: ignore[no-any-return]


def _is_generator_function(fn: object) -> bool:
    # inspect.isgeneratorfunction, without importing inspect (milliseconds of start-up)
    # for the usual plain function, partial or bound method.
    inner = fn
    while isinstance(inner, functools.partial):
        inner = inner.func
    while isinstance(inner, types.MethodType):
        inner = inner.__func__
    if isinstance(inner, types.FunctionType):
        return bool(inner.__code__.co_flags & _CO_GENERATOR)
    import inspect

    return inspect.isgeneratorfunction(fn)


def _reject_non_async(async_fn: object) -> None:
    import collections.abc

    if isinstance(async_fn, collections.abc.Coroutine):
        raise coroutine_object_error(async_fn)
    if not callable(async_fn):
        raise TypeError(f"tether.run expected an async function, got {async_fn!r}")
    if _is_generator_function(async_fn):
        raise TypeError(
            f"tether.run expected an async function, but {name_of(async_fn)} is a generator "
            "function; define it with 'async def'"
        )


def _group_or_single(errors: list[BaseException]) -> BaseException:
    return errors[0] if len(errors) == 1 else BaseExceptionGroup("internal errors", errors)


def _close_leftover_coroutines(runner: Runner) -> None:
    # Only after a crash of the loop. A coroutine may refuse to close (a nursery's
    # __aexit__ awaits, which GeneratorExit does not allow): that must not hide the crash.
    for task in list(runner.tasks):
        try:
            task.coro.close()
        except Exception:
            pass
    runner.tasks.clear()


def _install_ki_handler(runner: Runner) -> Callable[[], None]:
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    try:
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return lambda: None  # the user installed their own: leave it alone
        signal.signal(signal.SIGINT, runner._ki_handler)
    except ValueError:  # pragma: no cover  # e.g. embedded interpreters without signals
        return lambda: None

    def restore() -> None:
        if signal.getsignal(signal.SIGINT) == runner._ki_handler:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    return restore


# -- the kernel's API for code running inside a run ---------------------------------------------


def current_task() -> Task:
    """The task that is running now."""
    task = current_runner().current_task
    if task is None:  # pragma: no cover  # only reachable from instrument hooks
        raise RuntimeError("no task is running")
    return task


def current_root_task() -> Task | None:
    """The run's root task (the one that holds the system nursery)."""
    return current_runner().init_task


def current_clock() -> Clock:
    """The clock of the current run."""
    return current_runner().clock


def current_time() -> float:
    """The current time on the run's clock, in seconds from an arbitrary origin."""
    return current_runner().clock.current_time()


def current_statistics() -> RunStatistics:
    """A snapshot of the run loop's state (tasks, deadlines, I/O, pending callbacks)."""
    runner = current_runner()
    next_deadline = runner.deadlines.next_deadline()
    return RunStatistics(
        tasks_living=len(runner.tasks),
        tasks_runnable=len(runner.runq),
        seconds_to_next_deadline=next_deadline - runner.clock.current_time(),
        io_statistics=runner.io.statistics(),
        run_sync_soon_queue_size=runner.entry_queue.size(),
    )


def current_effective_deadline() -> float:
    """The deadline that applies to the current task right now: the earliest deadline of the
    cancel scopes around it (up to the nearest shield), or ``-inf`` if it is cancelled."""
    task = current_task()
    scope: CancelScope | None = task._cancel_status
    if scope is not None and scope._effectively_cancelled:
        return -math.inf
    deadline = math.inf
    while scope is not None:
        deadline = min(deadline, scope._deadline)
        if scope._shield:
            break
        scope = scope._parent
    return deadline


def add_instrument(instrument: Instrument) -> None:
    """Start calling ``instrument``'s hooks in the current run (no-op if already there)."""
    current_runner().instruments.add(instrument)


def remove_instrument(instrument: Instrument) -> None:
    """Stop calling ``instrument``'s hooks; ``KeyError`` if it is not installed."""
    current_runner().instruments.remove(instrument)


def reschedule(task: Task, next_send: outcome.Outcome[Any] | Value | Error = _NO_SEND) -> None:
    """Wake a task parked in :func:`wait_task_rescheduled`, resuming it with ``next_send``
    (an ``outcome.Value`` or ``outcome.Error``; default ``Value(None)``)."""
    current_runner().reschedule(task, next_send)


def spawn_system_task(
    async_fn: Callable[..., Awaitable[object]],
    *args: object,
    name: object = None,
    context: contextvars.Context | None = None,
) -> Task:
    """Start a system task: it lives in the run's system nursery, is cancelled when the main
    task ends, runs KeyboardInterrupt-protected, and crashes the run with
    :exc:`TetherInternalError` if it raises."""
    return current_runner().spawn_system(async_fn, args, name, context)


@types.coroutine
def checkpoint_if_cancelled() -> Generator[Any, Any, None]:
    """Raise ``Cancelled`` if the current task is cancelled; otherwise do nothing (and do
    not yield)."""
    # A generator coroutine, not ``async def``: it is on every channel, lock and socket
    # operation, and this way the common case costs one frame and no coroutine object.
    runner = GLOBAL_RUN_CONTEXT.runner
    if runner is None:
        raise RuntimeError("must be called from async context (inside tether.run)")
    task = runner.current_task
    assert task is not None
    task._cancel_points += 1
    if task._cancel_status._effectively_cancelled or (
        runner.ki_pending and task is runner.main_task
    ):
        yield CHECKPOINT
        raise AssertionError("unreachable: a cancelled checkpoint returned")  # pragma: no cover


async def wait_all_tasks_blocked(cushion: float = 0.0) -> None:
    """Block until every other task is blocked, and no I/O arrived for ``cushion`` seconds.

    A testing aid: it tells you the program has reached a quiet point. If several tasks
    wait with the same cushion they all wake together.
    """
    await current_runner().wait_all_tasks_blocked(cushion)


def shutdown_requested() -> bool:
    """Whether a graceful shutdown was requested (:meth:`CancelScope.request_shutdown`) for
    a scope around the current task; code that can stop early should check it."""
    task = current_task()
    scope: CancelScope | None = task._cancel_status
    while scope is not None:
        if scope._shutdown_requested:
            return True
        if scope._shield:
            return False
        scope = scope._parent
    return False


@enable_ki_protection
async def wait_shutdown_requested() -> None:
    """Block until a graceful shutdown is requested for a scope around the current task
    (at once, after a checkpoint, if one already was)."""
    if shutdown_requested():
        await checkpoint()
        return
    runner = current_runner()
    task = current_task()
    runner.shutdown_waiters[task] = None

    def abort(_: RaiseCancelT) -> Abort:
        runner.shutdown_waiters.pop(task, None)
        return Abort.SUCCEEDED

    await wait_task_rescheduled(abort)
