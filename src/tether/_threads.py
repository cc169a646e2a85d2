"""Tier 5: running blocking code in worker threads, and calling back into the loop.

``to_thread.run_sync`` parks the calling task while a cached worker thread runs the
function. A thread started that way can call back with ``from_thread.run`` /
``from_thread.run_sync``: the request is handed to the parked task, which runs it in its
own context (so its cancel scopes apply) and sends the outcome back to the thread. From
any other thread the calls take an explicit :class:`~tether.lowlevel.TetherToken` and
run in a system task.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import types
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ._core import (
    Abort,
    RaiseCancelT,
    RunFinishedError,
    RunVar,
    TetherToken,
    cancel_shielded_checkpoint,
    checkpoint_if_cancelled,
    current_task,
    current_tether_token,
    disable_ki_protection,
    enable_ki_protection,
    reschedule,
    spawn_system_task,
    wait_task_rescheduled,
)
from ._core._global import GLOBAL_RUN_CONTEXT
from ._core._outcome import Error, Value, capture, unwrap
from ._core._util import check_sync_fn, coroutine_object_error, coroutine_or_error, name_of
from ._sync import CapacityLimiter, borrow_token
from ._thread_cache import THREAD_CACHE
from ._timeouts import sleep_forever

T = TypeVar("T")

DEFAULT_THREAD_LIMIT = 40
_limiter_var: RunVar[CapacityLimiter] = RunVar("tether.to_thread default limiter")
_cleanup_var: RunVar[bool] = RunVar("tether.to_thread cache cleanup", default=False)


def current_default_thread_limiter() -> CapacityLimiter:
    """The :class:`~tether.CapacityLimiter` that :func:`run_sync` uses by default: 40 threads
    per run. Change its ``total_tokens`` to allow more or fewer."""
    try:
        return _limiter_var.get()
    except LookupError:
        limiter = CapacityLimiter(DEFAULT_THREAD_LIMIT)
        _limiter_var.set(limiter)
        return limiter


class _ThreadState(threading.local):
    """What a worker thread knows about the task that is waiting for it."""

    token: TetherToken | None = None
    request_queue: _Requests | None = None
    cancel_register: list[RaiseCancelT | None] | None = None


_thread_state = _ThreadState()


class _Requests:
    """The channel from a worker thread back to the task that waits for it."""

    __slots__ = ("abandoned", "task")

    def __init__(self, task: Any) -> None:
        self.task: Any = task
        self.abandoned = False


class _Request:
    """A from_thread call, executed by the waiting task; the thread blocks on ``reply``."""

    __slots__ = ("args", "context", "fn", "is_async", "reply")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], is_async: bool) -> None:
        self.fn = fn
        self.args = args
        self.is_async = is_async
        self.reply: queue.SimpleQueue[Value | Error] = queue.SimpleQueue()
        # The calling thread's context variables, which the call sees (as in Trio).
        self.context = contextvars.copy_context()

    async def run_in_task(self) -> None:
        if not self.is_async:
            self.reply.put(self.context.run(capture, _call_unprotected_sync, self.fn, self.args))
            return
        # The kernel runs each step of a task in task.context: adopt the thread's context
        # for the call (a schedule point makes the next step start in it), then restore.
        task = current_task()
        saved = task.context
        task.context = self.context
        try:
            await cancel_shielded_checkpoint()
            result: Value | Error
            try:
                result = Value(await _call_unprotected_async(self.fn, self.args))
            except BaseException as exc:
                result = Error(exc)
        finally:
            task.context = saved
        await cancel_shielded_checkpoint()
        self.reply.put(result)


class _WorkerResult:
    __slots__ = ("outcome",)

    def __init__(self, result: Value | Error) -> None:
        self.outcome = result


@disable_ki_protection
async def _call_unprotected_async(fn: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> T:
    return await coroutine_or_error(fn, *args)  # type: ignore[no-any-return]


@disable_ki_protection
def _call_unprotected_sync(fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    result = fn(*args)
    if isinstance(result, types.CoroutineType):
        result.close()
        raise TypeError(
            f"from_thread.run_sync expected a sync function, but {name_of(fn)} is async; "
            "use from_thread.run instead"
        )
    return result


def _ensure_cache_cleanup() -> None:
    # Once per run: when the run ends, its idle worker threads go home, so none outlives it.
    if _cleanup_var.get():
        return
    _cleanup_var.set(True)
    spawn_system_task(_retire_threads_at_run_end, name="<tether worker-thread janitor>")


async def _retire_threads_at_run_end() -> None:
    try:
        await sleep_forever()
    finally:
        THREAD_CACHE.retire_idle()


@enable_ki_protection
async def run_sync(
    sync_fn: Callable[..., T],
    *args: object,
    thread_name: str | None = None,
    abandon_on_cancel: bool = False,
    limiter: CapacityLimiter | None = None,
) -> T:
    """Run ``sync_fn(*args)`` in a worker thread and return its result (or raise its
    exception, traceback intact).

    The call holds a token of ``limiter`` (default: :func:`current_default_thread_limiter`)
    while the thread runs. It is not cancellable once the thread has started, unless
    ``abandon_on_cancel=True``: then a cancellation returns at once with ``Cancelled`` and
    the thread, left to finish on its own, has its result discarded (it still holds the
    limiter token until it ends). Context variables are copied into the thread. The thread
    may call back with :func:`tether.from_thread.run` and friends.
    """
    check_sync_fn(sync_fn, "to_thread.run_sync", "threads")
    await checkpoint_if_cancelled()
    if limiter is None:
        limiter = current_default_thread_limiter()
    abandon = bool(abandon_on_cancel)
    _ensure_cache_cleanup()
    task = current_task()
    token = current_tether_token()
    placeholder = object()  # borrows the token, so the thread (not the task) holds it
    await borrow_token(limiter, placeholder)  # a checkpoint already: see borrow_token
    requests = _Requests(task)
    cancel_register: list[RaiseCancelT | None] = [None]
    context = contextvars.copy_context()

    def report_back(result: Value | Error) -> None:
        # Runs in the loop thread, via the token.
        limiter.release_on_behalf_of(placeholder)
        if not requests.abandoned:
            reschedule(requests.task, Value(_WorkerResult(result)))

    def in_thread() -> Any:
        _thread_state.token = token
        _thread_state.request_queue = requests
        _thread_state.cancel_register = cancel_register
        try:
            result = context.run(sync_fn, *args)
            if isinstance(result, types.CoroutineType):
                result.close()
                raise TypeError(
                    f"to_thread.run_sync expected a sync function, but {name_of(sync_fn)} "
                    "returned a coroutine"
                )
            return result
        finally:
            _thread_state.token = None
            _thread_state.request_queue = None
            _thread_state.cancel_register = None

    def deliver(result: Value | Error) -> None:
        try:
            token.run_sync_soon(report_back, result)
        except RunFinishedError:
            pass  # abandoned, and the run is over: nobody is left to tell

    try:
        THREAD_CACHE.start_thread_soon(
            in_thread, deliver, thread_name or f"tether.to_thread.run_sync: {name_of(sync_fn)}"
        )
    except BaseException:
        limiter.release_on_behalf_of(placeholder)
        raise

    def abort(raise_cancel: RaiseCancelT) -> Abort:
        cancel_register[0] = raise_cancel  # lets from_thread.check_cancelled see it
        if abandon:
            requests.abandoned = True
            return Abort.SUCCEEDED
        return Abort.FAILED

    while True:
        message = await wait_task_rescheduled(abort)
        if type(message) is _WorkerResult:
            return unwrap(message.outcome)  # type: ignore[no-any-return]
        assert type(message) is _Request
        await message.run_in_task()


# -- from_thread ----------------------------------------------------------------------------


def _check_not_in_loop_thread(what: str) -> None:
    if GLOBAL_RUN_CONTEXT.runner is not None:
        raise RuntimeError(
            f"from_thread.{what} was called from the thread that runs the tether loop, which "
            "would deadlock; call the function directly (await it) instead"
        )


def _resolve_token(token: TetherToken | None, what: str) -> tuple[TetherToken, _Requests | None]:
    _check_not_in_loop_thread(what)
    if token is not None:
        if not isinstance(token, TetherToken):
            raise TypeError(f"tether_token must be a TetherToken, not {token!r}")
        # An explicit token for our own run still goes through the waiting task.
        if token is _thread_state.token:
            return token, _thread_state.request_queue
        return token, None
    if _thread_state.token is None:
        raise RuntimeError(
            f"from_thread.{what} needs a tether_token= when called from a thread that was not "
            "started by tether.to_thread.run_sync"
        )
    return _thread_state.token, _thread_state.request_queue


def _send_request(token: TetherToken, requests: _Requests | None, request: _Request) -> Any:
    if requests is not None and not requests.abandoned:

        def hand_to_task() -> None:
            if requests.abandoned:
                _run_request_in_system_task(request)
            else:
                reschedule(requests.task, Value(request))

        token.run_sync_soon(hand_to_task)
    else:
        token.run_sync_soon(_run_request_in_system_task, request)
    return unwrap(request.reply.get())


def _run_request_in_system_task(request: _Request) -> None:
    if not request.is_async:
        request.reply.put(
            request.context.run(capture, _call_unprotected_sync, request.fn, request.args)
        )
        return
    try:
        spawn_system_task(request.run_in_task, name=request.fn, context=request.context)
    except RuntimeError as exc:  # the run is shutting down
        request.reply.put(Error(RunFinishedError(str(exc))))


def from_thread_run(
    async_fn: Callable[..., Awaitable[T]], *args: object, tether_token: TetherToken | None = None
) -> T:
    """From a worker thread, run ``async_fn(*args)`` in the loop and return its result.

    In a thread started by :func:`tether.to_thread.run_sync` the loop is found implicitly
    and the call runs inside the waiting task (its cancel scopes apply: if that task is
    cancelled, ``Cancelled`` is raised here). From any other thread pass ``tether_token``;
    the call then runs in a system task. Raises ``RuntimeError`` in the loop's own thread,
    and :exc:`~tether.RunFinishedError` if the run is over.
    """
    token, requests = _resolve_token(tether_token, "run")
    if isinstance(async_fn, types.CoroutineType):
        raise coroutine_object_error(async_fn)
    if not callable(async_fn):
        raise TypeError(f"from_thread.run expected an async function, not {async_fn!r}")
    return _send_request(token, requests, _Request(async_fn, args, is_async=True))  # type: ignore[no-any-return]


def from_thread_run_sync(
    sync_fn: Callable[..., T], *args: object, tether_token: TetherToken | None = None
) -> T:
    """From a worker thread, run ``sync_fn(*args)`` in the loop's thread and return its result.

    Finds the loop the same way as :func:`run`. ``sync_fn`` must not block.
    """
    token, requests = _resolve_token(tether_token, "run_sync")
    if isinstance(sync_fn, types.CoroutineType):
        raise coroutine_object_error(sync_fn)
    import inspect  # not at import time: it costs milliseconds

    if inspect.iscoroutinefunction(sync_fn):
        raise TypeError(
            f"from_thread.run_sync expected a sync function, but {name_of(sync_fn)} is async; "
            "use from_thread.run"
        )
    return _send_request(token, requests, _Request(sync_fn, args, is_async=False))  # type: ignore[no-any-return]


def from_thread_check_cancelled() -> None:
    """In a thread started by :func:`tether.to_thread.run_sync`: raise ``Cancelled`` if the
    task waiting for this thread has been cancelled (so long-running blocking code can stop
    early). Elsewhere: ``RuntimeError``."""
    _check_not_in_loop_thread("check_cancelled")
    register = _thread_state.cancel_register
    if register is None:
        raise RuntimeError(
            "from_thread.check_cancelled only works in threads started by to_thread.run_sync"
        )
    raise_cancel = register[0]
    if raise_cancel is not None:
        raise_cancel()


def from_thread_token() -> TetherToken | None:
    """The token of the run that started this worker thread, or ``None``."""
    return _thread_state.token
