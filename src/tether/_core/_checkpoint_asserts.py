"""Kernel side of ``tether.testing.assert_checkpoints`` / ``assert_no_checkpoints``."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import AbstractContextManager, contextmanager

from ._run import current_task


@contextmanager
def _assert_yields_or_not(expected: bool) -> Generator[None, None, None]:
    __tracebackhide__ = True
    task = current_task()
    cancel_before, schedule_before = task._cancel_points, task._schedule_points
    try:
        yield
        if expected and (
            task._cancel_points == cancel_before or task._schedule_points == schedule_before
        ):
            raise AssertionError("assert_checkpoints block did not execute a checkpoint")
    finally:
        if not expected and (
            task._cancel_points != cancel_before or task._schedule_points != schedule_before
        ):
            raise AssertionError("assert_no_checkpoints block executed a checkpoint")


def assert_checkpoints() -> AbstractContextManager[None]:
    """Fail (AssertionError) unless the ``with`` block executes a full checkpoint (a point
    where the task could be cancelled and another task could run)."""
    return _assert_yields_or_not(True)


def assert_no_checkpoints() -> AbstractContextManager[None]:
    """Fail (AssertionError) if the ``with`` block executes any checkpoint."""
    return _assert_yields_or_not(False)
