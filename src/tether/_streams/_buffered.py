"""Tier 9: buffered reading on any ReceiveStream (beyond Trio).

Protocols want "exactly n bytes", "up to this delimiter" and "line by line"; a raw
``receive_some`` gives whatever chunk arrived. :class:`BufferedReceiveStream` wraps any
:class:`~tether.abc.ReceiveStream` and adds exactly those, with a size limit on every
delimiter search so a peer cannot make us buffer without bound.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from .._core import ClosedResourceError, checkpoint
from ._abc import ReceiveStream

DEFAULT_CHUNK = 65536
DEFAULT_MAX_LINE = 65536


class IncompleteReceiveError(EOFError):
    """The stream ended before the requested data arrived. ``partial`` holds what did
    arrive (it is no longer buffered); ``expected`` is the size asked for, or ``None`` when
    a delimiter was expected."""

    def __init__(self, partial: bytes, expected: int | None) -> None:
        wanted = f"{expected} bytes" if expected is not None else "a delimiter"
        super().__init__(f"stream ended after {len(partial)} bytes while waiting for {wanted}")
        self.partial = partial
        self.expected = expected


class DelimiterTooFarError(ValueError):
    """No delimiter within ``max_bytes``: a line or record longer than allowed. The data
    stays buffered, so a caller may decide to read it another way."""


class BufferedReceiveStream(ReceiveStream):
    """A :class:`~tether.abc.ReceiveStream` that adds exact, delimited and line reads::

        reader = tether.BufferedReceiveStream(stream)
        header = await reader.receive_exactly(4)
        name = await reader.receive_until(b"\\0", max_bytes=256)
        async for line in reader.lines():
            ...

    Only this object should read from the wrapped stream from now on (it may hold data the
    stream already delivered). One task at a time may receive, as on any stream.
    """

    __slots__ = ("_buffer", "_closed", "_eof", "chunk_size", "stream")

    def __init__(self, stream: ReceiveStream, *, chunk_size: int = DEFAULT_CHUNK) -> None:
        if not isinstance(stream, ReceiveStream):
            raise TypeError(f"expected a tether.abc.ReceiveStream, not {stream!r}")
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        self.stream = stream
        self.chunk_size = chunk_size
        self._buffer = bytearray()
        self._eof = False
        self._closed = False

    def __repr__(self) -> str:
        return f"<tether.BufferedReceiveStream over {self.stream!r}, {len(self._buffer)} buffered>"

    @property
    def buffered(self) -> bytes:
        """The bytes received from the stream but not yet handed out."""
        return bytes(self._buffer)

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedResourceError("this BufferedReceiveStream was closed")

    async def _fill(self) -> bool:
        """Receive one more chunk into the buffer; False at end of stream."""
        if self._eof:
            return False
        data = await self.stream.receive_some(self.chunk_size)
        if not data:
            self._eof = True
            return False
        self._buffer += data
        return True

    def _take(self, count: int) -> bytes:
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """Buffered data first (without waiting), else one read from the stream."""
        if max_bytes is not None and max_bytes < 1:
            raise ValueError("max_bytes must be >= 1")
        self._check_open()
        if self._buffer:
            await checkpoint()
            return self._take(len(self._buffer) if max_bytes is None else max_bytes)
        if self._eof:
            await checkpoint()
            return b""
        data = await self.stream.receive_some(max_bytes or self.chunk_size)
        if not data:
            self._eof = True
        return bytes(data)

    async def receive_exactly(self, count: int) -> bytes:
        """Return exactly ``count`` bytes; :exc:`IncompleteReceiveError` if the stream ends
        first."""
        if count < 0:
            raise ValueError("count must be >= 0")
        self._check_open()
        received = False  # _fill's receive_some is a checkpoint; else make one
        while len(self._buffer) < count:
            if not await self._fill():
                raise IncompleteReceiveError(self._take(len(self._buffer)), count)
            received = True
        if not received:
            await checkpoint()
        return self._take(count)

    async def receive_until(self, delimiter: bytes, *, max_bytes: int) -> bytes:
        """Return the data up to ``delimiter`` (the delimiter is consumed, not returned).

        :exc:`DelimiterTooFarError` if no delimiter appears within ``max_bytes`` bytes
        (counting the delimiter); :exc:`IncompleteReceiveError` if the stream ends first.
        """
        if not delimiter:
            raise ValueError("delimiter must not be empty")
        if max_bytes < len(delimiter):
            raise ValueError("max_bytes must be at least the delimiter's length")
        self._check_open()
        first = True
        # Where this call's search resumes: only the tail can hold a delimiter split across
        # chunks, so the rest is not rescanned. Local on purpose: after an error or a
        # cancellation the next call (maybe with another delimiter) scans from the start.
        scan_from = 0
        while True:
            index = self._buffer.find(delimiter, scan_from)
            if index != -1 and index + len(delimiter) <= max_bytes:
                if first:
                    await checkpoint()
                data = self._take(index)
                del self._buffer[: len(delimiter)]
                return data
            if index != -1 or len(self._buffer) >= max_bytes:
                raise DelimiterTooFarError(
                    f"no {delimiter!r} within {max_bytes} bytes (data stays buffered)"
                )
            scan_from = max(0, len(self._buffer) - len(delimiter) + 1)
            first = False
            if not await self._fill():
                raise IncompleteReceiveError(self._take(len(self._buffer)), None)

    async def lines(
        self, *, delimiter: bytes = b"\n", max_line_length: int = DEFAULT_MAX_LINE
    ) -> AsyncIterator[bytes]:
        """Yield each line without its delimiter, until end of stream. A last line with
        no delimiter is yielded too. :exc:`DelimiterTooFarError` for a line longer than
        ``max_line_length`` (delimiter included)."""
        while True:
            try:
                yield await self.receive_until(delimiter, max_bytes=max_line_length)
            except IncompleteReceiveError as exc:
                if exc.partial:
                    yield exc.partial
                return

    async def aclose(self) -> None:
        """Close the wrapped stream; buffered data is discarded. Reading afterwards
        raises ``ClosedResourceError``."""
        self._closed = True
        self._buffer.clear()
        await self.stream.aclose()
