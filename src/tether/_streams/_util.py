"""Shared helpers for streams."""

from __future__ import annotations

from types import TracebackType

from .._abc import AsyncResource
from .._core import BusyResourceError, CancelScope


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
