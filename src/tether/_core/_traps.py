"""Tier 1: traps, the only places a task's coroutine yields to the kernel.

A trap is a plain ``yield`` inside a ``types.coroutine`` generator. What is yielded is
either a module-level sentinel (no allocation) or the abort function of a task that is
about to park. The runner tells them apart with an identity check and ``callable``.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Callable, Generator
from typing import Any, NoReturn, TypeAlias

from ._ki import enable_ki_protection


class Abort(enum.Enum):
    """What an abort function tells the kernel when a parked task is cancelled.

    ``SUCCEEDED``: the task is no longer waiting; the kernel resumes it with the exception.
    ``FAILED``: the task keeps waiting; whoever wakes it later calls :func:`reschedule`.
    """

    SUCCEEDED = 1
    FAILED = 2


RaiseCancelT: TypeAlias = Callable[[], NoReturn]
AbortFunc: TypeAlias = Callable[[RaiseCancelT], Abort]


class _Trap:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<trap {self.name}>"


# Yield and come back at once, raising Cancelled if the task is cancelled when it yields
# or becomes cancelled before it runs again.
CHECKPOINT = _Trap("checkpoint")
# Yield and come back at once, whatever the cancel state.
SCHEDULE_POINT = _Trap("cancel_shielded_checkpoint")


# The two checkpoints are generator-based coroutines rather than ``async def`` so that a
# checkpoint costs one frame, not two: they are the hottest code in any program.
@types.coroutine
def checkpoint() -> Generator[Any, Any, None]:
    """A full checkpoint: let other tasks run, and raise ``Cancelled`` if cancelled.

    Equivalent to ``await sleep(0)``.
    """
    yield CHECKPOINT


@types.coroutine
def cancel_shielded_checkpoint() -> Generator[Any, Any, None]:
    """A schedule point that never raises ``Cancelled``."""
    yield SCHEDULE_POINT


@enable_ki_protection
@types.coroutine
def wait_task_rescheduled(abort_func: AbortFunc) -> Generator[Any, Any, Any]:
    """Park the current task until someone calls :func:`reschedule` on it.

    ``abort_func(raise_cancel)`` is called if the task is cancelled (or gets a
    KeyboardInterrupt) while parked. It must return :class:`Abort`: ``SUCCEEDED`` if the
    task is no longer registered anywhere (it then resumes with the exception that
    ``raise_cancel()`` raises), or ``FAILED`` if it stays parked until rescheduled.
    Returns the value, or raises the error, of the ``outcome`` passed to ``reschedule``.
    """
    if not callable(abort_func):
        raise TypeError(f"abort_func must be callable, not {abort_func!r}")
    return (yield abort_func)


def describe_bad_yield(msg: object) -> str:
    cls = type(msg)
    return (
        f"a task yielded {msg!r} ({cls.__module__}.{cls.__qualname__}) to the tether "
        "kernel; this usually means it awaited an object from another async library "
        "(asyncio futures and the like do not work under tether)"
    )
