"""The asyncio-shaped event loop object, on a tether run.

``run_until_complete`` (and so ``tether.aio.run``) is one ``tether.run``. Inside it, a
supervising nursery holds every Task and one more task that runs ``call_soon`` callbacks
and ``call_later`` timers in order. When the main coroutine finishes, the remaining
tasks are cancelled (asyncio-style, so they may clean up), then the nursery closes:
nothing outlives the run, and an exception nobody retrieved is reported.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
import heapq
import itertools
import logging
import math
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import tether
from tether.lowlevel import ParkingLot, TetherToken, current_tether_token

from ._futures import Future, Task, _is_coroutine

T = TypeVar("T")
logger = logging.getLogger("tether.aio")


class _ThreadState(threading.local):
    running_loop: EventLoop | None = None
    current_loop: EventLoop | None = None
    current_task: Task[Any] | None = None


_state = _ThreadState()


def _set_current_task(task: Task[Any] | None) -> Task[Any] | None:
    previous = _state.current_task
    _state.current_task = task
    return previous


def _format_callback(callback: Callable[..., object], args: tuple[Any, ...]) -> str:
    """``name(args) at file:line``, as asyncio shows a callback in its reports."""
    inner: Any = callback
    while isinstance(inner, functools.partial):
        args = (*inner.args, *args)
        inner = inner.func
    name = getattr(inner, "__qualname__", None) or repr(inner)
    text = f"{name}({', '.join(map(repr, args))})"
    code = getattr(inner, "__code__", None)
    if code is not None:
        text += f" at {code.co_filename}:{code.co_firstlineno}"
    return text


def _first_interrupt(group: BaseExceptionGroup[Any]) -> BaseException | None:
    """The first KeyboardInterrupt/SystemExit in ``group`` if that is all it holds."""
    matched, rest = group.split((KeyboardInterrupt, SystemExit))
    if matched is None or rest is not None:
        return None
    first: BaseException = matched
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    return first


class Handle:
    """A callback scheduled with ``call_soon`` (cancel it with :meth:`cancel`)."""

    __slots__ = ("_args", "_callback", "_cancelled", "_context", "_loop")

    def __init__(
        self,
        callback: Callable[..., object],
        args: tuple[Any, ...],
        loop: EventLoop,
        context: contextvars.Context | None,
    ) -> None:
        self._callback = callback
        self._args = args
        self._loop = loop
        self._context = context if context is not None else contextvars.copy_context()
        self._cancelled = False

    def __repr__(self) -> str:
        cancelled = " cancelled" if self._cancelled else ""
        return f"<{type(self).__name__}{cancelled} {_format_callback(self._callback, self._args)}>"

    def cancel(self) -> None:
        self._cancelled = True

    def cancelled(self) -> bool:
        return self._cancelled

    def get_context(self) -> contextvars.Context:
        return self._context

    def _run(self) -> None:
        try:
            self._context.run(self._callback, *self._args)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            where = _format_callback(self._callback, self._args)
            self._loop.call_exception_handler(
                {
                    "message": f"Exception in callback {where}",
                    "exception": exc,
                    "handle": self,
                }
            )


class TimerHandle(Handle):
    """A callback scheduled with ``call_later`` / ``call_at``."""

    __slots__ = ("_when",)

    def __init__(
        self,
        when: float,
        callback: Callable[..., object],
        args: tuple[Any, ...],
        loop: EventLoop,
        context: contextvars.Context | None,
    ) -> None:
        super().__init__(callback, args, loop, context)
        self._when = when

    def when(self) -> float:
        return self._when


class EventLoop:
    """What ``get_running_loop()`` returns: asyncio's loop API on tether's kernel."""

    def __init__(self) -> None:
        self._ready: deque[Handle] = deque()
        self._timers: list[tuple[float, int, TimerHandle]] = []
        self._timer_seq = itertools.count()
        self._wakeup = ParkingLot()
        self._nursery: tether.Nursery | None = None
        self._token: TetherToken | None = None
        self._running = False
        self._closed = False
        self._stopping = False
        self._stop_lot = ParkingLot()
        self._tasks: dict[Task[Any], None] = {}
        self._not_started: list[Task[Any]] = []
        self._all_finished: list[Task[Any]] = []
        self._exception_handler: Callable[[EventLoop, dict[str, Any]], object] | None = None
        self._default_executor: concurrent.futures.Executor | None = None
        self._debug = False
        self._thread_id: int | None = None
        self._signal_previous: dict[int, Any] = {}

    def __repr__(self) -> str:
        return f"<tether.aio.EventLoop running={self._running} closed={self._closed}>"

    # -- running ---------------------------------------------------------------------------

    def is_running(self) -> bool:
        return self._running

    def is_closed(self) -> bool:
        return self._closed

    def _check_closed(self) -> None:
        if self._closed:
            raise RuntimeError("Event loop is closed")

    def run_until_complete(self, future: Awaitable[T]) -> T:
        """Run until ``future`` (a coroutine, Task or Future) is done; return its result."""
        self._check_closed()
        if self._running:
            raise RuntimeError("This event loop is already running")
        if _state.running_loop is not None:
            raise RuntimeError("Cannot run the event loop while another loop is running")
        return tether.run(self._main, future)  # type: ignore[no-any-return]

    def run_forever(self) -> None:
        """Run until :meth:`stop` is called."""
        self._check_closed()
        if self._running:
            raise RuntimeError("This event loop is already running")
        tether.run(self._main, None)

    def stop(self) -> None:
        """Stop ``run_forever`` once the callbacks already scheduled have run."""
        self._stopping = True
        self.call_soon(self._stop_lot.unpark_all)

    def close(self) -> None:
        if self._running:
            raise RuntimeError("Cannot close a running event loop")
        self._closed = True
        if self._default_executor is not None:
            self._default_executor.shutdown(wait=False)
            self._default_executor = None

    async def _main(self, awaitable: Awaitable[Any] | None) -> Any:
        _state.running_loop = self
        self._running = True
        self._stopping = False
        self._thread_id = threading.get_ident()
        self._token = current_tether_token()
        future: Future[Any] | None = None
        try:
            async with tether.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_service(self._run_callbacks, name="<tether.aio callbacks>")
                waiting, self._not_started = self._not_started, []
                for task in waiting:
                    task._tether_task = nursery.start_task(task._drive, name=task.get_name())
                try:
                    if awaitable is None:
                        if not self._stopping:
                            await self._stop_lot.park()
                    else:
                        future = ensure_future(awaitable, loop=self)
                        if not future.done():
                            await future._waiters.park()
                finally:
                    with tether.CancelScope(shield=True):
                        await self._cancel_remaining_tasks()
            # Outside the nursery: the main coroutine's error comes out bare, as asyncio's.
            return None if future is None else future.result()
        except BaseExceptionGroup as group:
            # KeyboardInterrupt / SystemExit in a task (the only errors a Task lets out)
            # end the run bare, as they leave asyncio's run_until_complete.
            interrupt = _first_interrupt(group)
            if interrupt is None:
                raise
            raise interrupt from None
        finally:
            for sig in list(self._signal_previous):
                self.remove_signal_handler(sig)
            self._report_unretrieved()
            self._nursery = None
            self._running = False
            _state.running_loop = None

    async def _cancel_remaining_tasks(self) -> None:
        pending = [task for task in self._tasks if not task.done()]
        for task in pending:
            task.cancel()
        for task in pending:
            if not task.done():
                await task._waiters.park()

    def _report_unretrieved(self) -> None:
        for task in self._all_finished:
            if task._exception is not None and not task._retrieved:
                self.call_exception_handler(
                    {
                        "message": "Task exception was never retrieved",
                        "exception": task._exception,
                        "future": task,
                    }
                )
        self._all_finished.clear()

    def _start_task(self, task: Task[Any]) -> None:
        self._tasks[task] = None
        task.add_done_callback(self._task_done)
        if self._nursery is None:
            # Made before the loop runs (explicit-loop style): it starts when it does.
            self._not_started.append(task)
            return
        task._tether_task = self._nursery.start_task(task._drive, name=task.get_name())

    def _task_done(self, task: Task[Any]) -> None:
        self._tasks.pop(task, None)
        if task._exception is not None:
            self._all_finished.append(task)

    # -- callbacks and timers -----------------------------------------------------------------

    async def _run_callbacks(self) -> None:
        ready = self._ready
        timers = self._timers
        while True:
            if timers:
                now = tether.current_time()
                while timers and timers[0][0] <= now:
                    ready.append(heapq.heappop(timers)[2])
            for _ in range(len(ready)):
                handle = ready.popleft()
                if not handle._cancelled:
                    handle._run()
            if ready:
                await tether.lowlevel.cancel_shielded_checkpoint()
                continue
            deadline = timers[0][0] if timers else math.inf
            with tether.move_on_at(deadline):
                await self._wakeup.park()

    def _wake(self) -> None:
        if self._wakeup:
            self._wakeup.unpark_all()

    def call_soon(
        self,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> Handle:
        self._check_closed()
        handle = Handle(callback, args, self, context)
        self._ready.append(handle)
        if self._running and self._nursery is not None:
            self._wake()
        return handle

    def call_soon_threadsafe(
        self,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> Handle:
        self._check_closed()
        handle = Handle(callback, args, self, context)
        if self._token is not None and threading.get_ident() != self._thread_id:
            self._token.run_sync_soon(self._append_from_thread, handle)
        else:
            self._ready.append(handle)
            self._wake()
        return handle

    def _append_from_thread(self, handle: Handle) -> None:
        self._ready.append(handle)
        self._wake()

    def call_later(
        self,
        delay: float,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> TimerHandle:
        return self.call_at(self.time() + delay, callback, *args, context=context)

    def call_at(
        self,
        when: float,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> TimerHandle:
        self._check_closed()
        handle = TimerHandle(when, callback, args, self, context)
        heapq.heappush(self._timers, (when, next(self._timer_seq), handle))
        self._wake()
        return handle

    def time(self) -> float:
        return tether.current_time()

    # -- futures and tasks ------------------------------------------------------------------

    def create_future(self) -> Future[Any]:
        return Future(loop=self)

    def create_task(
        self,
        coro: Coroutine[Any, Any, T],
        *,
        name: str | None = None,
        context: contextvars.Context | None = None,
    ) -> Task[T]:
        self._check_closed()
        return Task(coro, loop=self, name=name, context=context)

    # -- executors ---------------------------------------------------------------------------

    def run_in_executor(
        self, executor: concurrent.futures.Executor | None, func: Callable[..., T], *args: Any
    ) -> Future[T]:
        """Run ``func(*args)`` in ``executor`` (default: a thread pool) and return a Future."""
        self._check_closed()
        if executor is None:
            if self._default_executor is None:
                self._default_executor = concurrent.futures.ThreadPoolExecutor(
                    thread_name_prefix="tether.aio default executor"
                )
            executor = self._default_executor
        return wrap_future(executor.submit(func, *args), loop=self)

    def set_default_executor(self, executor: concurrent.futures.Executor) -> None:
        self._default_executor = executor

    async def shutdown_default_executor(self, timeout: float | None = None) -> None:
        if self._default_executor is not None:
            executor, self._default_executor = self._default_executor, None
            await tether.to_thread.run_sync(executor.shutdown)

    async def shutdown_asyncgens(self) -> None:
        await tether.checkpoint()

    # -- network, processes, signals (implemented in the modules that own them) --------------

    async def getaddrinfo(
        self,
        host: Any,
        port: Any,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[Any]:
        return await tether.socket.getaddrinfo(host, port, family, type, proto, flags)

    async def getnameinfo(self, sockaddr: tuple[Any, ...], flags: int = 0) -> tuple[str, str]:
        return await tether.socket.getnameinfo(sockaddr, flags)

    async def create_connection(
        self, protocol_factory: Any, host: Any = None, port: Any = None, **kwargs: Any
    ) -> Any:
        from ._protocols import create_connection

        return await create_connection(self, protocol_factory, host, port, **kwargs)

    async def create_server(
        self, protocol_factory: Any, host: Any = None, port: Any = None, **kwargs: Any
    ) -> Any:
        from ._protocols import create_server

        return await create_server(self, protocol_factory, host, port, **kwargs)

    async def create_datagram_endpoint(
        self, protocol_factory: Any, local_addr: Any = None, remote_addr: Any = None, **kwargs: Any
    ) -> Any:
        from ._protocols import create_datagram_endpoint

        return await create_datagram_endpoint(
            self, protocol_factory, local_addr, remote_addr, **kwargs
        )

    async def subprocess_exec(self, protocol_factory: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "loop.subprocess_exec with protocols is not supported; use "
            "tether.aio.create_subprocess_exec (streams) or tether.run_process"
        )

    def add_signal_handler(self, sig: int, callback: Callable[..., object], *args: Any) -> None:
        """Call ``callback(*args)`` (via call_soon) each time signal ``sig`` arrives."""
        import signal as signal_module

        if self._token is None or not self._running:
            raise RuntimeError("add_signal_handler needs a running loop")
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("add_signal_handler only works in the main thread")
        token = self._token

        def handler(signum: int, frame: Any) -> None:
            token.run_sync_soon(self.call_soon, callback, *args)

        previous = signal_module.signal(sig, handler)
        self._signal_previous.setdefault(sig, previous)

    def remove_signal_handler(self, sig: int) -> bool:
        """Stop handling ``sig`` (the previous handler is restored); True if one was set."""
        import signal as signal_module

        if sig not in self._signal_previous:
            return False
        previous = self._signal_previous.pop(sig)
        signal_module.signal(sig, previous if previous is not None else signal_module.SIG_DFL)
        return True

    # -- errors and debugging -------------------------------------------------------------------

    def set_exception_handler(
        self, handler: Callable[[EventLoop, dict[str, Any]], object] | None
    ) -> None:
        self._exception_handler = handler

    def get_exception_handler(self) -> Callable[[EventLoop, dict[str, Any]], object] | None:
        return self._exception_handler

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        message = context.get("message") or "Unhandled exception in event loop"
        exception = context.get("exception")
        details = [message]
        details.extend(f"{key}: {context[key]!r}" for key in ("future", "handle") if key in context)
        exc_info = (type(exception), exception, exception.__traceback__) if exception else None
        logger.error("\n".join(details), exc_info=exc_info)

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        if self._exception_handler is None:
            self.default_exception_handler(context)
            return
        try:
            self._exception_handler(self, context)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            logger.error("Exception in the exception handler", exc_info=exc)

    def get_debug(self) -> bool:
        return self._debug

    def set_debug(self, enabled: bool) -> None:
        self._debug = enabled


# -- module-level loop functions ----------------------------------------------------------------


def get_running_loop() -> EventLoop:
    """The loop of the running ``tether.aio`` run; ``RuntimeError`` outside one."""
    loop = _state.running_loop
    if loop is None:
        raise RuntimeError("no running event loop")
    return loop


def _get_running_loop() -> EventLoop | None:
    return _state.running_loop


def get_event_loop() -> EventLoop:
    """The running loop, else this thread's current loop (created on first use)."""
    loop = _state.running_loop
    if loop is not None:
        return loop
    if _state.current_loop is None or _state.current_loop.is_closed():
        _state.current_loop = EventLoop()
    return _state.current_loop


def set_event_loop(loop: EventLoop | None) -> None:
    _state.current_loop = loop


def new_event_loop() -> EventLoop:
    return EventLoop()


def current_task(loop: EventLoop | None = None) -> Task[Any] | None:
    """The Task running now (``None`` in a callback); ``RuntimeError`` outside a loop."""
    if loop is None:
        get_running_loop()
    return _state.current_task


def all_tasks(loop: EventLoop | None = None) -> set[Task[Any]]:
    """The tasks of the running loop that are not done."""
    loop = loop if loop is not None else get_running_loop()
    return {task for task in loop._tasks if not task.done()}


def ensure_future(obj: Awaitable[T], *, loop: EventLoop | None = None) -> Future[T]:
    """Wrap a coroutine in a Task; return a Future as it is."""
    if isinstance(obj, Future):
        return obj
    if _is_coroutine(obj):
        loop = loop if loop is not None else get_event_loop()
        return loop.create_task(obj)  # type: ignore[arg-type]
    if hasattr(obj, "__await__"):

        async def wrap() -> T:
            return await obj

        loop = loop if loop is not None else get_event_loop()
        return loop.create_task(wrap())
    raise TypeError("An asyncio.Future, a coroutine or an awaitable is required")


def wrap_future(
    future: concurrent.futures.Future[T] | Future[T], *, loop: EventLoop | None = None
) -> Future[T]:
    """An awaitable Future that follows a :class:`concurrent.futures.Future`."""
    if isinstance(future, Future):
        return future
    loop = loop if loop is not None else get_event_loop()
    new: Future[T] = loop.create_future()

    def copy_state(source: concurrent.futures.Future[T]) -> None:
        if new.done():
            return
        if source.cancelled():
            new.cancel()
        elif source.exception() is not None:
            new.set_exception(source.exception())  # type: ignore[arg-type]
        else:
            new.set_result(source.result())

    def on_done(source: concurrent.futures.Future[T]) -> None:
        loop.call_soon_threadsafe(copy_state, source)

    def cancel_source(_: Future[T]) -> None:
        if new.cancelled():
            future.cancel()

    new.add_done_callback(cancel_source)
    future.add_done_callback(on_done)
    return new


def run_coroutine_threadsafe(
    coro: Coroutine[Any, Any, T], loop: EventLoop
) -> concurrent.futures.Future[T]:
    """Submit ``coro`` to ``loop`` from another thread; returns a concurrent Future."""
    if not _is_coroutine(coro):
        raise TypeError("A coroutine object is required")
    result: concurrent.futures.Future[T] = concurrent.futures.Future()

    def start() -> None:
        if result.cancelled():
            coro.close()  # cancelled before it could start: it never runs
            return
        try:
            task = loop.create_task(coro)
        except BaseException as exc:
            if result.set_running_or_notify_cancel():
                result.set_exception(exc)
            return

        def copy(done: Future[T]) -> None:
            if done.cancelled():
                result.cancel()
                return
            if not result.set_running_or_notify_cancel():
                return
            if done.exception() is not None:
                result.set_exception(done.exception())
            else:
                result.set_result(done.result())

        def cancel_task(source: concurrent.futures.Future[T]) -> None:
            if source.cancelled() and not loop.is_closed():
                loop.call_soon_threadsafe(task.cancel)

        task.add_done_callback(copy)
        result.add_done_callback(cancel_task)

    loop.call_soon_threadsafe(start)
    return result


class Runner:
    """``with tether.aio.Runner() as runner: runner.run(main())`` (asyncio 3.11's Runner)."""

    def __init__(
        self, *, debug: bool | None = None, loop_factory: Callable[[], EventLoop] | None = None
    ) -> None:
        self._loop: EventLoop | None = None
        self._debug = debug
        self._loop_factory = loop_factory or EventLoop

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get_loop(self) -> EventLoop:
        if self._loop is None:
            self._loop = self._loop_factory()
            if self._debug is not None:
                self._loop.set_debug(self._debug)
        return self._loop

    def run(self, coro: Coroutine[Any, Any, T], *, context: contextvars.Context | None = None) -> T:
        if not _is_coroutine(coro):
            raise ValueError(f"a coroutine was expected, got {coro!r}")
        if _state.running_loop is not None:
            raise RuntimeError("Runner.run() cannot be called from a running event loop")
        return self.get_loop().run_until_complete(coro)

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()


def run(main: Coroutine[Any, Any, T], *, debug: bool | None = None) -> T:
    """Run the coroutine ``main`` in a new loop and return its result (like ``asyncio.run``).

    Tasks still running when ``main`` returns are cancelled and awaited; exceptions that
    no one retrieved from a task are reported; the loop is closed.
    """
    if _state.running_loop is not None:
        raise RuntimeError("asyncio.run() cannot be called from a running event loop")
    if not _is_coroutine(main):
        raise ValueError(f"a coroutine was expected, got {main!r}")
    with Runner(debug=debug) as runner:
        return runner.run(main)


AbstractEventLoop = EventLoop
"""asyncio's name for the loop type, for annotations in ported code."""
