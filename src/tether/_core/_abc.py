"""The kernel's pluggable interfaces: clocks and instruments (re-exported by tether.abc)."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._task import Task


class Clock(abc.ABC):
    """The interface of a run's clock (see :class:`tether.testing.MockClock`)."""

    __slots__ = ()

    @abc.abstractmethod
    def start_clock(self) -> None:
        """Called once, when the run starts."""

    @abc.abstractmethod
    def current_time(self) -> float:
        """The current time, in seconds, from an arbitrary origin."""

    @abc.abstractmethod
    def deadline_to_sleep_time(self, deadline: float) -> float:
        """How many real seconds the run loop may block waiting for ``deadline``."""


class Instrument(abc.ABC):  # noqa: B024  # every hook is optional
    """Hooks into the run loop, for monitoring and debugging; override the ones you need.

    Hooks run synchronously inside the kernel: keep them quick. An instrument whose hook
    raises is removed and the error logged.
    """

    __slots__ = ()

    def before_run(self) -> None:
        """Called once, before the first task runs."""

    def after_run(self) -> None:
        """Called once, after the last task finished."""

    def task_spawned(self, task: Task) -> None:
        """Called when ``task`` is created."""

    def task_scheduled(self, task: Task) -> None:
        """Called when ``task`` becomes runnable."""

    def before_task_step(self, task: Task) -> None:
        """Called just before ``task`` runs a step."""

    def after_task_step(self, task: Task) -> None:
        """Called just after ``task`` ran a step."""

    def task_exited(self, task: Task) -> None:
        """Called when ``task`` has finished."""

    def before_io_wait(self, timeout: float) -> None:
        """Called before the loop waits for I/O up to ``timeout`` seconds."""

    def after_io_wait(self, timeout: float) -> None:
        """Called after the loop's wait for I/O."""
