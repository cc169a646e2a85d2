"""I/O backends: one interface, an epoll implementation and a ``selectors`` fallback."""

from __future__ import annotations

import os
import select

from ._base import IOBackend, IOStatistics, as_fd, notify_closing, wait_readable, wait_writable

__all__ = [
    "IOBackend",
    "IOStatistics",
    "as_fd",
    "make_io_backend",
    "notify_closing",
    "wait_readable",
    "wait_writable",
]


def make_io_backend() -> IOBackend:
    """The best backend for this platform; ``TETHER_IO_BACKEND=selectors`` forces the fallback."""
    choice = os.environ.get("TETHER_IO_BACKEND", "")
    if choice not in ("", "epoll", "selectors"):
        raise ValueError(f"TETHER_IO_BACKEND must be 'epoll' or 'selectors', not {choice!r}")
    if choice != "selectors" and hasattr(select, "epoll"):
        from ._epoll import EpollBackend

        return EpollBackend()
    from ._selectors import SelectorsBackend

    return SelectorsBackend()
