"""The portable I/O backend on the stdlib's ``selectors`` (used where epoll is missing)."""

from __future__ import annotations

import selectors

from ._base import _UNKNOWN, READABLE, WRITABLE, IOBackend

_TO_SELECTOR = (
    0,
    selectors.EVENT_READ,
    selectors.EVENT_WRITE,
    selectors.EVENT_READ | selectors.EVENT_WRITE,
)


class SelectorsBackend(IOBackend):
    name = "selectors"

    def __init__(self, selector: selectors.BaseSelector | None = None) -> None:
        super().__init__()
        self._selector = selector if selector is not None else selectors.DefaultSelector()
        self._selector.register(self.wake_fd, selectors.EVENT_READ)

    def _set_registration(self, fd: int, old: int, new: int) -> None:
        sel = self._selector
        if new == 0:
            try:
                sel.unregister(fd)
            except (KeyError, ValueError, OSError):
                pass
            return
        events = _TO_SELECTOR[new]
        if old == _UNKNOWN:
            # The selector's own bookkeeping may describe a closed fd: start afresh.
            try:
                sel.unregister(fd)
            except (KeyError, ValueError, OSError):
                pass
            old = 0
        if old == 0:
            try:
                sel.register(fd, events)
            except KeyError:
                sel.modify(fd, events)
        else:
            try:
                sel.modify(fd, events)
            except KeyError:
                sel.register(fd, events)

    def _wait(self, timeout: float) -> list[tuple[int, int]]:
        ready = self._selector.select(timeout)
        return [
            (
                key.fd,
                (READABLE if mask & selectors.EVENT_READ else 0)
                | (WRITABLE if mask & selectors.EVENT_WRITE else 0),
            )
            for key, mask in ready
        ]

    def _close_os(self) -> None:
        self._selector.close()
