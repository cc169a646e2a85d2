"""Shared helpers for streams."""

from __future__ import annotations

import operator
from types import TracebackType

from .._abc import AsyncResource
from .._core import BusyResourceError, CancelScope

DEFAULT_RECEIVE_SIZE = 65536


def receive_size(max_bytes: int | None) -> int:
    """``receive_some``'s ``max_bytes``, checked: ``None`` means 64 KiB; anything but an
    int >= 1 is an error at once (``TypeError`` for a float, ``ValueError`` below 1)."""
    if max_bytes is None:
        return DEFAULT_RECEIVE_SIZE
    max_bytes = operator.index(max_bytes)
    if max_bytes < 1:
        raise ValueError("max_bytes must be >= 1")
    return max_bytes


async def aclose_forcefully(resource: AsyncResource) -> None:
    """Close ``resource`` at once, without waiting for a graceful shutdown: ``aclose()``
    run inside an already cancelled scope. Useful when giving up on a connection."""
    with CancelScope() as scope:
        scope.cancel()
        await resource.aclose()


class ConflictDetector:
    """Raises ``BusyResourceError`` when two tasks use one resource at once.

    ``with detector:`` around each operation; the error names the operation.
    """

    __slots__ = ("_held", "_message")

    def __init__(self, message: str) -> None:
        self._message = message
        self._held = False

    def __enter__(self) -> None:
        if self._held:
            raise BusyResourceError(self._message)
        self._held = True

    def __exit__(
        self,
        etype: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._held = False
