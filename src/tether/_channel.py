"""Tier 6: memory channels, the way tasks of one run hand objects to each other.

One :class:`_ChannelState` is shared by every handle (clone) of both ends. It holds the
buffer and two FIFO queues of parked tasks: senders (with the value each one is trying to
send) and receivers. The invariants that make the fast paths short:

* receivers wait only while the buffer is empty, so ``receive_waiters`` non-empty implies
  an empty buffer: a sender that finds a receiver waiting hands the value straight to it;
* senders wait only while the buffer is full, so ``send_waiters`` non-empty implies a full
  buffer: a receiver that takes a value from the front lets the longest-waiting sender's
  value in at the back (or, unbuffered, takes that value directly).

A value is handed to a parked task with :func:`reschedule`; from then on the kernel no
longer lets that task be cancelled out of its wait, so the value is delivered: it is never
lost between a sender and a receiver that gets cancelled at the same moment.
"""

from __future__ import annotations

import math
from abc import ABCMeta
from collections import OrderedDict, deque
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NoReturn, Self, TypeVar, final

from ._abc import ReceiveChannel, SendChannel
from ._core import (
    Abort,
    BrokenResourceError,
    ClosedResourceError,
    EndOfChannel,
    WouldBlock,
    cancel_shielded_checkpoint,
    checkpoint,
    checkpoint_if_cancelled,
    current_task,
    enable_ki_protection,
    reschedule,
    wait_task_rescheduled,
)
from ._core._outcome import Error, Value
from ._core._util import FrozenRecord

if TYPE_CHECKING:
    from ._core import RaiseCancelT, Task

__all__ = [
    "MemoryChannelStatistics",
    "MemoryReceiveChannel",
    "MemorySendChannel",
    "open_memory_channel",
]

T = TypeVar("T")
_C = TypeVar("_C")


class _NoPublicConstructor(ABCMeta):
    """Metaclass for the channel ends: ``Cls(...)`` is a TypeError; tether builds them with
    ``Cls._create(...)``. Derives from ABCMeta because the ends implement the channel ABCs."""

    def __call__(cls, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(
            f"{cls.__module__}.{cls.__qualname__} has no public constructor; "
            "use tether.open_memory_channel() or .clone()"
        )

    def _create(cls: type[_C], *args: Any, **kwargs: Any) -> _C:
        return super().__call__(*args, **kwargs)  # type: ignore[misc, no-any-return]


@final
class MemoryChannelStatistics(FrozenRecord):
    """A snapshot of a memory channel, from :meth:`MemorySendChannel.statistics` or
    :meth:`MemoryReceiveChannel.statistics` (both ends report the same channel).

    Attributes:
      current_buffer_used: how many values sit in the buffer.
      max_buffer_size: the ``max_buffer_size`` the channel was opened with.
      open_send_channels: how many send handles (clones included) are not closed.
      open_receive_channels: how many receive handles (clones included) are not closed.
      tasks_waiting_send: how many tasks are blocked in ``send``.
      tasks_waiting_receive: how many tasks are blocked in ``receive``.
    """

    __slots__ = (
        "current_buffer_used",
        "max_buffer_size",
        "open_receive_channels",
        "open_send_channels",
        "tasks_waiting_receive",
        "tasks_waiting_send",
    )
    __match_args__ = (
        "current_buffer_used",
        "max_buffer_size",
        "open_send_channels",
        "open_receive_channels",
        "tasks_waiting_send",
        "tasks_waiting_receive",
    )
    current_buffer_used: int
    max_buffer_size: int | float
    open_send_channels: int
    open_receive_channels: int
    tasks_waiting_send: int
    tasks_waiting_receive: int

    def __init__(
        self,
        current_buffer_used: int,
        max_buffer_size: int | float,
        open_send_channels: int,
        open_receive_channels: int,
        tasks_waiting_send: int,
        tasks_waiting_receive: int,
    ) -> None:
        self._fill(
            current_buffer_used,
            max_buffer_size,
            open_send_channels,
            open_receive_channels,
            tasks_waiting_send,
            tasks_waiting_receive,
        )


class _ChannelState(Generic[T]):
    """What every handle of one channel shares."""

    __slots__ = (
        "buffer",
        "max_buffer_size",
        "open_receive_channels",
        "open_send_channels",
        "receive_waiters",
        "send_waiters",
    )

    def __init__(self, max_buffer_size: int | float) -> None:
        self.max_buffer_size = max_buffer_size
        self.buffer: deque[T] = deque()
        self.open_send_channels = 0
        self.open_receive_channels = 0
        # Parked senders, longest-waiting first, with the value each is sending. The
        # handle a sender parked on is kept in its task's custom_sleep_data.
        self.send_waiters: OrderedDict[Task, T] = OrderedDict()
        # Parked receivers, longest-waiting first, with the handle each parked on.
        self.receive_waiters: OrderedDict[Task, MemoryReceiveChannel[T]] = OrderedDict()

    def statistics(self) -> MemoryChannelStatistics:
        return MemoryChannelStatistics(
            current_buffer_used=len(self.buffer),
            max_buffer_size=self.max_buffer_size,
            open_send_channels=self.open_send_channels,
            open_receive_channels=self.open_receive_channels,
            tasks_waiting_send=len(self.send_waiters),
            tasks_waiting_receive=len(self.receive_waiters),
        )


@final
class MemorySendChannel(SendChannel[T], metaclass=_NoPublicConstructor):
    """The sending end of a memory channel, made by :func:`open_memory_channel`.

    Use it with ``async with`` (closed by :meth:`aclose` on exit) or ``with`` (closed by
    :meth:`close` on exit). :meth:`clone` makes another handle to the same end; the
    receivers see :exc:`~tether.EndOfChannel` once every send handle is closed.
    """

    __slots__ = ("_closed", "_state")

    def __init__(self, state: _ChannelState[T]) -> None:
        self._state = state
        self._closed = False
        state.open_send_channels += 1

    def __repr__(self) -> str:
        return f"<send channel at {id(self):#x}, using buffer at {id(self._state):#x}>"

    def statistics(self) -> MemoryChannelStatistics:
        """A :class:`MemoryChannelStatistics` snapshot of the channel this handle belongs to."""
        return self._state.statistics()

    @enable_ki_protection
    def send_nowait(self, value: T) -> None:
        """Send ``value`` if that can be done without waiting; never yields.

        The value goes straight to the longest-waiting receiver if there is one, else into
        the buffer if it has room.

        Raises:
          tether.WouldBlock: no receiver is waiting and the buffer is full.
          tether.BrokenResourceError: every receive handle is closed.
          tether.ClosedResourceError: this handle is closed.
        """
        if self._closed:
            raise ClosedResourceError
        state = self._state
        if not state.open_receive_channels:
            raise BrokenResourceError
        if state.receive_waiters:
            task, _ = state.receive_waiters.popitem(last=False)
            reschedule(task, Value(value))
        elif len(state.buffer) < state.max_buffer_size:
            state.buffer.append(value)
        else:
            raise WouldBlock

    @enable_ki_protection
    async def send(self, value: T) -> None:
        """Send ``value``, waiting until a receiver takes it or the buffer has room.

        This is a checkpoint: it checks for cancellation and lets other tasks run even
        when it can complete at once. Cancelled while waiting, the value is *not* sent;
        once ``send`` returns, the value is in the buffer or in a receiver's hands.
        Waiting senders are served first come, first served.

        Raises:
          tether.BrokenResourceError: every receive handle is closed (also when that
            happens while waiting).
          tether.ClosedResourceError: this handle is closed (also by another task while
            this one waits).
        """
        await checkpoint_if_cancelled()
        if self._closed:
            raise ClosedResourceError
        state = self._state
        if not state.open_receive_channels:
            raise BrokenResourceError
        if state.receive_waiters:
            task, _ = state.receive_waiters.popitem(last=False)
            reschedule(task, Value(value))
            await cancel_shielded_checkpoint()
            return
        if len(state.buffer) < state.max_buffer_size:
            state.buffer.append(value)
            await cancel_shielded_checkpoint()
            return

        task = current_task()
        send_waiters = state.send_waiters
        send_waiters[task] = value
        task.custom_sleep_data = self

        def abort_fn(_: RaiseCancelT) -> Abort:
            del send_waiters[task]
            task.custom_sleep_data = None
            return Abort.SUCCEEDED

        await wait_task_rescheduled(abort_fn)

    @enable_ki_protection
    def clone(self) -> MemorySendChannel[T]:
        """Another handle to this send end, closed independently of this one.

        Give each producer task its own clone and let each close its own: the receivers
        see :exc:`~tether.EndOfChannel` only after the last one is closed.

        Raises:
          tether.ClosedResourceError: this handle is closed.
        """
        if self._closed:
            raise ClosedResourceError
        return MemorySendChannel._create(self._state)

    @enable_ki_protection
    def close(self) -> None:
        """Close this handle, synchronously; closing twice does nothing.

        Tasks blocked in :meth:`send` on *this handle* get
        :exc:`~tether.ClosedResourceError`. If it was the last open send handle, tasks
        blocked in ``receive`` get :exc:`~tether.EndOfChannel`, and so will later
        receives once the buffer is drained.
        """
        if self._closed:
            return
        self._closed = True
        state = self._state
        send_waiters = state.send_waiters
        if send_waiters:
            mine = [task for task in send_waiters if task.custom_sleep_data is self]
            for task in mine:
                del send_waiters[task]
                task.custom_sleep_data = None
                reschedule(task, Error(ClosedResourceError("send channel was closed")))
        state.open_send_channels -= 1
        if not state.open_send_channels:
            # Every parked sender was parked on a handle that is now closed.
            assert not send_waiters
            receive_waiters = state.receive_waiters
            for task in receive_waiters:
                reschedule(task, Error(EndOfChannel()))
            receive_waiters.clear()

    @enable_ki_protection
    async def aclose(self) -> None:
        """Close this handle like :meth:`close`, then checkpoint."""
        self.close()
        await checkpoint()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


@final
class MemoryReceiveChannel(ReceiveChannel[T], metaclass=_NoPublicConstructor):
    """The receiving end of a memory channel, made by :func:`open_memory_channel`.

    Iterate it with ``async for`` (the loop ends when the channel reports
    :exc:`~tether.EndOfChannel`), use it with ``async with`` or ``with`` to close it on
    exit, and :meth:`clone` it to give several consumer tasks their own handle.
    """

    __slots__ = ("_closed", "_state")

    def __init__(self, state: _ChannelState[T]) -> None:
        self._state = state
        self._closed = False
        state.open_receive_channels += 1

    def __repr__(self) -> str:
        return f"<receive channel at {id(self):#x}, using buffer at {id(self._state):#x}>"

    def statistics(self) -> MemoryChannelStatistics:
        """A :class:`MemoryChannelStatistics` snapshot of the channel this handle belongs to."""
        return self._state.statistics()

    @enable_ki_protection
    def receive_nowait(self) -> T:
        """Take the next value if one is ready; never yields.

        Raises:
          tether.WouldBlock: nothing is buffered and no sender is waiting.
          tether.EndOfChannel: every send handle is closed and the buffer is empty.
          tether.ClosedResourceError: this handle is closed.
        """
        if self._closed:
            raise ClosedResourceError
        state = self._state
        if state.send_waiters:
            task, value = state.send_waiters.popitem(last=False)
            task.custom_sleep_data = None
            reschedule(task)
            buffer = state.buffer
            if buffer:
                # The buffer is full (senders only wait then): the sender's value joins
                # the back and we take the front.
                buffer.append(value)
                return buffer.popleft()
            return value
        if state.buffer:
            return state.buffer.popleft()
        if not state.open_send_channels:
            raise EndOfChannel
        raise WouldBlock

    @enable_ki_protection
    async def receive(self) -> T:
        """Take the next value, waiting until there is one.

        This is a checkpoint: it checks for cancellation and lets other tasks run even
        when a value is ready. Waiting receivers are served first come, first served.
        Cancelled while waiting, it takes nothing; once a sender has handed a value to
        this task, ``receive`` returns it even if the task is cancelled meanwhile (the
        cancellation then hits the next checkpoint).

        Raises:
          tether.EndOfChannel: every send handle is closed and the buffer is empty.
          tether.ClosedResourceError: this handle is closed (also by another task while
            this one waits).
        """
        await checkpoint_if_cancelled()
        if self._closed:
            raise ClosedResourceError
        state = self._state
        if state.send_waiters:
            task, value = state.send_waiters.popitem(last=False)
            task.custom_sleep_data = None
            reschedule(task)
            buffer = state.buffer
            if buffer:
                buffer.append(value)
                value = buffer.popleft()
            await cancel_shielded_checkpoint()
            return value
        if state.buffer:
            value = state.buffer.popleft()
            await cancel_shielded_checkpoint()
            return value
        if not state.open_send_channels:
            raise EndOfChannel

        task = current_task()
        receive_waiters = state.receive_waiters
        receive_waiters[task] = self

        def abort_fn(_: RaiseCancelT) -> Abort:
            del receive_waiters[task]
            return Abort.SUCCEEDED

        return await wait_task_rescheduled(abort_fn)  # type: ignore[no-any-return]

    @enable_ki_protection
    def clone(self) -> MemoryReceiveChannel[T]:
        """Another handle to this receive end, closed independently of this one.

        Each value goes to exactly one receiver, whichever handle it waits on.

        Raises:
          tether.ClosedResourceError: this handle is closed.
        """
        if self._closed:
            raise ClosedResourceError
        return MemoryReceiveChannel._create(self._state)

    @enable_ki_protection
    def close(self) -> None:
        """Close this handle, synchronously; closing twice does nothing.

        Tasks blocked in :meth:`receive` on *this handle* get
        :exc:`~tether.ClosedResourceError`. If it was the last open receive handle, the
        buffered values are discarded, blocked senders get
        :exc:`~tether.BrokenResourceError`, and so do later sends.
        """
        if self._closed:
            return
        self._closed = True
        state = self._state
        receive_waiters = state.receive_waiters
        if receive_waiters:
            mine = [task for task, handle in receive_waiters.items() if handle is self]
            for task in mine:
                del receive_waiters[task]
                reschedule(task, Error(ClosedResourceError("receive channel was closed")))
        state.open_receive_channels -= 1
        if not state.open_receive_channels:
            assert not receive_waiters
            send_waiters = state.send_waiters
            for task in send_waiters:
                task.custom_sleep_data = None
                reschedule(task, Error(BrokenResourceError("every receive channel is closed")))
            send_waiters.clear()
            state.buffer.clear()

    @enable_ki_protection
    async def aclose(self) -> None:
        """Close this handle like :meth:`close`, then checkpoint."""
        self.close()
        await checkpoint()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _check_buffer_size(max_buffer_size: int | float) -> None:
    if max_buffer_size != math.inf and (
        not isinstance(max_buffer_size, int) or isinstance(max_buffer_size, bool)
    ):
        raise TypeError(f"max_buffer_size must be an int or math.inf, not {max_buffer_size!r}")
    if max_buffer_size < 0:
        raise ValueError(f"max_buffer_size must be >= 0, not {max_buffer_size!r}")


@final
class open_memory_channel(tuple[MemorySendChannel[T], MemoryReceiveChannel[T]]):
    """Open a channel for passing objects between tasks of one run.

    ``send_channel, receive_channel = open_memory_channel(max_buffer_size)``

    ``max_buffer_size`` is how many values may be sent before a receiver takes them: ``0``
    (the default choice: every ``send`` waits for a receiver, a rendezvous), any positive
    int, or :data:`math.inf` for an unbounded buffer (no back-pressure at all: use with
    care). The result unpacks into a :class:`MemorySendChannel` and a
    :class:`MemoryReceiveChannel`; both can be cloned, closed independently, and used as
    (async) context managers.

    To give the values a static type, subscript it: ``open_memory_channel[int](0)``. It is
    written as a class so that this subscript works; what a call returns is a plain pair
    (an instance of this ``tuple`` subclass) holding the two ends.

    Raises:
      TypeError: ``max_buffer_size`` is neither an int nor ``math.inf``.
      ValueError: ``max_buffer_size`` is negative.
    """

    __slots__ = ()

    def __new__(cls, max_buffer_size: int | float) -> open_memory_channel[T]:
        _check_buffer_size(max_buffer_size)
        state: _ChannelState[T] = _ChannelState(max_buffer_size)
        return tuple.__new__(
            cls, (MemorySendChannel._create(state), MemoryReceiveChannel._create(state))
        )
