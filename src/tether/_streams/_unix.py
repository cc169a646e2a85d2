"""Tier 9: unix domain socket streams, listeners and servers."""

from __future__ import annotations

import errno
import os
import socket as _stdlib_socket
import stat
from collections.abc import Awaitable, Callable

from .._core import TASK_STATUS_IGNORED, Nursery, TaskStatus
from .._socket import socket
from ._serve import serve_listeners
from ._socket_stream import SocketListener, SocketStream

_HAS_UNIX = hasattr(_stdlib_socket, "AF_UNIX")


def _require_unix() -> None:
    if not _HAS_UNIX:  # pragma: no cover
        raise RuntimeError("unix domain sockets are not supported on this platform")


async def open_unix_socket(filename: str | bytes | os.PathLike[str]) -> SocketStream:
    """Connect to the unix domain socket at ``filename``; returns a :class:`SocketStream`."""
    _require_unix()
    sock = socket(_stdlib_socket.AF_UNIX, _stdlib_socket.SOCK_STREAM)
    try:
        await sock.connect(os.fspath(filename))
    except BaseException:
        sock.close()
        raise
    return SocketStream(sock)


def _remove_stale_socket(path: str | bytes) -> None:
    """Remove ``path`` if it is a unix socket nobody listens on any more."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise FileExistsError(errno.EEXIST, "a file that is not a socket is in the way", path)
    probe = _stdlib_socket.socket(_stdlib_socket.AF_UNIX, _stdlib_socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except ConnectionRefusedError:
        os.unlink(path)  # stale: left behind by a server that is gone
    except OSError:
        pass  # let bind() report what is wrong
    else:
        raise OSError(errno.EADDRINUSE, "another server is listening on this socket", path)
    finally:
        probe.close()


async def open_unix_listener(
    path: str | bytes | os.PathLike[str], *, backlog: int | None = None, mode: int | None = None
) -> SocketListener:
    """Listen on a unix domain socket at ``path`` (beyond Trio).

    A stale socket file left by a server that is gone is replaced; a live one is an
    ``OSError`` (EADDRINUSE), and a non-socket file is never touched. ``mode`` sets the
    socket file's permissions (e.g. ``0o600``). The file stays after the listener closes,
    as with any unix socket; the next listener on the path replaces it.
    """
    _require_unix()
    fspath = os.fspath(path)
    _remove_stale_socket(fspath)
    sock = socket(_stdlib_socket.AF_UNIX, _stdlib_socket.SOCK_STREAM)
    try:
        await sock.bind(fspath)
        if mode is not None:
            os.chmod(fspath, mode)
        sock.listen(0xFFFF if backlog is None else backlog)
    except BaseException:
        sock.close()
        raise
    return SocketListener(sock)


async def serve_unix(
    handler: Callable[[SocketStream], Awaitable[object]],
    path: str | bytes | os.PathLike[str],
    *,
    backlog: int | None = None,
    mode: int | None = None,
    handler_nursery: Nursery | None = None,
    task_status: TaskStatus[list[SocketListener]] = TASK_STATUS_IGNORED,
) -> None:
    """Serve connections on a unix domain socket, the twin of :func:`serve_tcp`."""
    listener = await open_unix_listener(path, backlog=backlog, mode=mode)
    await serve_listeners(
        handler,
        [listener],
        handler_nursery=handler_nursery,
        task_status=task_status,
    )
