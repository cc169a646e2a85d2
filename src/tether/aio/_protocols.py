"""asyncio's Protocol/Transport layer (tier 8), only for porting: callbacks driven by
tether tasks reading from and writing to tether streams and sockets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tether
import tether.socket as tsocket
from tether.lowlevel import ParkingLot

from ._loop import EventLoop
from ._streams import Server, _Flusher, _open_tcp, _socket_extra_info


class BaseProtocol:
    """Base of protocol classes (callbacks the transport calls)."""

    def connection_made(self, transport: Any) -> None:
        """Called when a connection is made."""

    def connection_lost(self, exc: Exception | None) -> None:
        """Called when the connection is lost or closed."""

    def pause_writing(self) -> None:
        """Called when the transport's buffer goes over the high-water mark."""

    def resume_writing(self) -> None:
        """Called when the transport's buffer drains below the low-water mark."""


class Protocol(BaseProtocol):
    """Interface for stream protocols."""

    def data_received(self, data: bytes) -> None:
        """Called when some data is received."""

    def eof_received(self) -> bool | None:
        """Called when the other end sent EOF; return true to keep the transport open."""
        return None


class DatagramProtocol(BaseProtocol):
    """Interface for datagram protocols."""

    def datagram_received(self, data: bytes, addr: Any) -> None:
        """Called when a datagram is received."""

    def error_received(self, exc: Exception) -> None:
        """Called when a send or receive operation raises an OSError."""


class Transport:
    """A stream transport: ``write`` buffers and sends in the background; incoming data
    goes to ``protocol.data_received``."""

    def __init__(self, stream: Any, protocol: Protocol, loop: EventLoop) -> None:
        self._stream = stream
        self._protocol = protocol
        self._loop = loop
        self._flusher = _Flusher(stream, loop)
        self._reading = ParkingLot()
        self._paused = False
        self._closing = False
        self._lost = False
        self._eof_written = False
        assert loop._nursery is not None
        loop._nursery.start_service(self._read_loop, name="<tether.aio transport reader>")

    async def _read_loop(self) -> None:
        error: Exception | None = None
        try:
            while True:
                while self._paused:
                    await self._reading.park()
                data = await self._stream.receive_some()
                if self._closing:
                    break
                if not data:
                    if self._protocol.eof_received():
                        # Kept open (half-closed): connection_lost waits for close().
                        return
                    self.close()
                    break
                self._protocol.data_received(bytes(data))
        except tether.ClosedResourceError:
            pass
        except (tether.BrokenResourceError, OSError) as exc:
            error = ConnectionResetError(str(exc))
            self._connection_lost(error)  # before abort(), which would report a clean close
            self.abort()
        finally:
            if self._flusher.closing and not self._flusher.closed:
                await self._flusher.done.park()
            self._connection_lost(error)

    def _connection_lost(self, error: Exception | None) -> None:
        if not self._lost:
            self._lost = True
            self._loop.call_soon(self._protocol.connection_lost, error)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return _socket_extra_info(self._stream, name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._eof_written:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self._closing:
            return
        self._flusher.buffer += data
        self._flusher.kick()

    def writelines(self, data: list[bytes]) -> None:
        for chunk in data:
            self.write(chunk)

    def can_write_eof(self) -> bool:
        return isinstance(self._stream, tether.abc.HalfCloseableStream)

    def write_eof(self) -> None:
        self._eof_written = True
        self._flusher.eof_requested = True
        self._flusher.kick()

    def get_write_buffer_size(self) -> int:
        return len(self._flusher.buffer)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def pause_reading(self) -> None:
        self._paused = True

    def resume_reading(self) -> None:
        self._paused = False
        self._reading.unpark_all()

    def is_reading(self) -> bool:
        return not self._paused and not self._closing

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._flusher.closing = True
            self._flusher.kick()
            if not self._flusher.buffer:
                # As asyncio does: nothing left to send, so the protocol hears about the
                # close right away (the stream itself closes in the background).
                self._connection_lost(None)

    def abort(self) -> None:
        self._flusher.buffer.clear()
        self.close()

    def get_protocol(self) -> Protocol:
        return self._protocol


class DatagramTransport:
    """A datagram transport over a tether UDP socket."""

    def __init__(
        self, sock: tsocket.SocketType, protocol: DatagramProtocol, loop: EventLoop, peer: Any
    ) -> None:
        self._sock = sock
        self._protocol = protocol
        self._loop = loop
        self._peer = peer
        self._outgoing: list[tuple[bytes, Any]] = []
        self._ready = ParkingLot()
        self._closing = False
        self._scope = tether.CancelScope()
        assert loop._nursery is not None
        loop._nursery.start_service(self._run, name="<tether.aio datagram transport>")

    async def _run(self) -> None:
        try:
            with self._scope:
                async with tether.open_nursery() as nursery:
                    nursery.start_soon(self._sender)
                    while True:
                        try:
                            data, addr = await self._sock.recvfrom(65536)
                        except OSError as exc:
                            self._protocol.error_received(exc)
                            continue
                        self._protocol.datagram_received(data, addr)
        finally:
            # Also when the run ends with the transport still open: the socket is ours.
            self._sock.close()
        self._loop.call_soon(self._protocol.connection_lost, None)

    async def _sender(self) -> None:
        while True:
            while self._outgoing:
                data, addr = self._outgoing.pop(0)
                try:
                    if addr is None:
                        await self._sock.send(data)
                    else:
                        await self._sock.sendto(data, addr)
                except OSError as exc:
                    self._protocol.error_received(exc)
            if self._closing:
                self._scope.cancel()
                return
            await self._ready.park()

    def sendto(self, data: bytes, addr: Any = None) -> None:
        if self._closing:
            return
        self._outgoing.append((bytes(data), addr))
        self._ready.unpark_all()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        try:
            if name == "sockname":
                return self._sock.getsockname()
            if name == "peername":
                return self._peer
        except OSError:
            return default
        return self._sock if name == "socket" else default

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True
        self._ready.unpark_all()

    def abort(self) -> None:
        self._outgoing.clear()
        self.close()


async def create_connection(
    loop: EventLoop,
    protocol_factory: Callable[[], Protocol],
    host: str | None = None,
    port: int | None = None,
    **kwargs: Any,
) -> tuple[Transport, Protocol]:
    if host is None or port is None:
        raise ValueError("host and port must be given")
    stream = await _open_tcp(host, port)
    protocol = protocol_factory()
    transport = Transport(stream, protocol, loop)
    protocol.connection_made(transport)
    return transport, protocol


async def create_server(
    loop: EventLoop,
    protocol_factory: Callable[[], Protocol],
    host: str | None = None,
    port: int | None = None,
    *,
    backlog: int = 100,
    **kwargs: Any,
) -> Server:
    listeners = await tether.open_tcp_listeners(port or 0, host=host, backlog=backlog)
    server = Server(loop, list(listeners))

    def on_connection(stream: Any) -> None:
        protocol = protocol_factory()
        transport = Transport(stream, protocol, loop)
        protocol.connection_made(transport)

    server._start(on_connection)
    return server


async def create_datagram_endpoint(
    loop: EventLoop,
    protocol_factory: Callable[[], DatagramProtocol],
    local_addr: tuple[str, int] | None = None,
    remote_addr: tuple[str, int] | None = None,
    **kwargs: Any,
) -> tuple[DatagramTransport, DatagramProtocol]:
    family = kwargs.get("family", 0)
    if not family:
        host = (local_addr or remote_addr or ("127.0.0.1", 0))[0]
        family = tsocket.AF_INET6 if ":" in str(host) else tsocket.AF_INET
    sock = tsocket.socket(family, tsocket.SOCK_DGRAM)
    try:
        if local_addr is not None:
            await sock.bind(local_addr)
        if remote_addr is not None:
            await sock.connect(remote_addr)
    except BaseException:
        sock.close()
        raise
    protocol = protocol_factory()
    transport = DatagramTransport(sock, protocol, loop, remote_addr)
    protocol.connection_made(transport)
    return transport, protocol
