"""Tier 5: a channel between tasks and plain threads.

Each end works from both worlds: ``await send()`` / ``await receive()`` in tasks, and
``send_blocking()`` / ``receive_blocking()`` (with an optional timeout) in any other thread.
So a thread pool and a set of tasks can feed each other without glue (the need Curio's
UniversalQueue and the janus package answer), with memory channels' closing rules.

All state sits behind one ``threading.Lock``. A value is moved in or out of the buffer in
one locked step by the caller that then returns it, so a value is delivered exactly once
or the send raises, whatever gets cancelled. Waiters (tasks or threads) are woken on every
change and re-check; tasks are woken through the run's TetherToken when the change comes
from another thread.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Any, Generic, TypeVar

import attrs

from ._abc import ReceiveChannel, SendChannel
from ._core import (
    Abort,
    BrokenResourceError,
    ClosedResourceError,
    EndOfChannel,
    RaiseCancelT,
    RunFinishedError,
    Task,
    WouldBlock,
    cancel_shielded_checkpoint,
    checkpoint,
    checkpoint_if_cancelled,
    current_task,
    current_tether_token,
    enable_ki_protection,
    reschedule,
    wait_task_rescheduled,
)
from ._core._global import GLOBAL_RUN_CONTEXT

T = TypeVar("T")


@attrs.frozen
class BridgeChannelStatistics:
    """A snapshot of a bridge channel's state."""

    current_buffer_used: int
    max_buffer_size: int | float
    open_send_channels: int
    open_receive_channels: int
    tasks_waiting: int
    threads_waiting: int


class _State(Generic[T]):
    def __init__(self, max_buffer_size: int | float) -> None:
        self.max_buffer_size = max_buffer_size
        self.buffer: deque[T] = deque()
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.open_send = 0
        self.open_receive = 0
        self.waiting_tasks: dict[Task, None] = {}
        self.threads_waiting = 0
        self.token = current_tether_token()
        self.loop_thread = threading.get_ident()

    def notify_locked(self) -> None:
        """Wake every waiter so it re-checks (caller holds the lock)."""
        if self.threads_waiting:
            self.changed.notify_all()
        if not self.waiting_tasks:
            return
        if threading.get_ident() == self.loop_thread and GLOBAL_RUN_CONTEXT.runner is not None:
            self.wake_tasks_locked()
        else:
            try:
                self.token.run_sync_soon(self._wake_tasks_from_loop, idempotent=True)
            except RunFinishedError:  # pragma: no cover  # no task can wait after the run
                pass

    def _wake_tasks_from_loop(self) -> None:
        with self.lock:
            self.wake_tasks_locked()

    def wake_tasks_locked(self) -> None:
        tasks = list(self.waiting_tasks)
        self.waiting_tasks.clear()
        for task in tasks:
            reschedule(task)

    async def wait_for_change(self, task: Task) -> None:
        """Park until notified; the caller registered ``task`` under the lock."""

        def abort(_: RaiseCancelT) -> Abort:
            with self.lock:
                self.waiting_tasks.pop(task, None)
            return Abort.SUCCEEDED

        await wait_task_rescheduled(abort)

    def refuse_loop_thread(self) -> None:
        # Always, not only when the call would block: code that works while the buffer
        # happens to allow it would deadlock the loop under load.
        if threading.get_ident() == self.loop_thread and GLOBAL_RUN_CONTEXT.runner is not None:
            raise RuntimeError(
                "blocking bridge-channel calls from the loop's own thread would deadlock; "
                "use 'await send()' / 'await receive()' there"
            )

    def wait_in_thread_locked(self, deadline: float) -> None:
        remaining = None if deadline == math.inf else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise TimeoutError("bridge channel operation timed out")
        self.threads_waiting += 1
        try:
            self.changed.wait(remaining)
        finally:
            self.threads_waiting -= 1


def _deadline(timeout: float | None) -> float:
    if timeout is None:
        return math.inf
    if timeout < 0 or math.isnan(timeout):
        raise ValueError("timeout must be a non-negative number or None")
    return time.monotonic() + timeout


class BridgeSendChannel(SendChannel[T]):
    """The sending end of :func:`open_bridge_channel`: ``await send()`` from tasks,
    ``send_blocking()`` from threads."""

    def __init__(self, state: _State[T]) -> None:
        self._state = state
        self._closed = False
        with state.lock:
            state.open_send += 1

    def __repr__(self) -> str:
        return f"<BridgeSendChannel at {id(self):#x}{', closed' if self._closed else ''}>"

    def _try_send_locked(self, value: T) -> bool:
        state = self._state
        if self._closed:
            raise ClosedResourceError("this send channel is closed")
        if not state.open_receive:
            raise BrokenResourceError("every receive channel is closed")
        if len(state.buffer) >= state.max_buffer_size:
            return False
        state.buffer.append(value)
        state.notify_locked()
        return True

    def send_nowait(self, value: T) -> None:
        """Send without waiting; :exc:`~tether.WouldBlock` if the buffer is full."""
        with self._state.lock:
            if not self._try_send_locked(value):
                raise WouldBlock

    @enable_ki_protection
    async def send(self, value: T) -> None:
        """Send from a task, waiting while the buffer is full."""
        await checkpoint_if_cancelled()
        state = self._state
        task = current_task()
        while True:
            with state.lock:
                if self._try_send_locked(value):
                    break
                state.waiting_tasks[task] = None
            await state.wait_for_change(task)
        await cancel_shielded_checkpoint()

    def send_blocking(self, value: T, timeout: float | None = None) -> None:
        """Send from a thread (not the loop's), blocking while the buffer is full;
        ``TimeoutError`` after ``timeout`` seconds."""
        deadline = _deadline(timeout)
        state = self._state
        if self._closed:
            raise ClosedResourceError("this send channel is closed")
        state.refuse_loop_thread()
        with state.lock:
            while not self._try_send_locked(value):
                state.wait_in_thread_locked(deadline)

    def clone(self) -> BridgeSendChannel[T]:
        """Another send handle on the same channel; the channel ends when all are closed."""
        if self._closed:
            raise ClosedResourceError("this send channel is closed")
        return BridgeSendChannel(self._state)

    def close(self) -> None:
        """Close this handle (from any thread). Idempotent."""
        state = self._state
        with state.lock:
            if self._closed:
                return
            self._closed = True
            state.open_send -= 1
            state.notify_locked()

    async def aclose(self) -> None:
        """Close this handle like :meth:`close`, then checkpoint (as memory channels do)."""
        self.close()
        await checkpoint()

    def __enter__(self) -> BridgeSendChannel[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def statistics(self) -> BridgeChannelStatistics:
        return _statistics(self._state)


class BridgeReceiveChannel(ReceiveChannel[T]):
    """The receiving end of :func:`open_bridge_channel`: ``await receive()`` (or
    ``async for``) from tasks, ``receive_blocking()`` (or plain ``for``) from threads."""

    def __init__(self, state: _State[T]) -> None:
        self._state = state
        self._closed = False
        with state.lock:
            state.open_receive += 1

    def __repr__(self) -> str:
        return f"<BridgeReceiveChannel at {id(self):#x}{', closed' if self._closed else ''}>"

    def _try_receive_locked(self) -> tuple[bool, Any]:
        state = self._state
        if self._closed:
            raise ClosedResourceError("this receive channel is closed")
        if state.buffer:
            value = state.buffer.popleft()
            state.notify_locked()
            return True, value
        if not state.open_send:
            raise EndOfChannel
        return False, None

    def receive_nowait(self) -> T:
        """Receive without waiting; :exc:`~tether.WouldBlock` if nothing is buffered."""
        with self._state.lock:
            ok, value = self._try_receive_locked()
        if not ok:
            raise WouldBlock
        return value  # type: ignore[no-any-return]

    @enable_ki_protection
    async def receive(self) -> T:
        """Receive from a task, waiting until a value arrives."""
        await checkpoint_if_cancelled()
        state = self._state
        task = current_task()
        while True:
            with state.lock:
                ok, value = self._try_receive_locked()
                if not ok:
                    state.waiting_tasks[task] = None
            if ok:
                break
            await state.wait_for_change(task)
        await cancel_shielded_checkpoint()
        return value  # type: ignore[no-any-return]

    def receive_blocking(self, timeout: float | None = None) -> T:
        """Receive from a thread (not the loop's), blocking until a value arrives;
        ``TimeoutError`` after ``timeout`` seconds, ``EndOfChannel`` when every sender is
        closed and the buffer is empty."""
        deadline = _deadline(timeout)
        state = self._state
        if self._closed:
            raise ClosedResourceError("this receive channel is closed")
        state.refuse_loop_thread()
        with state.lock:
            while True:
                ok, value = self._try_receive_locked()
                if ok:
                    return value  # type: ignore[no-any-return]
                state.wait_in_thread_locked(deadline)

    def __iter__(self) -> BridgeReceiveChannel[T]:
        return self

    def __next__(self) -> T:
        try:
            return self.receive_blocking()
        except EndOfChannel:
            raise StopIteration from None

    def clone(self) -> BridgeReceiveChannel[T]:
        """Another receive handle on the same channel."""
        if self._closed:
            raise ClosedResourceError("this receive channel is closed")
        return BridgeReceiveChannel(self._state)

    def close(self) -> None:
        """Close this handle (from any thread). Idempotent. When the last receive handle
        closes, the buffer is discarded and senders get :exc:`~tether.BrokenResourceError`."""
        state = self._state
        with state.lock:
            if self._closed:
                return
            self._closed = True
            state.open_receive -= 1
            if not state.open_receive:
                state.buffer.clear()
            state.notify_locked()

    async def aclose(self) -> None:
        """Close this handle like :meth:`close`, then checkpoint (as memory channels do)."""
        self.close()
        await checkpoint()

    def __enter__(self) -> BridgeReceiveChannel[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def statistics(self) -> BridgeChannelStatistics:
        return _statistics(self._state)


def _statistics(state: _State[Any]) -> BridgeChannelStatistics:
    with state.lock:
        return BridgeChannelStatistics(
            current_buffer_used=len(state.buffer),
            max_buffer_size=state.max_buffer_size,
            open_send_channels=state.open_send,
            open_receive_channels=state.open_receive,
            tasks_waiting=len(state.waiting_tasks),
            threads_waiting=state.threads_waiting,
        )


def open_bridge_channel(
    max_buffer_size: int | float,
) -> tuple[BridgeSendChannel[Any], BridgeReceiveChannel[Any]]:
    """Open a channel between tasks and threads; call it inside ``tether.run``.

    ``max_buffer_size`` is a positive int or ``math.inf`` (a bridge always buffers: a
    thread and a task cannot meet in a rendezvous). Returns ``(send_channel,
    receive_channel)``; clone either end for more producers or consumers. Closing rules
    are those of :func:`tether.open_memory_channel`.
    """
    if isinstance(max_buffer_size, bool) or (
        max_buffer_size != math.inf and not isinstance(max_buffer_size, int)
    ):
        raise TypeError("max_buffer_size must be an int or math.inf")
    if max_buffer_size < 1:
        raise ValueError(
            "max_buffer_size must be at least 1: a bridge channel always buffers "
            "(use 1 for the tightest hand-off)"
        )
    state: _State[Any] = _State(max_buffer_size)
    return BridgeSendChannel(state), BridgeReceiveChannel(state)
