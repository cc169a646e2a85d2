"""Tier 9: FdStream, a stream over a pipe, a tty or any other non-socket file descriptor."""

from __future__ import annotations

import errno
import os

from ._core import (
    BrokenResourceError,
    BusyResourceError,
    ClosedResourceError,
    checkpoint,
    notify_closing,
    wait_readable,
    wait_writable,
)
from ._core._util import final
from ._streams._abc import Stream
from ._streams._util import receive_size


@final
class FdStream(Stream):
    """A :class:`~tether.abc.Stream` over a file descriptor (pipes, ttys, FIFOs).

    The stream takes ownership of ``fd``: it makes it non-blocking and closes it on
    :meth:`aclose`. It also has ``fileno()``. Not for regular files (they are always
    "ready"; use :func:`tether.open_file`) nor sockets (use :class:`SocketStream`).
    """

    __slots__ = ("__weakref__", "_fd", "_receiving", "_sending")

    def __init__(self, fd: int) -> None:
        if not isinstance(fd, int):
            raise TypeError(f"FdStream takes a file descriptor (int), not {fd!r}")
        os.set_blocking(fd, False)
        self._fd = fd
        self._sending = False
        self._receiving = False

    def __repr__(self) -> str:
        return f"<tether.lowlevel.FdStream fd={self._fd}>"

    def fileno(self) -> int:
        """The file descriptor (``-1`` once closed)."""
        return self._fd

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if self._sending:
            raise BusyResourceError("another task is using this stream for sending")
        self._sending = True
        try:
            if self._fd < 0:
                raise ClosedResourceError("this stream was closed")
            await checkpoint()
            with memoryview(data) as view:
                sent = 0
                while sent < len(view):
                    try:
                        sent += os.write(self._fd, view[sent:])
                    except BlockingIOError:
                        await wait_writable(self)
                    except OSError as exc:
                        if exc.errno == errno.EBADF:
                            raise ClosedResourceError("this stream was closed") from None
                        raise BrokenResourceError(f"the pipe broke: {exc}") from exc
        finally:
            self._sending = False

    async def wait_send_all_might_not_block(self) -> None:
        if self._sending:
            raise BusyResourceError("another task is using this stream for sending")
        self._sending = True
        try:
            if self._fd < 0:
                raise ClosedResourceError("this stream was closed")
            await wait_writable(self)
        finally:
            self._sending = False

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        max_bytes = receive_size(max_bytes)
        if self._receiving:
            raise BusyResourceError("another task is using this stream for receiving")
        self._receiving = True
        try:
            if self._fd < 0:
                raise ClosedResourceError("this stream was closed")
            await checkpoint()
            while True:
                try:
                    return os.read(self._fd, max_bytes)
                except BlockingIOError:
                    await wait_readable(self)
                except OSError as exc:
                    if exc.errno == errno.EBADF:
                        raise ClosedResourceError("this stream was closed") from None
                    if exc.errno == errno.EIO:  # a pty whose other side went away
                        return b""
                    raise BrokenResourceError(f"the pipe broke: {exc}") from exc
        finally:
            self._receiving = False

    def close(self) -> None:
        """Close the descriptor now; waiting tasks get ``ClosedResourceError``."""
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            try:
                notify_closing(fd)
            except RuntimeError:
                pass  # outside a run: nobody can be waiting
            os.close(fd)

    async def aclose(self) -> None:
        self.close()
        await checkpoint()
