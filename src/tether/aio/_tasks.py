"""asyncio's task functions: sleep, gather, wait, wait_for, as_completed, shield, timeout,
TaskGroup, to_thread, create_task."""

from __future__ import annotations

import contextvars
import functools
import math
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from types import TracebackType
from typing import Any, TypeVar, overload

import tether

from ._exceptions import CancelledError
from ._futures import Future, Task
from ._loop import Handle, current_task, ensure_future, get_event_loop, get_running_loop

T = TypeVar("T")

FIRST_COMPLETED = "FIRST_COMPLETED"
FIRST_EXCEPTION = "FIRST_EXCEPTION"
ALL_COMPLETED = "ALL_COMPLETED"


def create_task(
    coro: Coroutine[Any, Any, T],
    *,
    name: str | None = None,
    context: contextvars.Context | None = None,
) -> Task[T]:
    """Schedule ``coro`` as a Task of the running loop."""
    return get_running_loop().create_task(coro, name=name, context=context)


@overload
async def sleep(delay: float) -> None: ...
@overload
async def sleep(delay: float, result: T) -> T: ...
async def sleep(delay: float, result: Any = None) -> Any:
    """Suspend for ``delay`` seconds (``sleep(0)`` just yields), then return ``result``."""
    if delay <= 0:
        await tether.lowlevel.cancel_shielded_checkpoint()
        return result
    await tether.sleep(delay)
    return result


async def _wait_for_one(future: Future[Any]) -> None:
    if not future.done():
        await future._waiters.park()


class _GatheringFuture(Future[list[Any]]):
    """What :func:`gather` returns: cancelling it cancels every child."""

    def __init__(self, children: list[Future[Any]], *, loop: Any) -> None:
        super().__init__(loop=loop)
        self._children = children
        self._cancel_requested = False

    def cancel(self, msg: object = None) -> bool:
        if self.done():
            return False
        cancelled_any = False
        for child in self._children:
            if child.cancel(msg=msg):
                cancelled_any = True
        if cancelled_any:
            self._cancel_requested = True
        return cancelled_any


def gather(*aws: Awaitable[Any], return_exceptions: bool = False) -> Future[list[Any]]:
    """Run awaitables concurrently; the returned future gives their results in order
    (asyncio semantics: the first error propagates at once unless ``return_exceptions``,
    the others keep running; cancelling the gather cancels them all)."""
    if not aws:
        empty: Future[list[Any]] = get_event_loop().create_future()
        empty.set_result([])
        return empty
    loop: Any = None
    children: list[Future[Any]] = []
    seen: dict[int, Future[Any]] = {}
    for aw in aws:
        if id(aw) not in seen:
            child = ensure_future(aw, loop=loop)
            loop = child.get_loop()
            seen[id(aw)] = child
        children.append(seen[id(aw)])
    outer = _GatheringFuture(children, loop=loop)
    unique = len(seen)
    finished = 0

    def on_child_done(child: Future[Any]) -> None:
        nonlocal finished
        finished += 1
        if outer.done():
            if not child.cancelled():
                child.exception()  # the caller went away: mark it retrieved
            return
        if not return_exceptions:
            if child.cancelled():
                outer.set_exception(child._make_cancelled_error())
                return
            error = child.exception()
            if error is not None:
                outer.set_exception(error)
                return
        if finished < unique:
            return
        results: list[Any] = []
        for each in children:
            if each.cancelled():
                results.append(each._make_cancelled_error())
            else:
                error = each.exception()
                results.append(error if error is not None else each.result())
        if outer._cancel_requested:
            outer.set_exception(CancelledError())
        else:
            outer.set_result(results)

    for child in seen.values():
        child.add_done_callback(on_child_done)
    return outer


async def wait(
    fs: Iterable[Awaitable[Any]],
    *,
    timeout: float | None = None,
    return_when: str = ALL_COMPLETED,
) -> tuple[set[Future[Any]], set[Future[Any]]]:
    """Wait for futures/tasks until ``return_when``; returns ``(done, pending)``."""
    futures = {ensure_future(f) for f in fs}
    if not futures:
        raise ValueError("Set of Tasks/Futures is empty.")
    if return_when not in (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED):
        raise ValueError(f"Invalid return_when value: {return_when}")
    loop = get_running_loop()
    waiter: Future[None] = loop.create_future()

    def check(_: Future[Any]) -> None:
        done = [f for f in futures if f.done()]
        if waiter.done():
            return
        if (
            (return_when == FIRST_COMPLETED and done)
            or (
                return_when == FIRST_EXCEPTION
                and any(not f.cancelled() and f.exception() is not None for f in done)
            )
            or len(done) == len(futures)
        ):
            waiter.set_result(None)

    for future in futures:
        future.add_done_callback(check)
    check(waiter)
    try:
        with tether.move_on_after(math.inf if timeout is None else timeout):
            await _wait_for_one(waiter)
    finally:
        for future in futures:
            future.remove_done_callback(check)
    done = {f for f in futures if f.done()}
    return done, futures - done


async def wait_for(aw: Awaitable[T], timeout: float | None) -> T:
    """Await ``aw`` with a time limit: on timeout it is cancelled (and awaited) and
    ``TimeoutError`` is raised."""
    future = ensure_future(aw)
    if timeout is None:
        return await future
    if timeout <= 0 and future.done():
        return future.result()
    try:
        with tether.move_on_after(max(0.0, timeout)) as scope:
            await _wait_for_one(future)
    except BaseException:
        # The caller was cancelled: so is what it waited for (it may clean up first).
        if future.cancel():
            with tether.CancelScope(shield=True):
                await _wait_for_one(future)
        raise
    if scope.cancelled_caught and not future.done():
        future.cancel()
        await _wait_for_one(future)
        if future.cancelled():
            raise TimeoutError
    return future.result()


def as_completed(
    fs: Iterable[Awaitable[Any]], *, timeout: float | None = None
) -> Iterator[Coroutine[Any, Any, Any]]:
    """Iterate over coroutines that return the results in the order they complete."""
    futures = [ensure_future(f) for f in dict.fromkeys(fs)]
    loop = get_running_loop()
    finished: list[Future[Any]] = []
    arrived = tether.lowlevel.ParkingLot()
    deadline = None if timeout is None else loop.time() + timeout

    def on_done(future: Future[Any]) -> None:
        finished.append(future)
        arrived.unpark_all()

    for future in futures:
        future.add_done_callback(on_done)

    async def next_done() -> Any:
        with tether.move_on_at(math.inf if deadline is None else deadline) as scope:
            while not finished:
                await arrived.park()
        if scope.cancelled_caught:
            raise TimeoutError
        return finished.pop(0).result()

    for _ in futures:
        yield next_done()


def shield(aw: Awaitable[T]) -> Future[T]:
    """Protect ``aw`` from being cancelled when the caller is cancelled."""
    inner = ensure_future(aw)
    if inner.done():
        return inner
    outer: Future[T] = inner.get_loop().create_future()

    def copy(done: Future[T]) -> None:
        if outer.cancelled():
            if not done.cancelled():
                done.exception()  # mark retrieved: the caller went away
            return
        if done.cancelled():
            outer.cancel()
        elif done.exception() is not None:
            outer.set_exception(done.exception())  # type: ignore[arg-type]
        else:
            outer.set_result(done.result())

    inner.add_done_callback(copy)
    return outer


async def to_thread(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``func`` in a worker thread (contextvars copied) and return its result."""
    return await tether.to_thread.run_sync(functools.partial(func, *args, **kwargs))


class Timeout:
    """``async with timeout(delay):`` (asyncio 3.11): cancel the block's task when time is
    up and raise ``TimeoutError`` from the block."""

    def __init__(self, when: float | None) -> None:
        self._when = when
        self._task: Task[Any] | None = None
        self._handle: Handle | None = None
        self._expired = False
        self._entered = False

    def when(self) -> float | None:
        return self._when

    def reschedule(self, when: float | None) -> None:
        self._when = when
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if when is not None and self._task is not None:
            loop = get_running_loop()
            if when <= loop.time():
                self._handle = loop.call_soon(self._on_timeout)
            else:
                self._handle = loop.call_at(when, self._on_timeout)

    def expired(self) -> bool:
        return self._expired

    def _on_timeout(self) -> None:
        assert self._task is not None
        self._expired = True
        self._task.cancel()
        self._handle = None

    async def __aenter__(self) -> Timeout:
        if self._entered:
            raise RuntimeError("Timeout has already been entered")
        self._entered = True
        task = current_task()
        if task is None:
            raise RuntimeError("Timeout should be used inside a task")
        self._task = task
        self.reschedule(self._when)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._expired and self._task is not None:
            remaining = self._task.uncancel()
            if exc_type is CancelledError and remaining == 0:
                raise TimeoutError from exc
        return None


def timeout(delay: float | None) -> Timeout:
    """A timeout of ``delay`` seconds from now (``None``: no timeout, reschedulable)."""
    loop = get_running_loop()
    return Timeout(loop.time() + delay if delay is not None else None)


def timeout_at(when: float | None) -> Timeout:
    """A timeout at loop time ``when``."""
    return Timeout(when)


class TaskGroup:
    """asyncio 3.11's TaskGroup: ``async with TaskGroup() as tg: tg.create_task(...)``.

    The block waits for every task; the first failure cancels the rest (and the block),
    and the errors come out as an ``ExceptionGroup``.
    """

    def __init__(self) -> None:
        self._tasks: set[Task[Any]] = set()
        self._errors: list[BaseException] = []
        self._parent: Task[Any] | None = None
        self._entered = False
        self._exiting = False
        self._aborting = False
        self._parent_cancel_requested = False
        self._done_lot = tether.lowlevel.ParkingLot()

    async def __aenter__(self) -> TaskGroup:
        if self._entered:
            raise RuntimeError("TaskGroup has already been entered")
        self._entered = True
        self._parent = current_task()
        if self._parent is None:
            raise RuntimeError("TaskGroup cannot determine the parent task")
        return self

    def create_task(
        self,
        coro: Coroutine[Any, Any, T],
        *,
        name: str | None = None,
        context: contextvars.Context | None = None,
    ) -> Task[T]:
        if not self._entered:
            raise RuntimeError("TaskGroup has not been entered")
        if self._exiting and not self._tasks:
            raise RuntimeError("TaskGroup is finished")
        if self._aborting:
            raise RuntimeError("TaskGroup is shutting down")
        task = get_running_loop().create_task(coro, name=name, context=context)
        self._tasks.add(task)
        task.add_done_callback(self._on_task_done)
        return task

    def _abort(self) -> None:
        self._aborting = True
        for task in self._tasks:
            if not task.done():
                task.cancel()

    def _on_task_done(self, task: Task[Any]) -> None:
        self._tasks.discard(task)
        self._done_lot.unpark_all()
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        self._errors.append(exc)
        if not self._aborting:
            self._abort()
            if self._parent is not None and not self._parent_cancel_requested:
                self._parent_cancel_requested = True
                self._parent.cancel()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        self._exiting = True
        propagate_cancel: BaseException | None = None
        if exc is not None and exc_type is CancelledError:
            propagate_cancel = exc
        if exc is not None and not self._aborting:
            self._abort()
        while self._tasks:
            try:
                await self._done_lot.park()
            except CancelledError as cancelled:
                if not self._aborting:
                    propagate_cancel = cancelled
                    self._abort()
        if (
            self._parent_cancel_requested
            and self._parent is not None
            and self._parent.uncancel() == 0
        ):
            propagate_cancel = None
        if propagate_cancel is not None and not self._errors:
            raise propagate_cancel
        if exc is not None and exc_type is not CancelledError:
            self._errors.append(exc)
        if self._errors:
            errors = self._errors
            self._errors = []
            raise BaseExceptionGroup("unhandled errors in a TaskGroup", errors) from None
        return None
