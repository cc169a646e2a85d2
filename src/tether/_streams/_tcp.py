"""Tier 9: TCP connections (happy eyeballs), listeners and servers."""

from __future__ import annotations

import errno
import socket as _stdlib_socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from .._core import TASK_STATUS_IGNORED, Nursery, TaskStatus, open_nursery
from .._socket import SocketType, getaddrinfo, socket
from .._sync import Event
from .._timeouts import move_on_after
from ._serve import serve_listeners
from ._socket_stream import SocketListener, SocketStream

_SOCK_STREAM = _stdlib_socket.SOCK_STREAM


def _interleave_families(targets: list[Any]) -> list[Any]:
    # RFC 8305 section 4: alternate address families, starting with the first returned.
    if not targets:
        return targets
    first_family = targets[0][0]
    same = [t for t in targets if t[0] == first_family]
    other = [t for t in targets if t[0] != first_family]
    result: list[Any] = []
    while same or other:
        if same:
            result.append(same.pop(0))
        if other:
            result.append(other.pop(0))
    return result


async def open_tcp_stream(
    host: str | bytes,
    port: int,
    *,
    happy_eyeballs_delay: float | None = 0.25,
    local_address: str | None = None,
) -> SocketStream:
    """Connect to ``host``:``port`` and return a :class:`SocketStream`.

    When the name resolves to several addresses, connection attempts are staggered by
    ``happy_eyeballs_delay`` seconds (RFC 8305 "happy eyeballs", families interleaved): the
    first to succeed wins and the others are cancelled and closed; a failing attempt
    starts the next one at once. ``None`` means no staggering: one attempt at a time. If
    every attempt fails, ``OSError`` is raised with all the individual errors chained.
    ``local_address`` binds the socket to that local IP before connecting.
    """
    if not isinstance(host, str | bytes):
        raise TypeError(f"host must be str or bytes, not {host!r}")
    if not isinstance(port, int):
        raise TypeError(f"port must be an int, not {port!r}")
    if happy_eyeballs_delay is None:
        happy_eyeballs_delay = float("inf")
    if happy_eyeballs_delay < 0:
        raise ValueError("happy_eyeballs_delay must be non-negative")
    targets = _interleave_families(await getaddrinfo(host, port, type=_SOCK_STREAM))
    if not targets:
        raise OSError(f"no addresses found for {host!r}")
    errors: list[OSError] = []
    sockets: list[SocketType] = []
    winner: SocketType | None = None

    async def attempt(target: Any, failed: Event, nursery: Nursery) -> None:
        nonlocal winner
        family, type_, proto, _, address = target
        try:
            sock = socket(family, type_, proto)
            sockets.append(sock)
            if local_address is not None:
                bind_no_port = getattr(_stdlib_socket, "IP_BIND_ADDRESS_NO_PORT", None)
                if bind_no_port is not None:
                    try:
                        sock.setsockopt(_stdlib_socket.IPPROTO_IP, bind_no_port, 1)
                    except OSError:  # pragma: no cover
                        pass
                try:
                    await sock.bind((local_address, 0))
                except OSError as exc:
                    raise OSError(
                        exc.errno, f"cannot bind to local address {local_address!r}: {exc}"
                    ) from exc
            await sock.connect(address)
        except OSError as exc:
            errors.append(exc)
            failed.set()
            return
        if winner is None:
            winner = sock
            nursery.cancel_scope.cancel()

    returning = False
    try:
        async with open_nursery() as nursery:
            for target in targets:
                failed = Event()
                nursery.start_soon(attempt, target, failed, nursery)
                with move_on_after(happy_eyeballs_delay):
                    await failed.wait()
        returning = True
    finally:
        # Close the losers; the winner too if we are not returning it after all (we
        # were cancelled, or an attempt crashed, just as it connected).
        for sock in sockets:
            if sock is not winner or not returning:
                sock.close()
    if winner is None:
        message = f"all connection attempts to {host!r}:{port} failed"
        raise OSError(message) from ExceptionGroup(message, errors)
    return SocketStream(winner)


async def open_tcp_listeners(
    port: int, *, host: str | bytes | None = None, backlog: int | None = None
) -> list[SocketListener]:
    """Listen for TCP connections on ``port`` (0: a free port) on every address ``host``
    resolves to (default: all local interfaces, IPv4 and IPv6). Returns one
    :class:`SocketListener` per address; IPv6 sockets are IPv6-only, so v4 and v6 can
    share the port number."""
    if not isinstance(port, int):
        raise TypeError(f"port must be an int, not {port!r}")
    backlog = 0xFFFF if backlog is None else backlog  # the kernel caps it at somaxconn
    addresses = await getaddrinfo(host, port, type=_SOCK_STREAM, flags=_stdlib_socket.AI_PASSIVE)
    listeners: list[SocketListener] = []
    unsupported: list[OSError] = []
    try:
        for family, type_, proto, _, address in addresses:
            try:
                sock = socket(family, type_, proto)
            except OSError as exc:
                if exc.errno == errno.EAFNOSUPPORT:
                    unsupported.append(exc)
                    continue
                raise
            try:
                if sys.platform != "win32":
                    sock.setsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_REUSEADDR, 1)
                if family == _stdlib_socket.AF_INET6:
                    sock.setsockopt(_stdlib_socket.IPPROTO_IPV6, _stdlib_socket.IPV6_V6ONLY, 1)
                await sock.bind(address)
                sock.listen(backlog)
            except BaseException:
                sock.close()
                raise
            listeners.append(SocketListener(sock))
    except BaseException:
        for listener in listeners:
            listener.socket.close()
        raise
    if not listeners:
        cause = ExceptionGroup("unsupported address families", unsupported) if unsupported else None
        raise OSError(
            errno.EAFNOSUPPORT, f"could not listen on any address for {host!r}:{port}"
        ) from cause
    return listeners


async def serve_tcp(
    handler: Callable[[SocketStream], Awaitable[object]],
    port: int,
    *,
    host: str | bytes | None = None,
    backlog: int | None = None,
    handler_nursery: Nursery | None = None,
    task_status: TaskStatus[list[SocketListener]] = TASK_STATUS_IGNORED,
) -> None:
    """Serve TCP on ``port``: :func:`open_tcp_listeners` then :func:`serve_listeners`.

    ``await nursery.start(serve_tcp, handler, 0)`` returns the listeners, whose
    ``socket.getsockname()`` tells the port chosen.
    """
    listeners = await open_tcp_listeners(port, host=host, backlog=backlog)
    await serve_listeners(
        handler,
        listeners,
        handler_nursery=handler_nursery,
        task_status=task_status,
    )
