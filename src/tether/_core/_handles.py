"""Task handles: a child's result, awaitable, without the child outliving its nursery."""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._cancel import CancelScope
from ._outcome import Error, Value, to_outcome
from ._parking_lot import ParkingLot
from ._traps import checkpoint

if TYPE_CHECKING:
    import outcome

    from ._task import Task

T = TypeVar("T")
_NOTHING: Any = object()


class TaskFailedError(Exception):
    """Raised by awaiting a :class:`TaskHandle` whose task raised; ``__cause__`` is that
    exception. The nursery raises the original exception as well (errors are never lost,
    and never reported twice as the same object)."""


class TaskCancelledError(Exception):
    """Raised by awaiting a :class:`TaskHandle` whose task was cancelled through
    :meth:`TaskHandle.cancel` (or by its nursery) before it returned."""


class TaskHandle(Generic[T]):
    """A child task started with :meth:`Nursery.start_task`: await it for its result.

    ``await handle`` waits for the task and returns what it returned. If the task raised,
    the error goes to the nursery exactly as with ``start_soon`` (siblings are cancelled,
    the nursery raises it) and awaiting the handle raises :exc:`TaskFailedError` chained
    to it. :meth:`cancel` cancels this task alone. The task never outlives its nursery.
    """

    __slots__ = ("_finished", "_public_outcome", "_result", "_scope", "_waiters", "task")

    def __init__(self) -> None:
        self._scope = CancelScope()
        self._result: Value | Error | None = None
        self._public_outcome: outcome.Outcome[T] | None = None
        self._finished = False
        self._waiters = ParkingLot()
        self.task: Task = None  # type: ignore[assignment]  # set right after spawning

    def __repr__(self) -> str:
        state = "running" if not self._finished else ("cancelled" if self.cancelled() else "done")
        return f"<TaskHandle {self.task.name!r} {state}>"

    async def _run(self, coro: Coroutine[Any, Any, T]) -> None:
        value: Any = _NOTHING
        try:
            with self._scope:
                value = await coro
        except BaseException as exc:
            self._result = Error(exc)
            raise
        finally:
            self._finished = True
            self._waiters.unpark_all()
        if value is not _NOTHING:
            self._result = Value(value)

    def done(self) -> bool:
        """Whether the task has finished (returned, raised or was cancelled)."""
        return self._finished

    def cancelled(self) -> bool:
        """Whether the task finished by being cancelled."""
        return self._finished and self._result is None

    def cancel(self) -> None:
        """Cancel this task only (its siblings and the nursery carry on)."""
        self._scope.cancel()

    @property
    def outcome(self) -> outcome.Outcome[T] | None:
        """The task's ``outcome.Value`` / ``outcome.Error``; ``None`` while it runs or if it
        was cancelled."""
        if self._public_outcome is None and self._result is not None:
            # Built on first use, so that only callers of this pay for importing outcome.
            self._public_outcome = to_outcome(self._result)
        return self._public_outcome

    def result(self) -> T:
        """The result of a finished task, without waiting; see ``await handle``.
        ``RuntimeError`` if it has not finished yet."""
        if not self._finished:
            raise RuntimeError(f"{self!r} has not finished yet; await it instead")
        result = self._result
        if result is None:
            raise TaskCancelledError(f"task {self.task.name!r} was cancelled")
        if type(result) is Error:
            raise TaskFailedError(f"task {self.task.name!r} raised {result.error!r}") from (
                result.error
            )
        assert type(result) is Value
        value: T = result.value
        return value

    async def wait(self) -> T:
        """Wait for the task to finish and return its result (``await handle`` does this)."""
        if not self._finished:
            await self._waiters.park()
            if type(self._result) is Error:
                # The failure is also cancelling the child's nursery: if we are inside
                # it, that Cancelled is what we should see (the nursery reports the
                # error itself), so take the checkpoint that delivers it.
                await checkpoint()
        else:
            await checkpoint()
        return self.result()

    def __await__(self) -> Generator[Any, None, T]:
        return self.wait().__await__()
