"""In-memory streams for tests: buffered ones with hooks, and lockstep ones with no buffer.

These use only tether's public and lowlevel API (plus the shared ``ConflictDetector``), as
any user-written stream could.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable

from .. import _core
from .._streams._abc import ReceiveStream, SendStream
from .._streams._stapled import StapledStream
from .._streams._util import ConflictDetector

__all__ = [
    "MemoryReceiveStream",
    "MemorySendStream",
    "lockstep_stream_one_way_pair",
    "lockstep_stream_pair",
    "memory_stream_one_way_pair",
    "memory_stream_pair",
    "memory_stream_pump",
]

AsyncHook = Callable[[], Awaitable[object]]
SyncHook = Callable[[], object]

MemoryStreamPair = tuple[
    StapledStream["MemorySendStream", "MemoryReceiveStream"],
    StapledStream["MemorySendStream", "MemoryReceiveStream"],
]


def _check_max_bytes(max_bytes: int | None) -> int | None:
    if max_bytes is None:
        return None
    max_bytes = operator.index(max_bytes)
    if max_bytes < 1:
        raise ValueError("max_bytes must be >= 1")
    return max_bytes


class _ByteQueue:
    """An unbounded byte buffer with one consumer; ``close()`` marks end of data."""

    __slots__ = ("_closed", "_data", "_fetching", "_lot")

    def __init__(self) -> None:
        self._data = bytearray()
        self._closed = False
        self._lot = _core.ParkingLot()
        self._fetching = ConflictDetector("another task is already fetching data")

    def put(self, data: bytes | bytearray | memoryview) -> None:
        if self._closed:
            raise _core.ClosedResourceError("the stream's buffer was closed")
        if data:
            self._data += data
            self._lot.unpark_all()

    def close(self) -> None:
        self._closed = True
        self._lot.unpark_all()

    def close_and_wipe(self) -> None:
        self._data = bytearray()
        self.close()

    def _take(self, max_bytes: int | None) -> bytearray:
        if max_bytes is None or max_bytes >= len(self._data):
            chunk = self._data
            self._data = bytearray()
        else:
            chunk = self._data[:max_bytes]
            del self._data[:max_bytes]
        return chunk

    def get_nowait(self, max_bytes: int | None) -> bytearray:
        max_bytes = _check_max_bytes(max_bytes)
        with self._fetching:
            if not self._data and not self._closed:
                raise _core.WouldBlock
            return self._take(max_bytes)

    async def get(self, max_bytes: int | None) -> bytearray:
        max_bytes = _check_max_bytes(max_bytes)
        with self._fetching:
            if self._data or self._closed:
                await _core.checkpoint()
            while not self._data and not self._closed:
                await self._lot.park()
            return self._take(max_bytes)


class MemorySendStream(SendStream):
    """An in-memory :class:`~tether.abc.SendStream`: :meth:`send_all` appends to an
    internal buffer, which a test reads back with :meth:`get_data` /
    :meth:`get_data_nowait`.

    The hooks, also available (and assignable) as attributes of the same names, let a test
    react to what the code under test does:

    Args:
      send_all_hook: an async function called with no arguments by :meth:`send_all`,
        after the data was added to the buffer (for example to pump it somewhere).
      wait_send_all_might_not_block_hook: an async function called with no arguments by
        :meth:`wait_send_all_might_not_block`, after its other checks.
      close_hook: a *synchronous* function called with no arguments by :meth:`close` and
        :meth:`aclose`, after the stream was marked closed.
    """

    __slots__ = (
        "_conflict_detector",
        "_outgoing",
        "close_hook",
        "send_all_hook",
        "wait_send_all_might_not_block_hook",
    )

    def __init__(
        self,
        send_all_hook: AsyncHook | None = None,
        wait_send_all_might_not_block_hook: AsyncHook | None = None,
        close_hook: SyncHook | None = None,
    ) -> None:
        self._conflict_detector = ConflictDetector("another task is using this stream for sending")
        self._outgoing = _ByteQueue()
        self.send_all_hook = send_all_hook
        self.wait_send_all_might_not_block_hook = wait_send_all_might_not_block_hook
        self.close_hook = close_hook

    def __repr__(self) -> str:
        state = "closed" if self._outgoing._closed else "open"
        return f"<tether.testing.MemorySendStream {state}, {len(self._outgoing._data)} bytes>"

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the internal buffer, then call :attr:`send_all_hook`.

        Raises ``ClosedResourceError`` if the stream was closed and ``BusyResourceError``
        if another task is in :meth:`send_all` or :meth:`wait_send_all_might_not_block`.
        """
        with self._conflict_detector:
            await _core.checkpoint()
            if self._outgoing._closed:
                raise _core.ClosedResourceError("this stream was closed")
            self._outgoing.put(data)
            if self.send_all_hook is not None:
                await self.send_all_hook()

    async def wait_send_all_might_not_block(self) -> None:
        """Call :attr:`wait_send_all_might_not_block_hook` (if set), then return.

        A checkpoint; raises like :meth:`send_all` does.
        """
        with self._conflict_detector:
            await _core.checkpoint()
            if self._outgoing._closed:
                raise _core.ClosedResourceError("this stream was closed")
            if self.wait_send_all_might_not_block_hook is not None:
                await self.wait_send_all_might_not_block_hook()

    def close(self) -> None:
        """Mark the stream closed, then call :attr:`close_hook` (if set).

        Data already in the buffer can still be fetched; after it,
        :meth:`get_data` returns ``b""``. Closing twice is harmless (the hook runs again).
        """
        self._outgoing.close()
        if self.close_hook is not None:
            self.close_hook()

    async def aclose(self) -> None:
        """:meth:`close`, then a checkpoint."""
        self.close()
        await _core.checkpoint()

    async def get_data(self, max_bytes: int | None = None) -> bytearray:
        """Take data out of the internal buffer, waiting until there is some.

        Returns at most ``max_bytes`` bytes (everything buffered if ``None``), or ``b""``
        once the stream is closed and the buffer is empty. Raises ``BusyResourceError`` if
        another task is already in :meth:`get_data`.
        """
        return await self._outgoing.get(max_bytes)

    def get_data_nowait(self, max_bytes: int | None = None) -> bytearray:
        """Like :meth:`get_data`, but raises ``WouldBlock`` instead of waiting when the
        buffer is empty and the stream is still open."""
        return self._outgoing.get_nowait(max_bytes)


class MemoryReceiveStream(ReceiveStream):
    """An in-memory :class:`~tether.abc.ReceiveStream`: a test feeds it with
    :meth:`put_data` and :meth:`put_eof`, the code under test reads with
    :meth:`receive_some`.

    Args:
      receive_some_hook: an async function called with no arguments by
        :meth:`receive_some` before it looks at the buffer (for example to pump data
        into it).
      close_hook: a *synchronous* function called with no arguments by :meth:`close` and
        :meth:`aclose`.

    Both are also available (and assignable) as attributes of the same names.
    """

    __slots__ = ("_closed", "_conflict_detector", "_incoming", "close_hook", "receive_some_hook")

    def __init__(
        self,
        receive_some_hook: AsyncHook | None = None,
        close_hook: SyncHook | None = None,
    ) -> None:
        self._conflict_detector = ConflictDetector(
            "another task is using this stream for receiving"
        )
        self._incoming = _ByteQueue()
        self._closed = False
        self.receive_some_hook = receive_some_hook
        self.close_hook = close_hook

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<tether.testing.MemoryReceiveStream {state}, {len(self._incoming._data)} bytes>"

    async def receive_some(self, max_bytes: int | None = None) -> bytearray:
        """Call :attr:`receive_some_hook` (if set), then take up to ``max_bytes`` bytes
        from the buffer (everything buffered if ``None``), waiting until there is data or
        an end-of-file marker.

        Returns ``b""`` after :meth:`put_eof` once the buffer is drained. Raises
        ``ClosedResourceError`` if this stream was closed (also when that happens while
        waiting), ``BusyResourceError`` if another task is receiving, ``ValueError`` if
        ``max_bytes < 1``.
        """
        max_bytes = _check_max_bytes(max_bytes)
        with self._conflict_detector:
            await _core.checkpoint()
            if self._closed:
                raise _core.ClosedResourceError("this stream was closed")
            if self.receive_some_hook is not None:
                await self.receive_some_hook()
            # The queue being closed means EOF; self._closed means *we* were closed, and
            # close() closes the queue too, to wake us.
            data = await self._incoming.get(max_bytes)
            if self._closed:
                raise _core.ClosedResourceError("this stream was closed")
            return data

    def close(self) -> None:
        """Mark the stream closed and discard any data still buffered, then call
        :attr:`close_hook` (if set). A task blocked in :meth:`receive_some` gets
        ``ClosedResourceError``; later :meth:`put_data` calls do too."""
        self._closed = True
        self._incoming.close_and_wipe()
        if self.close_hook is not None:
            self.close_hook()

    async def aclose(self) -> None:
        """:meth:`close`, then a checkpoint."""
        self.close()
        await _core.checkpoint()

    def put_data(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the buffer, waking a blocked :meth:`receive_some`.

        Raises ``ClosedResourceError`` if the stream was closed or :meth:`put_eof` was
        called.
        """
        self._incoming.put(data)

    def put_eof(self) -> None:
        """Add an end-of-file marker: once the buffered data is read,
        :meth:`receive_some` returns ``b""``. Calling it again is harmless."""
        self._incoming.close()


def memory_stream_pump(
    memory_send_stream: MemorySendStream,
    memory_receive_stream: MemoryReceiveStream,
    *,
    max_bytes: int | None = None,
) -> bool:
    """Move data from ``memory_send_stream``'s buffer into ``memory_receive_stream``'s.

    Moves at most ``max_bytes`` bytes (everything buffered if ``None``). When the send
    stream is closed and its buffer is empty, an end-of-file marker is passed on instead.
    Returns ``True`` if it moved data or EOF, ``False`` if there was nothing to move. If
    the receive stream was closed, raises ``BrokenResourceError`` (so a ``send_all`` that
    pumps from its hook fails the way a send to a closed peer should).

    Call it from hooks to build custom connections, for example one that delivers a
    byte at a time::

        async def one_byte_at_a_time() -> None:
            memory_stream_pump(send, receive, max_bytes=1)
    """
    try:
        data = memory_send_stream.get_data_nowait(max_bytes)
    except _core.WouldBlock:
        return False
    try:
        if data:
            memory_receive_stream.put_data(data)
        else:
            memory_receive_stream.put_eof()
    except _core.ClosedResourceError:
        raise _core.BrokenResourceError("MemoryReceiveStream was closed") from None
    return True


def memory_stream_one_way_pair() -> tuple[MemorySendStream, MemoryReceiveStream]:
    """A connected ``(MemorySendStream, MemoryReceiveStream)`` pair with unlimited
    buffering: the in-memory counterpart of a pipe, data flowing left to right.

    The send stream's :attr:`~MemorySendStream.send_all_hook` and
    :attr:`~MemorySendStream.close_hook` are set to pump everything across with
    :func:`memory_stream_pump` (so closing the sender delivers EOF, and sending after the
    receiver closed raises ``BrokenResourceError``). Replace the hooks to simulate other
    network behaviour, e.g. delays or trickling delivery.
    """
    send_stream = MemorySendStream()
    receive_stream = MemoryReceiveStream()

    def pump() -> None:
        memory_stream_pump(send_stream, receive_stream)

    async def async_pump() -> None:
        pump()

    send_stream.send_all_hook = async_pump
    send_stream.close_hook = pump
    return send_stream, receive_stream


def memory_stream_pair() -> MemoryStreamPair:
    """Two connected :class:`~tether.StapledStream` objects with unlimited buffering,
    made from two :func:`memory_stream_one_way_pair` pairs.

    Reach the underlying memory streams (and their hooks) through the ``send_stream``
    and ``receive_stream`` attributes::

        left, right = memory_stream_pair()
        left.send_stream.send_all_hook = my_hook
    """
    left_send, right_receive = memory_stream_one_way_pair()
    right_send, left_receive = memory_stream_one_way_pair()
    return StapledStream(left_send, left_receive), StapledStream(right_send, right_receive)


# ---------------------------------------------------------------------------------------
# Lockstep streams


class _LockstepQueue:
    """The shared state of one lockstep direction: no buffer, the sender waits until the
    receiver has taken every byte."""

    __slots__ = (
        "_data",
        "_lot",
        "_receive_conflict_detector",
        "_receiver_closed",
        "_receiver_waiting",
        "_send_conflict_detector",
        "_sender_closed",
    )

    def __init__(self) -> None:
        self._data = bytearray()
        self._sender_closed = False
        self._receiver_closed = False
        self._receiver_waiting = False
        # One lot for every state change; waiters re-check their condition.
        self._lot = _core.ParkingLot()
        self._send_conflict_detector = ConflictDetector(
            "another task is using this stream for sending"
        )
        self._receive_conflict_detector = ConflictDetector(
            "another task is using this stream for receiving"
        )

    def _changed(self) -> None:
        self._lot.unpark_all()

    async def _wait_for(self, condition: Callable[[], bool]) -> None:
        if condition():
            await _core.checkpoint()
            return
        while not condition():
            await self._lot.park()

    def close_sender(self) -> None:
        self._sender_closed = True
        self._changed()

    def close_receiver(self) -> None:
        self._receiver_closed = True
        self._changed()

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        with self._send_conflict_detector:
            if self._sender_closed:
                raise _core.ClosedResourceError("this stream was closed")
            if self._receiver_closed:
                raise _core.BrokenResourceError("the receiving end was closed")
            if not data:
                await _core.checkpoint()
                return
            self._data += data
            self._changed()
            try:
                await self._wait_for(
                    lambda: not self._data or self._sender_closed or self._receiver_closed
                )
                if self._data and self._receiver_closed:
                    raise _core.BrokenResourceError("the receiving end was closed")
                if self._sender_closed:
                    raise _core.ClosedResourceError("this stream was closed while sending")
            finally:
                # Interrupted (cancelled, closed, broken): whatever the receiver has not
                # taken yet is withdrawn, so a later receive_some does not return it.
                self._data.clear()

    async def wait_send_all_might_not_block(self) -> None:
        with self._send_conflict_detector:
            if self._sender_closed:
                raise _core.ClosedResourceError("this stream was closed")
            await self._wait_for(
                lambda: self._receiver_waiting or self._receiver_closed or self._sender_closed
            )
            if self._sender_closed:
                raise _core.ClosedResourceError("this stream was closed while waiting")

    async def receive_some(self, max_bytes: int | None) -> bytearray:
        max_bytes = _check_max_bytes(max_bytes)
        with self._receive_conflict_detector:
            if self._receiver_closed:
                raise _core.ClosedResourceError("this stream was closed")
            self._receiver_waiting = True
            self._changed()
            try:
                await self._wait_for(
                    lambda: bool(self._data) or self._sender_closed or self._receiver_closed
                )
            finally:
                self._receiver_waiting = False
            if self._receiver_closed:
                raise _core.ClosedResourceError("this stream was closed while receiving")
            if self._data:
                if max_bytes is None or max_bytes >= len(self._data):
                    chunk = self._data
                    self._data = bytearray()
                else:
                    chunk = self._data[:max_bytes]
                    del self._data[:max_bytes]
                self._changed()
                return chunk
            return bytearray()  # the sender closed: end of stream


class _LockstepSendStream(SendStream):
    """The sending end of :func:`lockstep_stream_one_way_pair`."""

    __slots__ = ("_queue",)

    def __init__(self, queue: _LockstepQueue) -> None:
        self._queue = queue

    def __repr__(self) -> str:
        return "<tether.testing lockstep SendStream>"

    def close(self) -> None:
        """Close this end at once: the receiver sees end of stream."""
        self._queue.close_sender()

    async def aclose(self) -> None:
        """:meth:`close`, then a checkpoint."""
        self.close()
        await _core.checkpoint()

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Hand ``data`` to the receiver, returning only once it took every byte."""
        await self._queue.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        """Wait until a task is blocked in the receiver's ``receive_some`` (or the
        receiver is closed)."""
        await self._queue.wait_send_all_might_not_block()


class _LockstepReceiveStream(ReceiveStream):
    """The receiving end of :func:`lockstep_stream_one_way_pair`."""

    __slots__ = ("_queue",)

    def __init__(self, queue: _LockstepQueue) -> None:
        self._queue = queue

    def __repr__(self) -> str:
        return "<tether.testing lockstep ReceiveStream>"

    def close(self) -> None:
        """Close this end at once: a blocked or later sender gets ``BrokenResourceError``."""
        self._queue.close_receiver()

    async def aclose(self) -> None:
        """:meth:`close`, then a checkpoint."""
        self.close()
        await _core.checkpoint()

    async def receive_some(self, max_bytes: int | None = None) -> bytearray:
        """Wait until the sender offers data (or closes) and take up to ``max_bytes``."""
        return await self._queue.receive_some(max_bytes)


def lockstep_stream_one_way_pair() -> tuple[SendStream, ReceiveStream]:
    """A connected ``(SendStream, ReceiveStream)`` pair with no buffering at all.

    :meth:`~tether.abc.SendStream.send_all` returns only once the receiver has taken
    every byte with ``receive_some``, and ``wait_send_all_might_not_block`` returns only
    while a receiver is waiting. Useful to test flow control in the extreme case, and as
    the "clogged" stream for :func:`check_one_way_stream` and friends. Both objects also
    have a synchronous ``close()`` method.

    A cancelled ``send_all`` withdraws whatever the receiver did not take yet.
    """
    queue = _LockstepQueue()
    return _LockstepSendStream(queue), _LockstepReceiveStream(queue)


def lockstep_stream_pair() -> tuple[
    StapledStream[SendStream, ReceiveStream], StapledStream[SendStream, ReceiveStream]
]:
    """Two connected :class:`~tether.StapledStream` objects with no buffering in either
    direction, made from two :func:`lockstep_stream_one_way_pair` pairs."""
    left_send, right_receive = lockstep_stream_one_way_pair()
    right_send, left_receive = lockstep_stream_one_way_pair()
    return StapledStream(left_send, left_receive), StapledStream(right_send, right_receive)
