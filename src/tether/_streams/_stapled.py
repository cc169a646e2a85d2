"""Tier 9: StapledStream, one bidirectional stream made of a send stream and a receive
stream."""

from __future__ import annotations

from typing import Generic, TypeVar

from .._core._util import final
from ._abc import HalfCloseableStream, ReceiveStream, SendStream

SendStreamT = TypeVar("SendStreamT", bound=SendStream, covariant=True)
ReceiveStreamT = TypeVar("ReceiveStreamT", bound=ReceiveStream, covariant=True)


@final
class StapledStream(HalfCloseableStream, Generic[SendStreamT, ReceiveStreamT]):
    """A :class:`~tether.abc.HalfCloseableStream` that sends into one stream and receives
    from another.

    Every sending method is forwarded to :attr:`send_stream`, :meth:`receive_some` to
    :attr:`receive_stream`. Typical uses: turning a pair of pipes (a child process's stdin
    and stdout) into one stream, or wiring up in-memory test streams::

        left_send, right_receive = tether.testing.memory_stream_one_way_pair()
        right_send, left_receive = tether.testing.memory_stream_one_way_pair()
        left = tether.StapledStream(left_send, left_receive)
        right = tether.StapledStream(right_send, right_receive)

    Both attributes are public and may be reassigned.

    Attributes:
      send_stream: the :class:`~tether.abc.SendStream` that data is written to.
      receive_stream: the :class:`~tether.abc.ReceiveStream` that data is read from.
    """

    __slots__ = ("receive_stream", "send_stream")

    def __init__(self, send_stream: SendStreamT, receive_stream: ReceiveStreamT) -> None:
        self.send_stream: SendStreamT = send_stream
        self.receive_stream: ReceiveStreamT = receive_stream

    def __repr__(self) -> str:
        return (
            f"<tether.StapledStream send_stream={self.send_stream!r} "
            f"receive_stream={self.receive_stream!r}>"
        )

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Send ``data`` with ``send_stream.send_all``."""
        await self.send_stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        """Wait with ``send_stream.wait_send_all_might_not_block``."""
        await self.send_stream.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        """Close the sending direction only.

        If :attr:`send_stream` has a ``send_eof`` method (it is half-closeable itself), that
        is called; otherwise :attr:`send_stream` is closed with ``aclose()``. Either way
        :attr:`receive_stream` stays open.
        """
        stream = self.send_stream
        if isinstance(stream, HalfCloseableStream):
            await stream.send_eof()
            return
        send_eof = getattr(stream, "send_eof", None)
        if send_eof is not None:
            await send_eof()
        else:
            await stream.aclose()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        """Receive with ``receive_stream.receive_some``."""
        return await self.receive_stream.receive_some(max_bytes)

    async def aclose(self) -> None:
        """Close both streams: :attr:`receive_stream` is closed even if closing
        :attr:`send_stream` raises (or is cancelled)."""
        try:
            await self.send_stream.aclose()
        finally:
            await self.receive_stream.aclose()
