"""Tiers 3-4: nurseries, the only way to start a task, and ``Nursery.start``'s task status."""

from __future__ import annotations

import functools
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

from ._cancel import NONSTRICT_NOTE, CancelScope
from ._exceptions import Cancelled
from ._global import GLOBAL_RUN_CONTEXT, current_runner
from ._handles import TaskHandle
from ._ki import enable_ki_protection
from ._outcome import Error
from ._traps import Abort, RaiseCancelT, checkpoint, wait_task_rescheduled
from ._util import NoPublicConstructor, coroutine_or_error, final

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from ._outcome import Value
    from ._task import Task

T = TypeVar("T")
StatusT = TypeVar("StatusT")
StatusT_contra = TypeVar("StatusT_contra", contravariant=True)


class TaskStatus(Protocol[StatusT_contra]):
    """What :meth:`Nursery.start` passes to the started function as ``task_status``."""

    @overload
    def started(self: TaskStatus[None]) -> None: ...
    @overload
    def started(self, value: StatusT_contra) -> None: ...
    def started(self, value: Any = None) -> None:
        """Tell :meth:`Nursery.start` that the task is ready; ``value`` is what start returns."""


class _IgnoredTaskStatus(TaskStatus[Any]):
    def started(self, value: Any = None) -> None:
        pass

    def __repr__(self) -> str:
        return "TASK_STATUS_IGNORED"


TASK_STATUS_IGNORED: TaskStatus[Any] = _IgnoredTaskStatus()
"""Default for ``task_status`` parameters, so a function can be called directly or via
:meth:`Nursery.start`."""

_NO_STATUS: Any = object()


class _TaskStatus(TaskStatus[StatusT], Generic[StatusT]):
    __slots__ = ("_new_nursery", "_old_nursery", "_task", "_value")

    def __init__(self, old_nursery: Nursery, new_nursery: Nursery) -> None:
        self._old_nursery = old_nursery
        self._new_nursery = new_nursery
        self._value: Any = _NO_STATUS
        self._task: Task | None = None

    def __repr__(self) -> str:
        return f"<TaskStatus for {self._task!r}>"

    @enable_ki_protection
    def started(self, value: Any = None) -> None:
        if self._value is not _NO_STATUS:
            raise RuntimeError("called 'started' twice on the same task status")
        self._value = value
        old, new = self._old_nursery, self._new_nursery
        # If the start() call was cancelled meanwhile, leave the child where it is: it will
        # exit on its own, and its Cancelled must stay under the scope that caught it.
        if old._scope._effectively_cancelled:
            return
        if new._closed:
            raise RuntimeError("the nursery passed to start() closed before started() was called")
        task = self._task
        assert task is not None
        old_scope, new_scope = old._scope, new._scope
        # Detach everything from the old nursery before attaching to the new one: attaching
        # under a cancelled scope can run abort functions.
        old._children.discard(task)
        task._parent_nursery = new
        task._eventual_parent_nursery = None
        new._children.add(task)
        # Move what hangs below the old nursery's scope (the task, or the scopes it opened
        # before calling started()) below the new nursery's scope.
        moved_scopes = old_scope._children or set()
        old_scope._children = None
        moved_tasks = [t for t in old_scope._tasks if t is not old._parent_task]
        for moved in moved_tasks:
            old_scope._tasks.discard(moved)
            moved._cancel_status = new_scope
            new_scope._tasks.add(moved)
        if moved_scopes:
            if new_scope._children is None:
                new_scope._children = set()
            for child in moved_scopes:
                child._parent = new_scope
                new_scope._children.add(child)
        if new_scope._effectively_cancelled:
            for moved in moved_tasks:
                moved._attempt_delivery_of_any_pending_cancel()
            for child in moved_scopes:
                child._recalculate()
        old._check_nursery_closed()


@final
class Nursery(metaclass=NoPublicConstructor):
    """A place where child tasks live. Made by :func:`open_nursery`; its block does not end
    until every child has finished."""

    __slots__ = (
        "_children",
        "_closed",
        "_nested_child_running",
        "_parent_task",
        "_parent_waiting_in_aexit",
        "_pending_excs",
        "_pending_starts",
        "_scope",
        "_services",
        "_strict",
    )

    def __init__(self, parent_task: Task, scope: CancelScope, strict: bool) -> None:
        self._parent_task = parent_task
        self._scope = scope
        self._strict = strict
        self._children: set[Task] = set()
        self._pending_excs: list[BaseException] = []
        self._nested_child_running = True
        self._parent_waiting_in_aexit = False
        self._pending_starts = 0
        self._closed = False
        self._services: dict[Task, CancelScope] | None = None

    def __repr__(self) -> str:
        return f"<tether.Nursery of {self._parent_task!r}, {len(self._children)} children>"

    @property
    def cancel_scope(self) -> CancelScope:
        """The scope around the nursery's block and all its children: cancel it to cancel them."""
        return self._scope

    @property
    def child_tasks(self) -> frozenset[Task]:
        """The tasks currently running in this nursery."""
        return frozenset(self._children)

    @property
    def parent_task(self) -> Task:
        """The task that opened this nursery."""
        return self._parent_task

    def _add_exc(self, exc: BaseException) -> None:
        self._pending_excs.append(exc)
        self._scope.cancel()

    def _check_nursery_closed(self) -> None:
        services = self._services
        if (
            services
            and not self._nested_child_running
            and not self._pending_starts
            and len(self._children) == len(services)
        ):
            # Only services are left: nobody needs them any more.
            for scope in services.values():
                scope.cancel()
        if not (self._nested_child_running or self._children or self._pending_starts):
            self._closed = True
            if self._parent_waiting_in_aexit:
                self._parent_waiting_in_aexit = False
                self._parent_task._runner.reschedule(self._parent_task)

    def _child_finished(self, task: Task, result: Value | Error) -> None:
        self._children.remove(task)
        if self._services:
            self._services.pop(task, None)
        if type(result) is Error:
            self._add_exc(result.error)
        self._check_nursery_closed()

    async def _nested_child_finished(
        self, nested_child_exc: BaseException | None
    ) -> BaseException | None:
        if nested_child_exc is not None:
            self._add_exc(nested_child_exc)
        self._nested_child_running = False
        self._check_nursery_closed()
        if not self._closed:

            def aborted(raise_cancel: RaiseCancelT) -> Abort:
                try:
                    raise_cancel()
                except Cancelled:
                    # The children are cancelled with us; their Cancelled will come back.
                    pass
                except BaseException as exc:  # KeyboardInterrupt
                    self._add_exc(exc)
                return Abort.FAILED

            self._parent_waiting_in_aexit = True
            await wait_task_rescheduled(aborted)
        else:
            try:
                await checkpoint()
            except BaseException as exc:
                self._add_exc(exc)
        popped = self._parent_task._child_nurseries.pop()
        assert popped is self
        excs = self._pending_excs
        if not excs:
            return None
        self._pending_excs = []
        if not self._strict and len(excs) == 1:
            return excs[0]
        group = BaseExceptionGroup("Exceptions from tether nursery", excs)
        if not self._strict:
            group.add_note(NONSTRICT_NOTE)
        return group

    def start_soon(
        self,
        async_fn: Callable[..., Awaitable[object]],
        *args: object,
        name: object = None,
    ) -> None:
        """Start ``async_fn(*args)`` as a child task and return at once (not a checkpoint).

        The task begins running at the next scheduling round. ``name`` labels it in
        tracebacks and debugging tools. Raises ``RuntimeError`` if the nursery is closed.
        """
        current_runner().spawn_impl(async_fn, args, self, name)

    def start_task(
        self,
        async_fn: Callable[..., Awaitable[T]],
        *args: object,
        name: object = None,
    ) -> TaskHandle[T]:
        """Like :meth:`start_soon`, but return a :class:`TaskHandle`: ``await handle`` gives
        the task's return value; ``handle.cancel()`` cancels this task alone."""
        handle: TaskHandle[T] = TaskHandle()
        coro = coroutine_or_error(async_fn, *args)
        handle.task = current_runner().spawn_impl(
            handle._run, (coro,), self, async_fn if name is None else name
        )
        return handle

    def start_service(
        self,
        async_fn: Callable[..., Awaitable[object]],
        *args: object,
        name: object = None,
    ) -> None:
        """Start a background service: a task that is cancelled automatically once the
        nursery's block and all its other (non-service) tasks have finished, so it does
        not keep the nursery open forever (a heartbeat, a cache refresher). Being
        cancelled that way is a normal end; an error in a service propagates as usual."""
        scope = CancelScope()
        coro = coroutine_or_error(async_fn, *args)
        task = current_runner().spawn_impl(
            _run_service, (scope, coro), self, async_fn if name is None else name
        )
        if self._services is None:
            self._services = {}
        self._services[task] = scope
        self._check_nursery_closed()

    async def start(
        self,
        async_fn: Callable[..., Awaitable[object]],
        *args: object,
        name: object = None,
    ) -> Any:
        """Start ``async_fn(*args, task_status=...)`` and wait until it calls
        ``task_status.started(value)``; then move it into this nursery and return ``value``.

        Until ``started()`` the child runs under the caller's cancel scopes, so cancelling
        the caller cancels the start. If the child raises before ``started()``, the
        exception propagates from ``start``; if it returns without calling it, that is a
        ``RuntimeError``.
        """
        if self._closed:
            raise RuntimeError("Nursery is closed to new arrivals")
        try:
            self._pending_starts += 1
            async with open_nursery(strict_exception_groups=False) as old_nursery:
                task_status: _TaskStatus[Any] = _TaskStatus(old_nursery, self)
                thunk = functools.partial(async_fn, task_status=task_status)
                task = current_runner().spawn_impl(
                    thunk, args, old_nursery, name if name is not None else async_fn
                )
                task._eventual_parent_nursery = self
                task_status._task = task
            if task_status._value is _NO_STATUS:
                raise RuntimeError("child exited without calling task_status.started()")
            return task_status._value
        finally:
            self._pending_starts -= 1
            self._check_nursery_closed()


async def _run_service(scope: CancelScope, coro: Awaitable[object]) -> None:
    with scope:
        await coro


@final
class NurseryManager:
    """The async context manager returned by :func:`open_nursery`."""

    __slots__ = ("_nursery", "_scope", "_strict")

    def __init__(self, strict_exception_groups: bool | None) -> None:
        self._strict = strict_exception_groups
        self._scope: CancelScope | None = None
        self._nursery: Nursery | None = None

    @enable_ki_protection
    async def __aenter__(self) -> Nursery:
        runner = current_runner()
        task = runner.current_task
        assert task is not None
        strict = runner.strict_exception_groups if self._strict is None else self._strict
        scope = CancelScope()
        scope.__enter__()
        self._scope = scope
        nursery = Nursery._create(task, scope, strict)
        self._nursery = nursery
        task._child_nurseries.append(nursery)
        return nursery

    @enable_ki_protection
    async def __aexit__(
        self,
        etype: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        nursery, scope = self._nursery, self._scope
        assert nursery is not None
        assert scope is not None
        new_exc = await nursery._nested_child_finished(exc)
        if new_exc is None:
            scope.__exit__(None, None, None)
            return False
        if scope.__exit__(type(new_exc), new_exc, new_exc.__traceback__):
            return True
        if new_exc is exc:
            return False
        context = new_exc.__context__
        try:
            raise new_exc
        finally:
            new_exc.__context__ = context
            del new_exc, exc

    def __enter__(self) -> None:
        raise RuntimeError("use 'async with open_nursery()', not 'with open_nursery()'")

    def __exit__(self, *args: object) -> None:  # pragma: no cover  # __enter__ always raises
        raise AssertionError("unreachable")


def open_nursery(strict_exception_groups: bool | None = None) -> NurseryManager:
    """Open a nursery: ``async with tether.open_nursery() as nursery:``.

    The block does not exit until every task started in the nursery has finished. If the
    block or any child raises, the nursery's scope is cancelled (so the other children are
    cancelled), and once all have finished the errors are raised together as an
    ``ExceptionGroup``. ``strict_exception_groups`` defaults to the value given to
    :func:`tether.run` (``True``); with ``False`` a single error is raised on its own.
    """
    if GLOBAL_RUN_CONTEXT.runner is None:
        raise RuntimeError("open_nursery() must be used inside tether.run")
    return NurseryManager(strict_exception_groups)
