"""Tier 7: async sockets on the kernel's I/O backend.

A :class:`SocketType` wraps a non-blocking stdlib socket. Every async method is a
checkpoint: it checks for cancellation and yields first, then tries the system call and
waits for readiness only if the call would block (EAGAIN), so a busy connection costs one
system call per operation, not a readiness round-trip.
"""

from __future__ import annotations

import builtins
import errno
import os
import select
import socket as _stdlib_socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, BinaryIO, Self, TypeVar, overload

from ._core import (
    RunVar,
    checkpoint,
    notify_closing,
    wait_readable,
    wait_writable,
)
from ._core._util import NoPublicConstructor, final
from ._socket_abc import AddrInfo, HostnameResolver, SocketFactory

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Buffer

T = TypeVar("T")

_resolver: RunVar[HostnameResolver | None] = RunVar("tether.socket resolver", default=None)
_factory: RunVar[SocketFactory | None] = RunVar("tether.socket factory", default=None)

_NUMERIC_ONLY = _stdlib_socket.AI_NUMERICHOST | _stdlib_socket.AI_NUMERICSERV
_HAS_UNIX = hasattr(_stdlib_socket, "AF_UNIX")
_NO_SENDFILE_ERRNOS = (errno.EINVAL, errno.ENOSYS, errno.ESPIPE, errno.EOPNOTSUPP)


def set_custom_hostname_resolver(
    hostname_resolver: HostnameResolver | None,
) -> HostnameResolver | None:
    """Route this run's :func:`getaddrinfo` / :func:`getnameinfo` through
    ``hostname_resolver`` (``None`` restores the default); returns the previous one."""
    if hostname_resolver is not None and not isinstance(hostname_resolver, HostnameResolver):
        raise TypeError("hostname_resolver must be a tether.abc.HostnameResolver or None")
    old = _resolver.get()
    _resolver.set(hostname_resolver)
    return old


def set_custom_socket_factory(socket_factory: SocketFactory | None) -> SocketFactory | None:
    """Make this run's :func:`socket` calls go to ``socket_factory`` (``None`` restores the
    default); returns the previous one."""
    if socket_factory is not None and not isinstance(socket_factory, SocketFactory):
        raise TypeError("socket_factory must be a tether.abc.SocketFactory or None")
    old = _factory.get()
    _factory.set(socket_factory)
    return old


# -- name resolution ---------------------------------------------------------------------------


def _encode_host(host: bytes | str | None) -> bytes | None:
    if host is None or isinstance(host, bytes):
        return host
    if not isinstance(host, str):
        raise TypeError(f"host must be str, bytes or None, not {type(host).__name__}")
    try:
        return host.encode("ascii")
    except UnicodeEncodeError:
        return host.encode("idna")


async def getaddrinfo(
    host: bytes | str | None,
    port: bytes | str | int | None,
    family: int = 0,
    type: int = 0,
    proto: int = 0,
    flags: int = 0,
) -> list[AddrInfo]:
    """Look up ``host``/``port`` like :func:`socket.getaddrinfo`, without blocking the loop.

    Numeric addresses are answered at once; names are resolved in a worker thread (or by a
    custom resolver). Cancelling abandons the lookup.
    """
    await checkpoint()
    encoded = _encode_host(host)
    try:
        numeric: list[Any] = _stdlib_socket.getaddrinfo(
            encoded, port, family, type, proto, flags | _NUMERIC_ONLY
        )
        return numeric
    except _stdlib_socket.gaierror as exc:
        if exc.errno not in (_stdlib_socket.EAI_NONAME, _stdlib_socket.EAI_SERVICE):
            raise
    resolver = _resolver.get()
    if resolver is not None:
        return await resolver.getaddrinfo(encoded, port, family, type, proto, flags)
    from . import to_thread

    infos: list[Any] = await to_thread.run_sync(
        _stdlib_socket.getaddrinfo,
        encoded,
        port,
        family,
        type,
        proto,
        flags,
        abandon_on_cancel=True,
    )
    return infos


async def getnameinfo(sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
    """Like :func:`socket.getnameinfo`, in a worker thread (or a custom resolver)."""
    await checkpoint()
    resolver = _resolver.get()
    if resolver is not None:
        return await resolver.getnameinfo(sockaddr, flags)
    from . import to_thread

    return await to_thread.run_sync(
        _stdlib_socket.getnameinfo, sockaddr, flags, abandon_on_cancel=True
    )


# -- creating sockets ------------------------------------------------------------------------


def from_stdlib_socket(sock: _stdlib_socket.socket) -> SocketType:
    """Wrap a stdlib socket (it is made non-blocking; tether owns it from now on)."""
    if not isinstance(sock, _stdlib_socket.socket):
        raise TypeError(f"expected a stdlib socket.socket, not {sock!r}")
    return SocketType._create(sock)


def socket(
    family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None
) -> SocketType:
    """Create a tether socket; the arguments are those of :class:`socket.socket`
    (defaults: IPv4 TCP; with ``fileno`` the family and type are detected). Inside a run
    a factory installed with :func:`set_custom_socket_factory` makes it (unless ``fileno``
    is given); outside a run it is always a plain socket."""
    if fileno is None:
        family = _stdlib_socket.AF_INET if family == -1 else family
        type = _stdlib_socket.SOCK_STREAM if type == -1 else type
        proto = 0 if proto == -1 else proto
        try:
            factory = _factory.get()
        except RuntimeError:
            factory = None  # outside a run (like socketpair and fromfd): no hook to ask
        if factory is not None:
            return factory.socket(family, type, proto)
    return from_stdlib_socket(_stdlib_socket.socket(family, type, proto, fileno))


def socketpair(
    family: int = _stdlib_socket.AF_UNIX if _HAS_UNIX else _stdlib_socket.AF_INET,
    type: int = _stdlib_socket.SOCK_STREAM,
    proto: int = 0,
) -> tuple[SocketType, SocketType]:
    """A connected pair of tether sockets, like :func:`socket.socketpair`."""
    left, right = _stdlib_socket.socketpair(family, type, proto)
    return from_stdlib_socket(left), from_stdlib_socket(right)


def fromfd(fd: int, family: int, type: int, proto: int = 0) -> SocketType:
    """Duplicate ``fd`` into a new tether socket, like :func:`socket.fromfd`."""
    return from_stdlib_socket(_stdlib_socket.fromfd(fd, family, type, proto))


# -- the socket ------------------------------------------------------------------------------------


def _check_open(sock: _stdlib_socket.socket) -> None:
    # What the stdlib's own methods raise on a closed socket (select and the I/O backend
    # would raise ValueError for fd -1 instead).
    if sock.fileno() == -1:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))


def _is_readable_now(sock: _stdlib_socket.socket) -> bool:
    _check_open(sock)
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


@final
class SocketType(metaclass=NoPublicConstructor):
    """A tether socket: the stdlib socket's API with blocking calls made async.

    Create one with :func:`socket`, :func:`socketpair`, :func:`fromfd` or
    :func:`from_stdlib_socket`. Differences from the stdlib: the underlying socket is
    always non-blocking and timeouts are not supported (use cancel scopes); every async
    method is a checkpoint; ``bind`` and ``connect`` are async because they may resolve a
    name; ``close`` wakes tasks waiting on the socket with ``ClosedResourceError``.
    """

    __slots__ = ("__weakref__", "_did_shutdown_SHUT_WR", "_sock")

    def __init__(self, sock: _stdlib_socket.socket) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._did_shutdown_SHUT_WR = False

    def __repr__(self) -> str:
        return repr(self._sock).replace("socket.socket", "tether.socket.SocketType")

    # -- plain attributes and sync methods -------------------------------------------------------

    @property
    def family(self) -> _stdlib_socket.AddressFamily:
        return self._sock.family

    @property
    def type(self) -> _stdlib_socket.SocketKind:
        return self._sock.type

    @property
    def proto(self) -> int:
        return self._sock.proto

    @property
    def did_shutdown_SHUT_WR(self) -> bool:
        """Whether :meth:`shutdown` closed the sending side."""
        return self._did_shutdown_SHUT_WR

    def fileno(self) -> int:
        return self._sock.fileno()

    def getsockname(self) -> Any:
        return self._sock.getsockname()

    def getpeername(self) -> Any:
        return self._sock.getpeername()

    @overload
    def getsockopt(self, level: int, optname: int) -> int: ...
    @overload
    def getsockopt(self, level: int, optname: int, buflen: int) -> bytes: ...
    def getsockopt(self, level: int, optname: int, buflen: int | None = None) -> int | bytes:
        if buflen is None:
            return self._sock.getsockopt(level, optname)
        return self._sock.getsockopt(level, optname, buflen)

    @overload
    def setsockopt(self, level: int, optname: int, value: int | Buffer) -> None: ...
    @overload
    def setsockopt(self, level: int, optname: int, value: None, optlen: int) -> None: ...
    def setsockopt(
        self, level: int, optname: int, value: int | Buffer | None, optlen: int | None = None
    ) -> None:
        if optlen is None:
            if value is None:
                raise TypeError("setsockopt with value=None needs optlen")
            self._sock.setsockopt(level, optname, value)
        else:
            if value is not None:
                raise TypeError("setsockopt takes value=None when optlen is given")
            self._sock.setsockopt(level, optname, None, optlen)

    def listen(self, backlog: int = min(_stdlib_socket.SOMAXCONN, 128)) -> None:
        self._sock.listen(backlog)

    def get_inheritable(self) -> bool:
        return self._sock.get_inheritable()

    def set_inheritable(self, inheritable: bool) -> None:
        self._sock.set_inheritable(inheritable)

    def shutdown(self, how: int) -> None:
        self._sock.shutdown(how)
        if how in (_stdlib_socket.SHUT_WR, _stdlib_socket.SHUT_RDWR):
            self._did_shutdown_SHUT_WR = True

    def is_readable(self) -> bool:
        """Whether a receive would not block right now (data, EOF or an error is waiting)."""
        return _is_readable_now(self._sock)

    def detach(self) -> int:
        """Give up the fd without closing it; returns it (-1 if the socket was closed)."""
        return self._sock.detach()

    def dup(self) -> SocketType:
        """A new tether socket on a duplicate of this one's fd (closing either leaves the
        other open)."""
        return SocketType._create(self._sock.dup())

    def close(self) -> None:
        """Close the socket. Tasks waiting on it are woken with ``ClosedResourceError``."""
        if self._sock.fileno() != -1:
            try:
                notify_closing(self._sock)
            except RuntimeError:
                pass  # outside a run: nobody can be waiting
            self._sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        etype: builtins.type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- addresses -----------------------------------------------------------------------------

    async def _resolve_address(self, address: Any, *, local: bool) -> Any:
        family = self._sock.family
        if _HAS_UNIX and family == _stdlib_socket.AF_UNIX:
            await checkpoint()
            return os.fspath(address) if not isinstance(address, bytes | str) else address
        if family not in (_stdlib_socket.AF_INET, _stdlib_socket.AF_INET6):
            await checkpoint()
            return address
        if not isinstance(address, tuple):
            raise TypeError(f"address must be a (host, port) tuple, not {address!r}")
        if family == _stdlib_socket.AF_INET and len(address) != 2:
            raise ValueError(f"an IPv4 address is (host, port), not {address!r}")
        if family == _stdlib_socket.AF_INET6 and not 2 <= len(address) <= 4:
            raise ValueError(
                f"an IPv6 address is (host, port[, flowinfo[, scope_id]]), not {address!r}"
            )
        host, port, *rest = address
        if host == "":
            host = None
        elif host == "<broadcast>":
            host = "255.255.255.255"
        flags = _stdlib_socket.AI_PASSIVE if local or host is None else 0
        infos = await getaddrinfo(host, port, family, self._sock.type, self._sock.proto, flags)
        if not infos:
            raise OSError(f"address {address!r} resolved to nothing")
        resolved = infos[0][-1]
        if family == _stdlib_socket.AF_INET6 and rest:
            resolved = (*resolved[:2], *rest)
        return resolved

    async def bind(self, address: Any) -> None:
        """Bind to ``address`` (a name in it is resolved first, hence async)."""
        address = await self._resolve_address(address, local=True)
        self._sock.bind(address)

    async def connect(self, address: Any) -> None:
        """Connect to ``address``. If cancelled, the socket is closed (its state would be
        unknown)."""
        try:
            address = await self._resolve_address(address, local=False)
            try:
                self._sock.connect(address)
                return
            except BlockingIOError:
                if _HAS_UNIX and self._sock.family == _stdlib_socket.AF_UNIX:
                    # Not "in progress": the listener's backlog is full. Readiness would
                    # not tell when it has room, and reporting success would be a lie.
                    raise
            await wait_writable(self._sock)
        except BaseException as exc:
            if not isinstance(exc, Exception):  # Cancelled, KeyboardInterrupt
                self.close()
            raise
        error = self._sock.getsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_ERROR)
        if error:
            raise OSError(error, f"Error connecting to {address!r}: {os.strerror(error)}")

    # -- I/O -----------------------------------------------------------------------------------

    async def _io(
        self,
        wait: Callable[[Any], Awaitable[None]],
        fn: Callable[..., T],
        *args: Any,
    ) -> T:
        await checkpoint()
        sock = self._sock
        while True:
            try:
                return fn(*args)
            except BlockingIOError:
                await wait(sock)

    async def recv(self, bufsize: int, flags: int = 0) -> bytes:
        # The hottest path: spelled out rather than going through _io.
        await checkpoint()
        sock = self._sock
        while True:
            try:
                return sock.recv(bufsize, flags)
            except BlockingIOError:
                await wait_readable(sock)

    async def recv_into(self, buffer: Buffer, nbytes: int = 0, flags: int = 0) -> int:
        return await self._io(wait_readable, self._sock.recv_into, buffer, nbytes, flags)

    async def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, Any]:
        return await self._io(wait_readable, self._sock.recvfrom, bufsize, flags)

    async def recvfrom_into(
        self, buffer: Buffer, nbytes: int = 0, flags: int = 0
    ) -> tuple[int, Any]:
        return await self._io(wait_readable, self._sock.recvfrom_into, buffer, nbytes, flags)

    async def recvmsg(
        self, bufsize: int, ancbufsize: int = 0, flags: int = 0
    ) -> tuple[bytes, list[tuple[int, int, bytes]], int, Any]:
        return await self._io(wait_readable, self._sock.recvmsg, bufsize, ancbufsize, flags)

    async def recvmsg_into(
        self, buffers: list[Buffer], ancbufsize: int = 0, flags: int = 0
    ) -> tuple[int, list[tuple[int, int, bytes]], int, Any]:
        return await self._io(wait_readable, self._sock.recvmsg_into, buffers, ancbufsize, flags)

    async def send(self, data: Buffer, flags: int = 0) -> int:
        await checkpoint()
        sock = self._sock
        while True:
            try:
                return sock.send(data, flags)
            except BlockingIOError:
                await wait_writable(sock)

    async def sendto(self, data: Buffer, *flags_and_address: Any) -> int:
        """``sendto(data, address)`` or ``sendto(data, flags, address)``."""
        if len(flags_and_address) == 1:
            flags, address = 0, flags_and_address[0]
        elif len(flags_and_address) == 2:
            flags, address = flags_and_address
        else:
            raise TypeError("sendto(data[, flags], address)")
        address = await self._resolve_address(address, local=False)
        return await self._io(wait_writable, self._sock.sendto, data, flags, address)

    async def sendmsg(
        self,
        buffers: list[Buffer],
        ancdata: list[tuple[int, int, Buffer]] = (),  # type: ignore[assignment]
        flags: int = 0,
        address: Any = None,
    ) -> int:
        if address is not None:
            address = await self._resolve_address(address, local=False)
            return await self._io(
                wait_writable, self._sock.sendmsg, buffers, ancdata, flags, address
            )
        return await self._io(wait_writable, self._sock.sendmsg, buffers, ancdata, flags)

    async def accept(self) -> tuple[SocketType, Any]:
        """Wait for a connection; returns ``(socket, address)``."""
        sock, address = await self._io(wait_readable, self._sock.accept)
        return from_stdlib_socket(sock), address

    async def sendfile(self, file: BinaryIO, offset: int = 0, count: int | None = None) -> int:
        """Send a file's contents with the zero-copy ``os.sendfile`` where possible (falling
        back to read-and-send); returns the bytes sent and leaves the file positioned after
        them, like :meth:`socket.socket.sendfile`."""
        if count is not None and count <= 0:
            raise ValueError("count must be a positive integer or None")
        try:
            in_fd = file.fileno()
            os.fstat(in_fd)
        except (AttributeError, OSError, ValueError):
            return await self._sendfile_by_copy(file, offset, count)
        await checkpoint()
        sent_total = 0
        out_fd = self._sock.fileno()
        try:
            while count is None or sent_total < count:
                chunk = 1 << 20 if count is None else min(1 << 20, count - sent_total)
                try:
                    sent = os.sendfile(out_fd, in_fd, offset + sent_total, chunk)
                except BlockingIOError:
                    await wait_writable(self._sock)
                    continue
                except OSError as exc:
                    # The kernel cannot sendfile from this kind of file (a pipe gives
                    # ESPIPE, some file systems EINVAL): copy it instead.
                    if exc.errno in _NO_SENDFILE_ERRNOS and sent_total == 0:
                        return await self._sendfile_by_copy(file, offset, count)
                    raise
                if sent == 0:
                    break  # end of file
                sent_total += sent
        finally:
            if sent_total:
                file.seek(offset + sent_total)
        return sent_total

    async def _sendfile_by_copy(self, file: BinaryIO, offset: int, count: int | None) -> int:
        if offset:
            file.seek(offset)
        sent_total = 0
        while count is None or sent_total < count:
            want = 65536 if count is None else min(65536, count - sent_total)
            data = file.read(want)
            if not data:
                break
            view = memoryview(data)
            while view:
                sent = await self.send(view)
                view = view[sent:]
                sent_total += sent
        if sent_total == 0:
            await checkpoint()
        return sent_total

    async def wait_writable(self) -> None:
        """Block until the socket is writable."""
        _check_open(self._sock)
        await wait_writable(self._sock)

    async def wait_readable(self) -> None:
        """Block until the socket is readable."""
        _check_open(self._sock)
        await wait_readable(self._sock)
