"""asyncio's exception names, for ported code."""

from __future__ import annotations

from typing import Any


class CancelledError(BaseException):
    """The task or future was cancelled (like ``asyncio.CancelledError``)."""


class InvalidStateError(Exception):
    """The operation is not allowed in the future's current state."""


class QueueEmpty(Exception):
    """``get_nowait`` on an empty queue."""


class QueueFull(Exception):
    """``put_nowait`` on a full queue."""


class IncompleteReadError(EOFError):
    """The stream ended before ``readexactly``/``readuntil`` got what they needed."""

    def __init__(self, partial: bytes, expected: int | None) -> None:
        r_expected = "undefined" if expected is None else repr(expected)
        super().__init__(f"{len(partial)} bytes read on a total of {r_expected} expected bytes")
        self.partial = partial
        self.expected = expected

    def __reduce__(self) -> Any:
        return type(self), (self.partial, self.expected)


class LimitOverrunError(Exception):
    """The buffer limit was reached while looking for a separator."""

    def __init__(self, message: str, consumed: int) -> None:
        super().__init__(message)
        self.consumed = consumed


class BrokenBarrierError(RuntimeError):
    """The barrier was reset or broken while tasks waited on it."""


TimeoutError = TimeoutError  # asyncio.TimeoutError is the builtin since 3.11
