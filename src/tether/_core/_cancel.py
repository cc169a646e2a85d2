"""Tiers 3-4: cancel scopes, the tree they form, and the deadline queue.

Each active scope is a node in a tree that mirrors the lexical nesting of ``with`` blocks
across tasks (a nursery's children hang below the nursery's scope). A node knows the tasks
whose innermost scope it is and its child scopes, and caches ``_effectively_cancelled``:
its own ``cancel()`` was called, or its parent is effectively cancelled and it does not
shield. That cache is recomputed eagerly, down the subtree, whenever a scope is cancelled
or its shield changes, so a checkpoint answers "am I cancelled?" with one attribute read.
"""

from __future__ import annotations

import heapq
import math
from types import TracebackType
from typing import TYPE_CHECKING, Self

from ._exceptions import Cancelled
from ._global import GLOBAL_RUN_CONTEXT
from ._ki import enable_ki_protection
from ._util import final

if TYPE_CHECKING:
    from ._run import Runner
    from ._task import Task

_NOT_ENTERED, _ACTIVE, _EXITED = 0, 1, 2
_INF = math.inf


# Marks the groups that non-strict nurseries raise, so that once Cancelled is split out of
# one, a single remaining error is raised bare again. (split() keeps notes, not attributes.)
NONSTRICT_NOTE = (
    "This is a multi-error collapsed by strict_exception_groups=False; with a single error the "
    "nursery would have raised it bare."
)


def collapse_nonstrict_group(group: BaseException) -> BaseException:
    """Unwrap a non-strict nursery's group (at any depth) that is down to one exception."""
    if not isinstance(group, BaseExceptionGroup):
        return group
    inner = [collapse_nonstrict_group(exc) for exc in group.exceptions]
    if len(inner) == 1 and NONSTRICT_NOTE in getattr(group, "__notes__", ()):
        return inner[0]
    if all(new is old for new, old in zip(inner, group.exceptions, strict=True)):
        return group
    derived = group.derive(inner)
    derived.__traceback__ = group.__traceback__
    derived.__cause__, derived.__context__ = group.__cause__, group.__context__
    if hasattr(group, "__notes__"):
        derived.__notes__ = list(group.__notes__)
    return derived


def _check_deadline(value: float, what: str) -> float:
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{what} must not be NaN")
    return value


@final
class CancelScope:
    """A block of code that can be cancelled, explicitly or when its deadline passes.

    Use it as a ``with`` block, once. Cancelling it makes every checkpoint inside the block
    (in this task and in the tasks of nurseries opened inside it) raise
    :exc:`~tether.Cancelled` until the block is left; the scope then catches the
    ``Cancelled`` and execution continues after the block.

    ``deadline`` is an absolute time on the run's clock; ``relative_deadline`` counts from
    the moment the block is entered. ``shield=True`` protects the block from cancellation
    coming from outside it.
    """

    __slots__ = (
        "_cancel_called",
        "_children",
        "_deadline",
        "_deadline_seq",
        "_effectively_cancelled",
        "_host_task",
        "_parent",
        "_relative_deadline",
        "_runner",
        "_shield",
        "_shutdown_grace",
        "_shutdown_requested",
        "_state",
        "_tasks",
        "cancelled_caught",
    )

    def __init__(
        self,
        *,
        deadline: float = _INF,
        relative_deadline: float = _INF,
        shield: bool = False,
    ) -> None:
        if deadline != _INF:
            deadline = _check_deadline(deadline, "deadline")
        if relative_deadline != _INF:
            relative_deadline = _check_deadline(relative_deadline, "relative_deadline")
            if relative_deadline < 0:
                raise ValueError("relative_deadline must be non-negative")
            if deadline != _INF:
                raise ValueError("cannot give both deadline and relative_deadline")
        self._deadline = deadline
        self._relative_deadline = relative_deadline
        self._shield = bool(shield)
        self._cancel_called = False
        self._shutdown_requested = False
        self._shutdown_grace = _INF  # a grace period requested before entry
        self.cancelled_caught = False
        self._state = _NOT_ENTERED
        self._effectively_cancelled = False
        self._parent: CancelScope | None = None
        self._children: set[CancelScope] | None = None
        self._tasks: set[Task] = set()
        self._host_task: Task | None = None
        self._runner: Runner | None = None
        self._deadline_seq = -1

    @classmethod
    def _root(cls) -> CancelScope:
        scope = cls()
        scope._state = _ACTIVE
        return scope

    def __repr__(self) -> str:
        state = ("unentered", "active", "exited")[self._state]
        extra = ", cancelled" if self._cancel_called else ""
        if self._deadline != _INF:
            extra += f", deadline={self._deadline:.6g}"
        if self._shield:
            extra += ", shielded"
        return f"<tether.CancelScope at {id(self):#x}, {state}{extra}>"

    # -- entering and leaving ------------------------------------------------------------

    @enable_ki_protection
    def __enter__(self) -> Self:
        runner = GLOBAL_RUN_CONTEXT.runner
        if runner is None or runner.current_task is None:
            raise RuntimeError("CancelScope must be entered from inside a tether task")
        if self._state != _NOT_ENTERED:
            raise RuntimeError(
                "each CancelScope may only be used for a single 'with' block; create a new one"
            )
        task = runner.current_task
        self._state = _ACTIVE
        self._runner = runner
        self._host_task = task
        parent = task._cancel_status
        self._parent = parent
        children = parent._children
        if children is None:
            parent._children = {self}
        else:
            children.add(self)
        parent._tasks.discard(task)
        self._tasks.add(task)
        task._cancel_status = self
        if self._cancel_called:
            self._effectively_cancelled = True
            return self
        self._effectively_cancelled = not self._shield and parent._effectively_cancelled
        if self._relative_deadline != _INF:
            now = runner.clock.current_time()
            self._deadline = now + self._relative_deadline
            self._relative_deadline = _INF
        elif self._deadline != _INF or self._shutdown_grace != _INF:
            now = runner.clock.current_time()
        else:
            return self
        if self._shutdown_grace != _INF:
            self._deadline = min(self._deadline, now + self._shutdown_grace)
            self._shutdown_grace = _INF
        if now >= self._deadline:
            self.cancel()
        else:
            runner.deadlines.add(self)
        return self

    @enable_ki_protection
    def __exit__(
        self,
        etype: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if self._state != _ACTIVE:
            raise RuntimeError("this CancelScope is not active")
        task = self._host_task
        assert task is not None
        if task._cancel_status is not self:
            raise RuntimeError(
                f"cancel scope stack corrupted: exiting {self!r} in {task!r}, whose innermost "
                f"scope is {task._cancel_status!r}. Cancel scopes and nurseries must be exited "
                "in the reverse order they were entered, in the task that entered them; this "
                "usually comes from a 'yield' inside a scope in a generator or fixture"
            )
        self._state = _EXITED
        if self._deadline_seq >= 0:
            self._runner.deadlines.remove(self)  # type: ignore[union-attr]
        parent = self._parent
        assert parent is not None
        if parent._children is not None:
            parent._children.discard(self)
        self._tasks.discard(task)
        parent._tasks.add(task)
        task._cancel_status = parent
        self._host_task = None
        if exc is None:
            return False
        caught = self._cancel_called and (self._shield or not parent._effectively_cancelled)
        if not caught:
            return False
        if isinstance(exc, Cancelled):
            self.cancelled_caught = True
            return True
        if isinstance(exc, BaseExceptionGroup):
            matched, rest = exc.split(Cancelled)
            if matched is None:
                return False
            self.cancelled_caught = True
            if rest is None:
                return True
            remaining = collapse_nonstrict_group(rest)
            # Raise what is left, without chaining it to the group it was split from.
            context = remaining.__context__
            try:
                raise remaining
            finally:
                remaining.__context__ = context
        return False

    # -- cancelling ------------------------------------------------------------------------

    @enable_ki_protection
    def cancel(self) -> None:
        """Cancel this scope now. Idempotent; allowed before, inside and after the block."""
        if self._cancel_called:
            return
        self._cancel_called = True
        if self._state == _ACTIVE:
            if self._deadline_seq >= 0:
                self._runner.deadlines.remove(self)  # type: ignore[union-attr]
            self._recalculate()

    @enable_ki_protection
    def request_shutdown(self, grace_period: float) -> None:
        """Ask the code in this scope to wind down, then cancel it ``grace_period``
        seconds later if it has not finished (the deadline only ever moves earlier).

        Tasks inside notice with :func:`tether.shutdown_requested` or wake from
        :func:`tether.wait_shutdown_requested`, finish what they are doing and return;
        whatever still runs when the grace period ends is cancelled as usual.
        """
        grace_period = _check_deadline(grace_period, "grace_period")
        if grace_period < 0:
            raise ValueError("grace_period must be non-negative")
        self._shutdown_requested = True
        if self._state == _NOT_ENTERED:
            # The grace period counts from entry; __enter__ takes the earlier deadline.
            self._shutdown_grace = min(self._shutdown_grace, grace_period)
            return
        if self._state != _ACTIVE:
            return
        runner = self._runner
        assert runner is not None
        hard_deadline = runner.clock.current_time() + grace_period
        if hard_deadline < self._deadline:
            self.deadline = hard_deadline
        runner.wake_shutdown_waiters(self)

    @property
    def shutdown_requested(self) -> bool:
        """Whether :meth:`request_shutdown` was called on this scope."""
        return self._shutdown_requested

    def _covers(self, scope: CancelScope) -> bool:
        """Whether a shutdown request on ``self`` reaches code whose scope is ``scope``."""
        current: CancelScope | None = scope
        while current is not None:
            if current is self:
                return True
            if current._shield:
                return False
            current = current._parent
        return False

    @property
    def cancel_called(self) -> bool:
        """Whether :meth:`cancel` was called or the deadline passed (even if nothing was
        actually interrupted yet)."""
        if not self._cancel_called and self._deadline != _INF and self._state == _ACTIVE:
            runner = self._runner
            if runner is not None and runner.clock.current_time() >= self._deadline:
                self.cancel()
        return self._cancel_called

    def _recalculate(self) -> None:
        # Iterative, parent before children, so deep trees do not hit the recursion limit.
        todo = [self]
        while todo:
            scope = todo.pop()
            parent = scope._parent
            new = scope._cancel_called or (
                not scope._shield and parent is not None and parent._effectively_cancelled
            )
            if new == scope._effectively_cancelled:
                continue
            scope._effectively_cancelled = new
            if new:
                for task in list(scope._tasks):
                    task._attempt_delivery_of_any_pending_cancel()
            if scope._children:
                todo.extend(scope._children)

    # -- deadline, shield --------------------------------------------------------------------

    @property
    def deadline(self) -> float:
        """Absolute time (on :func:`tether.current_time`'s clock) at which the scope is
        cancelled; ``inf`` for none. Can be changed at any time, also while tasks wait."""
        return self._deadline

    @deadline.setter
    def deadline(self, new_deadline: float) -> None:
        new_deadline = _check_deadline(new_deadline, "deadline")
        if self._state == _NOT_ENTERED and self._relative_deadline != _INF:
            raise RuntimeError(
                "this scope has a relative_deadline that starts counting when it is "
                "entered; set relative_deadline instead, or give an absolute deadline only"
            )
        self._deadline = new_deadline
        if self._state == _ACTIVE and not self._cancel_called:
            runner = self._runner
            assert runner is not None
            if self._deadline_seq >= 0:
                runner.deadlines.remove(self)
            if new_deadline != _INF:
                runner.deadlines.add(self)

    @property
    def relative_deadline(self) -> float:
        """Seconds the scope may run once entered. Before entry, the value given; after entry,
        the time left until :attr:`deadline`."""
        if self._state == _NOT_ENTERED:
            return self._relative_deadline
        if self._deadline == _INF:
            return _INF
        runner = self._runner
        assert runner is not None
        return self._deadline - runner.clock.current_time()

    @relative_deadline.setter
    def relative_deadline(self, value: float) -> None:
        value = _check_deadline(value, "relative_deadline")
        if value < 0:
            raise ValueError("relative_deadline must be non-negative")
        if self._state == _NOT_ENTERED:
            if self._deadline != _INF:
                raise RuntimeError("this scope already has an absolute deadline")
            self._relative_deadline = value
        else:  # active or exited: from now
            runner = self._runner
            assert runner is not None
            self.deadline = runner.clock.current_time() + value

    @property
    def is_relative(self) -> bool | None:
        """Before entry: whether the deadline counts from entry. After entry: ``None``."""
        if self._state != _NOT_ENTERED:
            return None
        return self._relative_deadline != _INF

    @property
    def shield(self) -> bool:
        """While true, cancellation from outside this scope does not reach inside it."""
        return self._shield

    @shield.setter
    @enable_ki_protection
    def shield(self, new_value: bool) -> None:
        if not isinstance(new_value, bool):
            raise TypeError("shield must be a bool")
        self._shield = new_value
        if self._state == _ACTIVE:
            self._recalculate()


class DeadlineQueue:
    """Pending deadlines of active scopes: a heap with lazy deletion.

    Removing a scope only invalidates its entry (``scope._deadline_seq``); the dead entry
    is dropped when it reaches the top, or all at once when dead entries outnumber live ones.
    """

    __slots__ = ("_dead", "_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, CancelScope]] = []
        self._seq = 0
        self._dead = 0

    def add(self, scope: CancelScope) -> None:
        seq = self._seq
        self._seq = seq + 1
        scope._deadline_seq = seq
        heapq.heappush(self._heap, (scope._deadline, seq, scope))

    def remove(self, scope: CancelScope) -> None:
        scope._deadline_seq = -1
        self._dead += 1
        if self._dead > 64 and self._dead > len(self._heap) >> 1:
            self._heap = [entry for entry in self._heap if entry[2]._deadline_seq == entry[1]]
            heapq.heapify(self._heap)
            self._dead = 0

    def next_deadline(self) -> float:
        heap = self._heap
        while heap:
            deadline, seq, scope = heap[0]
            if scope._deadline_seq == seq:
                return deadline
            heapq.heappop(heap)
            self._dead -= 1
        return _INF

    def expire(self, now: float) -> bool:
        """Cancel every scope whose deadline is at or before ``now``; whether any was."""
        heap = self._heap
        fired = False
        while heap and heap[0][0] <= now:
            _, seq, scope = heapq.heappop(heap)
            if scope._deadline_seq != seq:
                self._dead -= 1
                continue
            scope._deadline_seq = -1
            scope.cancel()
            fired = True
        return fired
