"""Tier 9: the stream interfaces. Code written against these works over TCP, TLS, unix
sockets, pipes and in-memory test streams alike."""

from __future__ import annotations

from abc import abstractmethod
from typing import Generic, TypeVar

from .._abc import AsyncResource

T_Resource = TypeVar("T_Resource", bound=AsyncResource, covariant=True)


class SendStream(AsyncResource):
    """A stream you can write bytes into."""

    __slots__ = ()

    @abstractmethod
    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Send all of ``data``, waiting as needed for the other side to take it.

        If cancelled, some of the data may have been sent and the stream is left in an
        unknown state: only closing it is safe. Raises ``BusyResourceError`` if another
        task is already in ``send_all`` or :meth:`wait_send_all_might_not_block`,
        ``BrokenResourceError`` if the stream broke (the cause is chained), and
        ``ClosedResourceError`` if this side was closed.
        """

    @abstractmethod
    async def wait_send_all_might_not_block(self) -> None:
        """Block until a :meth:`send_all` call would probably not block (a hint, for
        protocols that want to produce data only once it can be sent)."""


class ReceiveStream(AsyncResource):
    """A stream you can read bytes from; iterating it yields chunks until end of stream."""

    __slots__ = ()

    @abstractmethod
    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        """Wait for data and return between 1 and ``max_bytes`` bytes (a reasonable chunk
        if ``None``); ``b""`` means end of stream, and every later call returns ``b""`` too.

        Raises ``BusyResourceError`` if another task is already receiving,
        ``BrokenResourceError`` if the stream broke, ``ClosedResourceError`` if this side
        was closed.
        """

    def __aiter__(self) -> ReceiveStream:
        return self

    async def __anext__(self) -> bytes | bytearray:
        data = await self.receive_some()
        if not data:
            raise StopAsyncIteration
        return data


class Stream(SendStream, ReceiveStream):
    """A bidirectional byte stream."""

    __slots__ = ()


class HalfCloseableStream(Stream):
    """A stream whose sending side can be closed on its own (TCP's ``shutdown(SHUT_WR)``)."""

    __slots__ = ()

    @abstractmethod
    async def send_eof(self) -> None:
        """Tell the other side no more data is coming; receiving still works. Idempotent."""


class Listener(AsyncResource, Generic[T_Resource]):
    """Something that accepts incoming connections, one resource per connection."""

    __slots__ = ()

    @abstractmethod
    async def accept(self) -> T_Resource:
        """Wait for the next connection and return it. Raises ``BusyResourceError`` if
        another task is accepting on the same listener, ``ClosedResourceError`` if the
        listener was closed."""
