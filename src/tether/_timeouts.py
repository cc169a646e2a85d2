"""Tier 4: sleeping and timeouts, built on cancel scopes."""

from __future__ import annotations

import math
from collections.abc import Generator
from contextlib import AbstractContextManager, contextmanager

from ._core import (
    Abort,
    CancelScope,
    RaiseCancelT,
    checkpoint,
    enable_ki_protection,
    wait_task_rescheduled,
)


class TooSlowError(Exception):
    """Raised by :func:`fail_after` and :func:`fail_at` when the deadline passes."""


def _check_seconds(seconds: float) -> float:
    seconds = float(seconds)
    if math.isnan(seconds):
        raise ValueError("timeout must not be NaN")
    if seconds < 0:
        raise ValueError("timeout must be non-negative")
    return seconds


def _abort_sleep(_: RaiseCancelT) -> Abort:
    return Abort.SUCCEEDED


@enable_ki_protection
async def sleep_forever() -> None:
    """Sleep until cancelled."""
    await wait_task_rescheduled(_abort_sleep)
    raise RuntimeError("sleep_forever() was rescheduled without being cancelled")


async def sleep_until(deadline: float) -> None:
    """Sleep until :func:`current_time` reaches ``deadline`` (a checkpoint, even if it has
    passed already)."""
    if math.isnan(deadline):
        raise ValueError("deadline must not be NaN")
    with CancelScope(deadline=deadline):
        await sleep_forever()


async def sleep(seconds: float) -> None:
    """Pause the current task for ``seconds`` (>= 0). ``sleep(0)`` is a bare checkpoint:
    it lets other tasks run and raises ``Cancelled`` if cancelled."""
    if seconds == 0:
        await checkpoint()
        return
    with CancelScope(relative_deadline=_check_seconds(seconds)):
        await sleep_forever()


def move_on_at(deadline: float, *, shield: bool = False) -> CancelScope:
    """A cancel scope that cancels its block when :func:`current_time` reaches ``deadline``:
    ``with move_on_at(t) as scope: ...``; afterwards ``scope.cancelled_caught`` tells
    whether the deadline fired."""
    if math.isnan(deadline):
        raise ValueError("deadline must not be NaN")
    return CancelScope(deadline=deadline, shield=shield)


def move_on_after(seconds: float, *, shield: bool = False) -> CancelScope:
    """A cancel scope that cancels its block ``seconds`` after the block is entered."""
    return CancelScope(relative_deadline=_check_seconds(seconds), shield=shield)


@contextmanager
def _fail_if_caught(scope: CancelScope) -> Generator[CancelScope, None, None]:
    with scope:
        yield scope
    if scope.cancelled_caught:
        raise TooSlowError


def fail_at(deadline: float, *, shield: bool = False) -> AbstractContextManager[CancelScope]:
    """Like :func:`move_on_at`, but raise :exc:`TooSlowError` if the deadline cancels the
    block (the block's own ``Cancelled`` is caught first)."""
    return _fail_if_caught(move_on_at(deadline, shield=shield))


def fail_after(seconds: float, *, shield: bool = False) -> AbstractContextManager[CancelScope]:
    """Like :func:`move_on_after`, but raise :exc:`TooSlowError` if the time runs out."""
    return _fail_if_caught(move_on_after(seconds, shield=shield))
