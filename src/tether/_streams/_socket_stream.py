"""Tier 9: SocketStream and SocketListener, the streams over tether.socket."""

from __future__ import annotations

import errno
import socket as _stdlib_socket
from typing import TYPE_CHECKING, overload

from .._core import (
    BrokenResourceError,
    BusyResourceError,
    ClosedResourceError,
    checkpoint,
)
from .._core._util import final
from .._socket import SocketType
from ._abc import HalfCloseableStream, Listener
from ._util import receive_size

if TYPE_CHECKING:
    from typing_extensions import Buffer

_CLOSED_ERRNOS = {errno.EBADF, errno.ENOTSOCK}
# accept() errors that concern one failed connection, not the listener: try the next one.
_IGNORABLE_ACCEPT_ERRNOS = {
    getattr(errno, name)
    for name in (
        "ECONNABORTED",
        "EPROTO",
        "EPERM",
        "ENETDOWN",
        "ENOPROTOOPT",
        "EHOSTDOWN",
        "ENONET",
        "EHOSTUNREACH",
        "EOPNOTSUPP",
        "ENETUNREACH",
    )
    if hasattr(errno, name)
}


def _stream_error(exc: OSError) -> Exception:
    if exc.errno in _CLOSED_ERRNOS:
        return ClosedResourceError("this socket was already closed")
    return BrokenResourceError(f"socket connection broken: {exc}")


@final
class SocketStream(HalfCloseableStream):
    """A :class:`~tether.abc.HalfCloseableStream` over a connected ``SOCK_STREAM`` socket.

    TCP_NODELAY is turned on (small writes go out at once). ``socket`` is the underlying
    :class:`tether.socket.SocketType`, for options and addresses.
    """

    __slots__ = ("_receiving", "_sending", "socket")

    def __init__(self, socket: SocketType) -> None:
        if not isinstance(socket, SocketType):
            raise TypeError("SocketStream requires a tether.socket.SocketType")
        if socket.type != _stdlib_socket.SOCK_STREAM:
            raise ValueError("SocketStream requires a SOCK_STREAM socket")
        self.socket = socket
        self._sending = False
        self._receiving = False
        if socket.family in (_stdlib_socket.AF_INET, _stdlib_socket.AF_INET6):
            try:
                socket.setsockopt(_stdlib_socket.IPPROTO_TCP, _stdlib_socket.TCP_NODELAY, True)
            except OSError:  # pragma: no cover  # not every TCP-ish protocol has it
                pass
            # Keep little unsent data in the kernel, so wait_send_all_might_not_block means
            # something (the kernel default buffers megabytes).
            notsent_lowat = getattr(_stdlib_socket, "TCP_NOTSENT_LOWAT", None)
            if notsent_lowat is not None:
                try:
                    socket.setsockopt(_stdlib_socket.IPPROTO_TCP, notsent_lowat, 2**14)
                except OSError:  # pragma: no cover
                    pass

    def __repr__(self) -> str:
        return f"<tether.SocketStream {self.socket!r}>"

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if self._sending:
            raise BusyResourceError("another task is using this stream for sending")
        self._sending = True
        try:
            sock = self.socket
            if sock.fileno() == -1:
                raise ClosedResourceError("this stream was closed")
            if sock.did_shutdown_SHUT_WR:
                raise ClosedResourceError("can't send data after sending EOF")
            if not data:
                await checkpoint()
                return
            try:
                sent = await sock.send(data)
                if sent == len(data):
                    return
                with memoryview(data) as view:
                    while sent < len(view):
                        with view[sent:] as remaining:
                            sent += await sock.send(remaining)
            except OSError as exc:
                raise _stream_error(exc) from exc
        finally:
            self._sending = False

    async def wait_send_all_might_not_block(self) -> None:
        if self._sending:
            raise BusyResourceError("another task is using this stream for sending")
        self._sending = True
        try:
            if self.socket.fileno() == -1:
                raise ClosedResourceError("this stream was closed")
            try:
                await self.socket.wait_writable()
            except OSError as exc:  # pragma: no cover
                raise _stream_error(exc) from exc
        finally:
            self._sending = False

    async def send_eof(self) -> None:
        if self._sending:
            raise BusyResourceError("another task is using this stream for sending")
        self._sending = True
        try:
            await checkpoint()
            if self.socket.did_shutdown_SHUT_WR:
                return
            try:
                self.socket.shutdown(_stdlib_socket.SHUT_WR)
            except OSError as exc:
                raise _stream_error(exc) from exc
        finally:
            self._sending = False

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        max_bytes = receive_size(max_bytes)
        if self._receiving:
            raise BusyResourceError("another task is using this stream for receiving")
        self._receiving = True
        try:
            return await self.socket.recv(max_bytes)
        except OSError as exc:
            raise _stream_error(exc) from exc
        finally:
            self._receiving = False

    async def aclose(self) -> None:
        self.socket.close()
        await checkpoint()

    @overload
    def setsockopt(self, level: int, option: int, value: int | Buffer) -> None: ...
    @overload
    def setsockopt(self, level: int, option: int, value: None, length: int) -> None: ...
    def setsockopt(
        self, level: int, option: int, value: int | Buffer | None, length: int | None = None
    ) -> None:
        """Set an option on the underlying socket (see :meth:`socket.socket.setsockopt`)."""
        if length is None:
            if value is None:
                raise TypeError("setsockopt with value=None needs a length")
            self.socket.setsockopt(level, option, value)
        else:
            self.socket.setsockopt(level, option, value, length)  # type: ignore[arg-type]

    @overload
    def getsockopt(self, level: int, option: int) -> int: ...
    @overload
    def getsockopt(self, level: int, option: int, buffersize: int) -> bytes: ...
    def getsockopt(self, level: int, option: int, buffersize: int = 0) -> int | bytes:
        """Read an option of the underlying socket (see :meth:`socket.socket.getsockopt`)."""
        if buffersize == 0:
            return self.socket.getsockopt(level, option)
        return self.socket.getsockopt(level, option, buffersize)


@final
class SocketListener(Listener[SocketStream]):
    """A :class:`~tether.abc.Listener` over a listening ``SOCK_STREAM`` socket;
    :meth:`accept` returns :class:`SocketStream` objects."""

    __slots__ = ("socket",)

    def __init__(self, socket: SocketType) -> None:
        if not isinstance(socket, SocketType):
            raise TypeError("SocketListener requires a tether.socket.SocketType")
        if socket.type != _stdlib_socket.SOCK_STREAM:
            raise ValueError("SocketListener requires a SOCK_STREAM socket")
        accepting = getattr(_stdlib_socket, "SO_ACCEPTCONN", None)
        if accepting is not None:
            try:
                listening = socket.getsockopt(_stdlib_socket.SOL_SOCKET, accepting)
            except OSError:  # pragma: no cover
                listening = 1
            if not listening:
                raise ValueError("SocketListener requires a listening socket (call listen())")
        self.socket = socket

    def __repr__(self) -> str:
        return f"<tether.SocketListener {self.socket!r}>"

    async def accept(self) -> SocketStream:
        """Wait for a connection; failures that concern only that one connection
        (it was aborted before we took it) are skipped, not raised."""
        while True:
            try:
                sock, _ = await self.socket.accept()
            except OSError as exc:
                if exc.errno in _CLOSED_ERRNOS:
                    raise ClosedResourceError("this listener was closed") from None
                if exc.errno not in _IGNORABLE_ACCEPT_ERRNOS:
                    raise
            else:
                return SocketStream(sock)

    async def aclose(self) -> None:
        self.socket.close()
        await checkpoint()
