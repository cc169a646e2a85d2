"""asyncio's streams API (open_connection, start_server, StreamReader, StreamWriter) over
tether streams."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import tether
from tether.abc import HalfCloseableStream, Listener, ReceiveStream, SendStream
from tether.lowlevel import ParkingLot

from ._exceptions import IncompleteReadError, LimitOverrunError
from ._futures import _is_coroutine
from ._loop import EventLoop, get_running_loop

_DEFAULT_LIMIT = 2**16
_HIGH_WATER = 2**16


class StreamReader:
    """Reads from a tether ReceiveStream (or from :meth:`feed_data`), asyncio-style.

    Over a stream, a service task of the loop's nursery receives data as it arrives (as
    asyncio's transport does), pausing while more than twice ``limit`` bytes wait unread:
    so what arrived before the connection was closed can still be read afterwards.
    """

    def __init__(self, limit: int = _DEFAULT_LIMIT, *, stream: ReceiveStream | None = None) -> None:
        if limit <= 0:
            raise ValueError("Limit cannot be <= 0")
        self._limit = limit
        self._buffer = bytearray()
        self._eof = False
        self._stream = stream
        self._exception: BaseException | None = None
        self._fed = ParkingLot()
        self._consumed = ParkingLot()
        if stream is not None:
            nursery = get_running_loop()._nursery
            assert nursery is not None
            nursery.start_service(self._pump, stream, name="<tether.aio stream reader>")

    async def _pump(self, stream: ReceiveStream) -> None:
        try:
            while True:
                while len(self._buffer) > 2 * self._limit:
                    await self._consumed.park()
                data = await stream.receive_some(max(self._limit, 65536))
                if not data:
                    break
                self.feed_data(data)
        except tether.ClosedResourceError:
            pass  # closed on our side (the writer was closed): end of data, as in asyncio
        except (tether.BrokenResourceError, OSError) as exc:
            self.set_exception(ConnectionResetError(str(exc)))
            return
        self.feed_eof()

    def __repr__(self) -> str:
        return f"<tether.aio.StreamReader {len(self._buffer)} bytes{' eof' if self._eof else ''}>"

    def exception(self) -> BaseException | None:
        return self._exception

    def set_exception(self, exc: BaseException) -> None:
        self._exception = exc
        self._fed.unpark_all()

    def feed_data(self, data: bytes | bytearray) -> None:
        self._buffer += data
        self._fed.unpark_all()

    def feed_eof(self) -> None:
        self._eof = True
        self._fed.unpark_all()

    def at_eof(self) -> bool:
        return self._eof and not self._buffer

    def _resume(self) -> None:
        if self._consumed and len(self._buffer) <= self._limit:
            self._consumed.unpark_all()

    async def _fill(self) -> None:
        """Wait for more data (or EOF)."""
        if self._exception is not None:
            raise self._exception
        if self._consumed:
            self._consumed.unpark_all()
        await self._fed.park()
        if self._exception is not None:
            raise self._exception

    async def read(self, n: int = -1) -> bytes:
        if n == 0:
            return b""
        if n < 0:
            while not self._eof:
                await self._fill()
            data = bytes(self._buffer)
            self._buffer.clear()
            self._resume()
            return data
        if not self._buffer and not self._eof:
            await self._fill()
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        self._resume()
        return data

    async def readexactly(self, n: int) -> bytes:
        if n < 0:
            raise ValueError("readexactly size can not be less than zero")
        while len(self._buffer) < n:
            if self._eof:
                partial = bytes(self._buffer)
                self._buffer.clear()
                raise IncompleteReadError(partial, n)
            await self._fill()
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        self._resume()
        return data

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        if not separator:
            raise ValueError("Separator should be at least one-byte string")
        offset = 0
        while True:
            index = self._buffer.find(separator, offset)
            if index != -1:
                end = index + len(separator)
                if end > self._limit:
                    raise LimitOverrunError(
                        "Separator is found, but chunk is longer than limit", index
                    )
                data = bytes(self._buffer[:end])
                del self._buffer[:end]
                self._resume()
                return data
            if len(self._buffer) > self._limit:
                raise LimitOverrunError(
                    "Separator is not found, and chunk exceed the limit", len(self._buffer)
                )
            if self._eof:
                partial = bytes(self._buffer)
                self._buffer.clear()
                raise IncompleteReadError(partial, None)
            offset = max(0, len(self._buffer) - len(separator) + 1)
            await self._fill()

    async def readline(self) -> bytes:
        try:
            return await self.readuntil(b"\n")
        except IncompleteReadError as exc:
            return exc.partial
        except LimitOverrunError as exc:
            if self._buffer.startswith(b"\n", exc.consumed):
                del self._buffer[: exc.consumed + 1]
            else:
                self._buffer.clear()
            raise ValueError(exc.args[0]) from None

    def __aiter__(self) -> StreamReader:
        return self

    async def __anext__(self) -> bytes:
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line


class _Flusher:
    """Sends what StreamWriter.write() buffered, in a tether task of the loop's nursery."""

    def __init__(self, stream: SendStream, loop: EventLoop) -> None:
        self.stream = stream
        self.buffer = bytearray()
        self.closing = False
        self.closed = False
        self.eof_requested = False
        self.error: BaseException | None = None
        self.data_ready = ParkingLot()
        self.drained = ParkingLot()
        self.done = ParkingLot()
        assert loop._nursery is not None
        # A service: it never keeps the run open (unsent data is dropped at exit, as
        # when an asyncio loop closes).
        loop._nursery.start_service(self.run, name="<tether.aio stream writer>")

    async def run(self) -> None:
        try:
            while True:
                if self.buffer:
                    data = bytes(self.buffer)
                    self.buffer.clear()
                    await self.stream.send_all(data)
                    if not self.buffer:
                        self.drained.unpark_all()
                    continue
                self.drained.unpark_all()
                if self.eof_requested and isinstance(self.stream, HalfCloseableStream):
                    self.eof_requested = False
                    await self.stream.send_eof()
                if self.closing:
                    break
                await self.data_ready.park()
        except (tether.BrokenResourceError, tether.ClosedResourceError, OSError) as exc:
            self.error = ConnectionResetError(str(exc))
            self.buffer.clear()
        finally:
            self.closed = True
            with tether.CancelScope(shield=True):
                if self.error is not None:
                    await tether.aclose_forcefully(self.stream)
                else:
                    await self.stream.aclose()
            self.drained.unpark_all()
            self.done.unpark_all()

    def kick(self) -> None:
        if self.data_ready:
            self.data_ready.unpark_all()


class StreamWriter:
    """Writes to a tether SendStream, asyncio-style: ``write`` buffers (sending starts at
    once, in the background), ``drain`` waits while too much is buffered."""

    def __init__(
        self,
        stream: SendStream,
        reader: StreamReader | None,
        loop: EventLoop,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self._stream = stream
        self._reader = reader
        self._loop = loop
        self._extra = extra or {}
        self._flusher = _Flusher(stream, loop)
        self._eof_written = False
        self.transport = _StreamTransport(self)

    def __repr__(self) -> str:
        return f"<tether.aio.StreamWriter over {self._stream!r}>"

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._eof_written:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self._flusher.closing:
            return
        self._flusher.buffer += data
        self._flusher.kick()

    def writelines(self, data: list[bytes]) -> None:
        for chunk in data:
            self.write(chunk)

    def can_write_eof(self) -> bool:
        return isinstance(self._stream, HalfCloseableStream)

    def write_eof(self) -> None:
        self._eof_written = True
        self._flusher.eof_requested = True
        self._flusher.kick()

    async def drain(self) -> None:
        if self._reader is not None and self._reader._exception is not None:
            raise self._reader._exception
        if self._flusher.error is not None:
            raise self._flusher.error
        if self._flusher.closing:
            # As asyncio: one yield, then a connection already lost is an error.
            await tether.lowlevel.cancel_shielded_checkpoint()
            if self._flusher.closed or not self._flusher.buffer:
                raise ConnectionResetError("Connection lost")
        while len(self._flusher.buffer) > _HIGH_WATER and not self._flusher.closed:
            await self._flusher.drained.park()
        if self._flusher.error is not None:
            raise self._flusher.error

    def close(self) -> None:
        self._flusher.closing = True
        self._flusher.kick()

    def is_closing(self) -> bool:
        return self._flusher.closing

    async def wait_closed(self) -> None:
        if not self._flusher.closed:
            await self._flusher.done.park()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name in self._extra:
            return self._extra[name]
        return _socket_extra_info(self._stream, name, default)

    async def start_tls(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("start_tls is not supported; use tether.SSLStream")


class _StreamTransport:
    """The little of asyncio's transport that stream users reach for."""

    def __init__(self, writer: StreamWriter) -> None:
        self._writer = writer

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._writer.get_extra_info(name, default)

    def close(self) -> None:
        self._writer.close()

    def is_closing(self) -> bool:
        return self._writer.is_closing()

    def abort(self) -> None:
        self._writer._flusher.buffer.clear()
        self._writer.close()


async def _open_tcp(host: str, port: int) -> tether.SocketStream:
    """tether.open_tcp_stream, failing as asyncio's connect does: one address's error
    (``ConnectionRefusedError``...) as itself, several different ones as one OSError."""
    try:
        return await tether.open_tcp_stream(host, port)
    except OSError as exc:
        group = exc.__cause__
        if not isinstance(group, ExceptionGroup):
            raise
        errors = list(group.exceptions)
        if errors and all(str(e) == str(errors[0]) for e in errors):
            raise errors[0] from None
        raise OSError(f"Multiple exceptions: {', '.join(map(str, errors))}") from None


def _pair(
    stream: tether.abc.Stream, limit: int, loop: EventLoop
) -> tuple[StreamReader, StreamWriter]:
    reader = StreamReader(limit, stream=stream)
    return reader, StreamWriter(stream, reader, loop)


async def open_connection(
    host: str | None = None,
    port: int | None = None,
    *,
    limit: int = _DEFAULT_LIMIT,
    ssl: Any = None,
    server_hostname: str | None = None,
    **kwargs: Any,
) -> tuple[StreamReader, StreamWriter]:
    """Connect over TCP (or TLS with ``ssl=``) and return a (reader, writer) pair."""
    loop = get_running_loop()
    if host is None or port is None:
        raise ValueError("host and port must be given")
    stream: tether.abc.Stream
    if ssl:
        import ssl as ssl_module

        context = ssl if isinstance(ssl, ssl_module.SSLContext) else None
        open_ssl: Any = getattr(tether, "open_ssl_over_tcp_stream")  # noqa: B009  # TLS tier
        stream = await open_ssl(host, port, ssl_context=context)
    else:
        stream = await _open_tcp(host, port)
    return _pair(stream, limit, loop)


async def open_unix_connection(
    path: str, *, limit: int = _DEFAULT_LIMIT, **kwargs: Any
) -> tuple[StreamReader, StreamWriter]:
    """Connect to a unix socket and return a (reader, writer) pair."""
    loop = get_running_loop()
    stream = await tether.open_unix_socket(path)
    return _pair(stream, limit, loop)


class Server:
    """What start_server / loop.create_server return."""

    def __init__(self, loop: EventLoop, listeners: list[Listener[Any]]) -> None:
        self._loop = loop
        self._listeners = listeners
        self._scopes: list[tether.CancelScope] = []
        self._serving = False
        self._closed = ParkingLot()
        self._active = 0
        self._on_connection: Callable[[Any], None] | None = None

    def __repr__(self) -> str:
        return f"<tether.aio.Server sockets={self.sockets!r}>"

    @property
    def sockets(self) -> tuple[Any, ...]:
        return tuple(getattr(listener, "socket", listener) for listener in self._listeners)

    def get_loop(self) -> EventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return self._serving

    def _start(self, on_connection: Callable[[Any], None]) -> None:
        self._on_connection = on_connection
        self._serving = True
        assert self._loop._nursery is not None
        for listener in self._listeners:
            scope = tether.CancelScope()
            self._scopes.append(scope)
            self._active += 1
            self._loop._nursery.start_service(self._accept_loop, listener, scope)

    async def _accept_loop(self, listener: Listener[Any], scope: tether.CancelScope) -> None:
        try:
            with scope:
                while True:
                    stream = await listener.accept()
                    assert self._on_connection is not None
                    self._on_connection(stream)
        finally:
            with tether.CancelScope(shield=True):
                await listener.aclose()
            self._active -= 1
            if not self._active:
                self._serving = False
                self._closed.unpark_all()

    async def start_serving(self) -> None:
        await tether.lowlevel.cancel_shielded_checkpoint()

    def close(self) -> None:
        for scope in self._scopes:
            scope.cancel()

    async def wait_closed(self) -> None:
        if self._active:
            await self._closed.park()

    async def serve_forever(self) -> None:
        try:
            await self.wait_closed()
            if not self._scopes:
                await tether.sleep_forever()
        finally:
            self.close()

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
        await self.wait_closed()


def _connection_handler(
    loop: EventLoop,
    client_connected_cb: Callable[[StreamReader, StreamWriter], Awaitable[None] | None],
    limit: int,
) -> Callable[[Any], None]:
    def on_connection(stream: Any) -> None:
        reader, writer = _pair(stream, limit, loop)
        result = client_connected_cb(reader, writer)
        if _is_coroutine(result):
            loop.create_task(result)  # type: ignore[arg-type]

    return on_connection


async def start_server(
    client_connected_cb: Callable[[StreamReader, StreamWriter], Awaitable[None] | None],
    host: str | None = None,
    port: int | None = 0,
    *,
    limit: int = _DEFAULT_LIMIT,
    backlog: int = 100,
    start_serving: bool = True,
    **kwargs: Any,
) -> Server:
    """Start a TCP server calling ``client_connected_cb(reader, writer)`` per connection."""
    loop = get_running_loop()
    listeners = await tether.open_tcp_listeners(port or 0, host=host, backlog=backlog)
    server = Server(loop, list(listeners))
    server._start(_connection_handler(loop, client_connected_cb, limit))
    return server


async def start_unix_server(
    client_connected_cb: Callable[[StreamReader, StreamWriter], Awaitable[None] | None],
    path: str | None = None,
    *,
    limit: int = _DEFAULT_LIMIT,
    backlog: int = 100,
    **kwargs: Any,
) -> Server:
    """Start a unix socket server calling ``client_connected_cb(reader, writer)``."""
    if path is None:
        raise ValueError("path is required")
    loop = get_running_loop()
    listener = await tether.open_unix_listener(path, backlog=backlog)
    server = Server(loop, [listener])
    server._start(_connection_handler(loop, client_connected_cb, limit))
    return server


def _socket_extra_info(stream: object, name: str, default: Any) -> Any:
    """``get_extra_info`` for what a transport's socket knows: peername, sockname, socket."""
    sock = getattr(stream, "socket", None)
    if sock is None:
        return default
    try:
        if name == "peername":
            return sock.getpeername()
        if name == "sockname":
            return sock.getsockname()
    except OSError:
        return default
    return sock if name == "socket" else default
