"""The epoll I/O backend: the default on Linux."""

from __future__ import annotations

import errno
import select

from ._base import READABLE, WRITABLE, IOBackend

_IN = select.EPOLLIN
_OUT = select.EPOLLOUT
_ERR = select.EPOLLERR | select.EPOLLHUP
_READ_FLAGS = _IN | select.EPOLLPRI | select.EPOLLRDHUP | _ERR
_WRITE_FLAGS = _OUT | _ERR
_TO_EPOLL = (0, _IN, _OUT, _IN | _OUT)


class EpollBackend(IOBackend):
    name = "epoll"

    def __init__(self) -> None:
        super().__init__()
        self._epoll = select.epoll()
        self._epoll.register(self.wake_fd, _IN)

    def _set_registration(self, fd: int, old: int, new: int) -> None:
        ep = self._epoll
        if new == 0:
            try:
                ep.unregister(fd)
            except OSError as exc:  # already closed: the kernel dropped it for us
                if exc.errno not in (errno.EBADF, errno.ENOENT):
                    raise
            return
        mask = _TO_EPOLL[new]
        if old == 0:
            try:
                ep.register(fd, mask)
            except FileExistsError:
                ep.modify(fd, mask)
        else:
            try:
                ep.modify(fd, mask)
            except FileNotFoundError:
                ep.register(fd, mask)

    def _wait(self, timeout: float) -> list[tuple[int, int]]:
        events = self._epoll.poll(timeout)
        return [
            (
                fd,
                (READABLE if flags & _READ_FLAGS else 0)
                | (WRITABLE if flags & _WRITE_FLAGS else 0),
            )
            for fd, flags in events
        ]

    def _close_os(self) -> None:
        self._epoll.close()
