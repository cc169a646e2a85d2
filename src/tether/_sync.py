"""Tier 6: synchronization primitives for tasks of one run.

Everything here waits through the kernel's one wait primitive (a :class:`ParkingLot`, or
:func:`wait_task_rescheduled` directly), so a waiter is cancelled exactly like any other
blocked task. Two rules run through all of them:

* **Hand-off, no barging.** When a resource is released while tasks wait for it, it goes
  straight to the longest waiter *before* that waiter is woken; a task arriving in
  between finds it taken and queues behind. A woken waiter can no longer be cancelled out
  of its wait (the kernel guarantees that for rescheduled tasks), so a hand-off is never
  lost.
* **Checkpoints.** Every ``async`` acquire is a full checkpoint: it raises
  :exc:`~tether.Cancelled` if the task is cancelled and yields to the scheduler even when
  it could complete at once. The ``*_nowait`` forms never yield.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol, final

from ._core import (
    Abort,
    CancelScope,
    ParkingLot,
    WouldBlock,
    add_parking_lot_breaker,
    cancel_shielded_checkpoint,
    checkpoint,
    checkpoint_if_cancelled,
    current_task,
    enable_ki_protection,
    remove_parking_lot_breaker,
    reschedule,
    wait_task_rescheduled,
)
from ._core._util import FrozenRecord

if TYPE_CHECKING:
    from types import TracebackType

    from ._core import RaiseCancelT, Task

__all__ = [
    "CapacityLimiter",
    "CapacityLimiterStatistics",
    "Condition",
    "ConditionStatistics",
    "Event",
    "EventStatistics",
    "Lock",
    "LockStatistics",
    "Semaphore",
    "SemaphoreStatistics",
    "StrictFIFOLock",
]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------
# Statistics snapshots


@final
class EventStatistics(FrozenRecord):
    """What :meth:`Event.statistics` reports.

    Attributes:
      tasks_waiting: how many tasks are blocked in :meth:`Event.wait`.
    """

    __slots__ = ("tasks_waiting",)
    __match_args__ = ("tasks_waiting",)
    tasks_waiting: int

    def __init__(self, tasks_waiting: int) -> None:
        self._fill(tasks_waiting)


@final
class LockStatistics(FrozenRecord):
    """What :meth:`Lock.statistics` (and :meth:`StrictFIFOLock.statistics`) reports.

    Attributes:
      locked: whether some task holds the lock.
      owner: the :class:`~tether.lowlevel.Task` holding it, or ``None``.
      tasks_waiting: how many tasks are blocked in ``acquire``.
    """

    __slots__ = ("locked", "owner", "tasks_waiting")
    __match_args__ = ("locked", "owner", "tasks_waiting")
    locked: bool
    owner: Task | None
    tasks_waiting: int

    def __init__(self, locked: bool, owner: Task | None, tasks_waiting: int) -> None:
        self._fill(locked, owner, tasks_waiting)


@final
class SemaphoreStatistics(FrozenRecord):
    """What :meth:`Semaphore.statistics` reports.

    Attributes:
      tasks_waiting: how many tasks are blocked in :meth:`Semaphore.acquire`.
    """

    __slots__ = ("tasks_waiting",)
    __match_args__ = ("tasks_waiting",)
    tasks_waiting: int

    def __init__(self, tasks_waiting: int) -> None:
        self._fill(tasks_waiting)


@final
class CapacityLimiterStatistics(FrozenRecord):
    """What :meth:`CapacityLimiter.statistics` reports.

    Attributes:
      borrowed_tokens: how many tokens are held.
      total_tokens: the limiter's :attr:`~CapacityLimiter.total_tokens` (it can be below
        ``borrowed_tokens`` just after it was lowered).
      borrowers: who holds the tokens (tasks, or whatever objects were passed to
        :meth:`~CapacityLimiter.acquire_on_behalf_of`), in no particular order.
      tasks_waiting: how many tasks are blocked in ``acquire`` or
        ``acquire_on_behalf_of``.
    """

    __slots__ = ("borrowed_tokens", "borrowers", "tasks_waiting", "total_tokens")
    __match_args__ = ("borrowed_tokens", "total_tokens", "borrowers", "tasks_waiting")
    borrowed_tokens: int
    total_tokens: int | float
    borrowers: list[object]
    tasks_waiting: int

    def __init__(
        self,
        borrowed_tokens: int,
        total_tokens: int | float,
        borrowers: list[object],
        tasks_waiting: int,
    ) -> None:
        self._fill(borrowed_tokens, total_tokens, borrowers, tasks_waiting)


@final
class ConditionStatistics(FrozenRecord):
    """What :meth:`Condition.statistics` reports.

    Attributes:
      tasks_waiting: how many tasks are blocked in :meth:`Condition.wait` (not counting
        those already notified and now queued for the lock).
      lock_statistics: the :class:`LockStatistics` of the condition's lock.
    """

    __slots__ = ("lock_statistics", "tasks_waiting")
    __match_args__ = ("tasks_waiting", "lock_statistics")
    tasks_waiting: int
    lock_statistics: LockStatistics

    def __init__(self, tasks_waiting: int, lock_statistics: LockStatistics) -> None:
        self._fill(tasks_waiting, lock_statistics)


# ---------------------------------------------------------------------------------------
# async with support for everything that has acquire() / release()


class _AcquireRelease(Protocol):
    async def acquire(self) -> None: ...

    def release(self) -> None: ...


class _AsyncCMMixin:
    """``async with x:`` acquires on entry (a checkpoint) and releases on exit (not one)."""

    __slots__ = ()

    @enable_ki_protection
    async def __aenter__(self: _AcquireRelease) -> None:
        await self.acquire()

    @enable_ki_protection
    async def __aexit__(
        self: _AcquireRelease,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


# ---------------------------------------------------------------------------------------
# Event


@final
class Event:
    """A flag that starts out false, can be set once, and can be waited for.

    :meth:`wait` returns as soon as the flag is set, or at once if it already is, so it
    does not matter whether :meth:`set` runs before or after somebody starts waiting:
    no wake-up is missed. Unlike :class:`threading.Event` there is no ``clear()``: what
    has happened stays happened; to signal a series of events, make a new ``Event`` for
    each (they are cheap), or use a memory channel.
    """

    __slots__ = ("_flag", "_lot")

    def __init__(self) -> None:
        self._flag = False
        self._lot = ParkingLot()

    def __repr__(self) -> str:
        state = "set" if self._flag else "unset"
        return f"<{state} tether.Event at {id(self):#x} with {len(self._lot)} waiting>"

    def is_set(self) -> bool:
        """Whether :meth:`set` has been called."""
        return self._flag

    @enable_ki_protection
    def set(self) -> None:
        """Set the flag and wake every task blocked in :meth:`wait`; setting it again
        does nothing."""
        if not self._flag:
            self._flag = True
            self._lot.unpark_all()

    async def wait(self) -> None:
        """Block until the flag is set. A checkpoint, even when the flag is already set."""
        if self._flag:
            await checkpoint()
        else:
            await self._lot.park()

    def statistics(self) -> EventStatistics:
        """An :class:`EventStatistics` snapshot."""
        return EventStatistics(tasks_waiting=len(self._lot))


# ---------------------------------------------------------------------------------------
# Lock and StrictFIFOLock


class _LockBase(_AsyncCMMixin):
    # The owner is changed only here: acquire takes a free lock (never while others queue),
    # release hands it to the first queued task before waking it. A task woken from
    # ``_lot`` therefore already owns the lock: Condition relies on that by moving its
    # notified waiters into ``_lot``.

    __slots__ = ("_lot", "_owner")

    def __init__(self) -> None:
        self._lot = ParkingLot()
        self._owner: Task | None = None

    def __repr__(self) -> str:
        name = type(self).__name__
        if self._owner is None:
            return f"<unlocked tether.{name} at {id(self):#x}>"
        return f"<locked tether.{name} at {id(self):#x} with {len(self._lot)} waiting>"

    def locked(self) -> bool:
        """Whether some task holds the lock."""
        return self._owner is not None

    def _set_owner(self, new_owner: Task | None) -> None:
        # An owner that exits without releasing breaks the lock: its waiters get
        # BrokenResourceError rather than waiting forever.
        if self._owner is not None:
            remove_parking_lot_breaker(self._owner, self._lot)
        if new_owner is not None:
            add_parking_lot_breaker(new_owner, self._lot)
        self._owner = new_owner

    @enable_ki_protection
    def acquire_nowait(self) -> None:
        """Take the lock if it is free and nobody is queued for it; never yields.

        Raises:
          tether.WouldBlock: another task holds the lock, or tasks are queued for it.
          RuntimeError: the calling task already holds it (locks are not re-entrant).
        """
        task = current_task()
        owner = self._owner
        if owner is None and not self._lot:
            self._set_owner(task)
        elif owner is task:
            raise RuntimeError("this task already holds the lock; tether locks are not re-entrant")
        else:
            raise WouldBlock

    @enable_ki_protection
    async def acquire(self) -> None:
        """Take the lock, queueing behind the tasks already waiting if it is held.

        A checkpoint. Waiters get the lock in the order they started waiting.

        Raises:
          RuntimeError: the calling task already holds it (locks are not re-entrant).
        """
        await checkpoint_if_cancelled()
        task = current_task()
        owner = self._owner
        if owner is None and not self._lot:
            self._set_owner(task)
            await cancel_shielded_checkpoint()
        elif owner is task:
            raise RuntimeError("this task already holds the lock; tether locks are not re-entrant")
        else:
            # release() makes us the owner before it wakes us.
            await self._lot.park()

    @enable_ki_protection
    def release(self) -> None:
        """Release the lock, handing it to the longest-waiting task if there is one.

        Raises:
          RuntimeError: the calling task does not hold the lock.
        """
        if current_task() is not self._owner:
            raise RuntimeError("can't release a Lock that this task does not hold")
        woken = self._lot.unpark(count=1)
        self._set_owner(woken[0] if woken else None)

    def statistics(self) -> LockStatistics:
        """A :class:`LockStatistics` snapshot."""
        return LockStatistics(
            locked=self._owner is not None, owner=self._owner, tasks_waiting=len(self._lot)
        )


@final
class Lock(_LockBase):
    """A mutual-exclusion lock: one task at a time holds it.

    Only the task that acquired it may release it, and it is not re-entrant. It is fair:
    when it is released, the task that has waited longest gets it, before any newcomer.
    ``async with lock:`` acquires on entry (a checkpoint) and releases on exit.
    """

    __slots__ = ()


@final
class StrictFIFOLock(_LockBase):
    """A :class:`Lock` that promises to be handed out in strict first-come, first-served
    order, as a documented guarantee rather than a property of the current scheduler.

    Use it when code depends on that order, e.g. several tasks queueing chunks of output
    produced in a known order: take the chunk without an ``await`` in between, then
    ``async with fifo_lock:`` send it, and the chunks go out in the order they were made.
    Today it behaves exactly like :class:`Lock`; naming it documents the dependency.
    """

    __slots__ = ()


# ---------------------------------------------------------------------------------------
# Semaphore


@final
class Semaphore(_AsyncCMMixin):
    """A counter that :meth:`acquire` decrements, waiting while it is zero, and
    :meth:`release` increments.

    Args:
      initial_value: the starting value, an int >= 0.
      max_value: if given, an int >= ``initial_value``: releasing past it is an error
        (a "bounded" semaphore), which catches unbalanced releases.

    Any task may release (unlike a lock). To cap how many tasks do something at once,
    :class:`CapacityLimiter` is usually the better tool: it also checks who releases.
    ``async with sem:`` acquires on entry and releases on exit.
    """

    __slots__ = ("_lot", "_max_value", "_value")

    def __init__(self, initial_value: int, max_value: int | None = None) -> None:
        if not _is_int(initial_value):
            raise TypeError(f"initial_value must be an int, not {initial_value!r}")
        if initial_value < 0:
            raise ValueError(f"initial_value must be >= 0, not {initial_value}")
        if max_value is not None:
            if not _is_int(max_value):
                raise TypeError(f"max_value must be None or an int, not {max_value!r}")
            if max_value < initial_value:
                raise ValueError(
                    f"max_value ({max_value}) must be >= initial_value ({initial_value})"
                )
        # Invariant: tasks wait in _lot only while _value == 0.
        self._lot = ParkingLot()
        self._value = initial_value
        self._max_value = max_value

    def __repr__(self) -> str:
        bound = "" if self._max_value is None else f", max_value={self._max_value}"
        return f"<tether.Semaphore({self._value}{bound}) at {id(self):#x}>"

    @property
    def value(self) -> int:
        """The current value."""
        return self._value

    @property
    def max_value(self) -> int | None:
        """The bound given to the constructor, or ``None`` for an unbounded semaphore."""
        return self._max_value

    @enable_ki_protection
    def acquire_nowait(self) -> None:
        """Decrement the value if it is above zero; never yields.

        Raises:
          tether.WouldBlock: the value is zero.
        """
        if self._value:
            self._value -= 1
        else:
            raise WouldBlock

    @enable_ki_protection
    async def acquire(self) -> None:
        """Decrement the value, waiting (first come, first served) while it is zero.

        A checkpoint.
        """
        await checkpoint_if_cancelled()
        if self._value:
            self._value -= 1
            await cancel_shielded_checkpoint()
        else:
            # release() gives its unit straight to us: the value stays at zero.
            await self._lot.park()

    @enable_ki_protection
    def release(self) -> None:
        """Increment the value, or hand the unit to the longest-waiting task.

        Raises:
          ValueError: the semaphore is bounded and the value is already ``max_value``.
        """
        if self._lot:
            self._lot.unpark(count=1)
        elif self._max_value is not None and self._value >= self._max_value:
            raise ValueError(f"semaphore released too many times (max_value={self._max_value})")
        else:
            self._value += 1

    def statistics(self) -> SemaphoreStatistics:
        """A :class:`SemaphoreStatistics` snapshot."""
        return SemaphoreStatistics(tasks_waiting=len(self._lot))


# ---------------------------------------------------------------------------------------
# CapacityLimiter


def _check_total_tokens(value: object) -> int | float:
    if not _is_int(value) and value != math.inf:
        raise TypeError(f"total_tokens must be an int or math.inf, not {value!r}")
    assert isinstance(value, int | float)
    if value < 1:
        raise ValueError(f"total_tokens must be >= 1, not {value}")
    return value


@final
class CapacityLimiter(_AsyncCMMixin):
    """At most ``total_tokens`` holders at a time: a bag of tokens that tasks borrow and
    return.

    ``async with limiter:`` borrows a token for the current task (waiting, first come,
    first served, while none is free) and returns it on exit. Each borrower holds at most
    one token, and only the borrower may return it: both mistakes raise
    :exc:`RuntimeError`. Borrowers are normally tasks; :meth:`acquire_on_behalf_of` lets
    any hashable object (a thread, a job id) hold a token instead.

    Args:
      total_tokens: how many tokens there are, an int >= 1 or :data:`math.inf`. It can be
        changed later through :attr:`total_tokens`.
    """

    __slots__ = ("_borrowers", "_total_tokens", "_waiters", "_waiting_borrowers")

    def __init__(self, total_tokens: int | float) -> None:
        self._borrowers: set[object] = set()
        # Queued tasks, longest-waiting first, each with the borrower it waits for.
        self._waiters: OrderedDict[Task, object] = OrderedDict()
        # The borrowers in _waiters, for an O(1) "already waiting?" check.
        self._waiting_borrowers: set[object] = set()
        self._total_tokens = _check_total_tokens(total_tokens)

    def __repr__(self) -> str:
        return (
            f"<tether.CapacityLimiter at {id(self):#x}, "
            f"{len(self._borrowers)}/{self._total_tokens} with {len(self._waiters)} waiting>"
        )

    @property
    def total_tokens(self) -> int | float:
        """How many tokens there are (an int >= 1, or :data:`math.inf`); assignable.

        Raising it wakes as many waiting tasks as there are new free tokens. Lowering it
        below :attr:`borrowed_tokens` takes nothing back: current holders keep their
        tokens, and nobody new gets one until enough have been returned.
        """
        return self._total_tokens

    @total_tokens.setter
    @enable_ki_protection
    def total_tokens(self, new_total_tokens: int | float) -> None:
        self._total_tokens = _check_total_tokens(new_total_tokens)
        self._wake_waiters()

    @property
    def borrowed_tokens(self) -> int:
        """How many tokens are currently held."""
        return len(self._borrowers)

    @property
    def available_tokens(self) -> int | float:
        """How many tokens are free: ``total_tokens - borrowed_tokens`` (can be negative
        just after ``total_tokens`` was lowered)."""
        return self._total_tokens - len(self._borrowers)

    def _wake_waiters(self) -> None:
        waiters = self._waiters
        borrowers = self._borrowers
        while waiters and len(borrowers) < self._total_tokens:
            task, borrower = waiters.popitem(last=False)
            self._waiting_borrowers.discard(borrower)
            borrowers.add(borrower)
            reschedule(task)

    def _check_not_borrowing(self, borrower: object) -> None:
        if borrower in self._borrowers:
            raise RuntimeError("this borrower already holds one of this CapacityLimiter's tokens")

    @enable_ki_protection
    def acquire_nowait(self) -> None:
        """Borrow a token for the current task if one is free; never yields.

        Raises:
          tether.WouldBlock: no token is free (or other tasks are queued for one).
          RuntimeError: the current task already holds a token of this limiter.
        """
        self.acquire_on_behalf_of_nowait(current_task())

    @enable_ki_protection
    def acquire_on_behalf_of_nowait(self, borrower: object) -> None:
        """Borrow a token for ``borrower`` (any hashable object) if one is free; never
        yields.

        Raises:
          tether.WouldBlock: no token is free (or other tasks are queued for one).
          RuntimeError: ``borrower`` already holds, or is already waiting for, a token of
            this limiter.
        """
        self._check_not_borrowing(borrower)
        if self._waiters:
            self._check_not_waiting(borrower)
            raise WouldBlock
        if len(self._borrowers) >= self._total_tokens:
            raise WouldBlock
        self._borrowers.add(borrower)

    def _check_not_waiting(self, borrower: object) -> None:
        if borrower in self._waiting_borrowers:
            raise RuntimeError(
                "this borrower is already waiting for one of this CapacityLimiter's tokens"
            )

    @enable_ki_protection
    async def acquire(self) -> None:
        """Borrow a token for the current task, waiting (first come, first served) while
        none is free. A checkpoint.

        Raises:
          RuntimeError: the current task already holds a token of this limiter.
        """
        await self.acquire_on_behalf_of(current_task())

    @enable_ki_protection
    async def acquire_on_behalf_of(self, borrower: object) -> None:
        """Borrow a token for ``borrower`` (any hashable object), waiting (first come,
        first served) while none is free. A checkpoint.

        Raises:
          RuntimeError: ``borrower`` already holds, or is already waiting for, a token of
            this limiter.
        """
        await checkpoint_if_cancelled()
        self._check_not_borrowing(borrower)
        waiters = self._waiters
        if not waiters and len(self._borrowers) < self._total_tokens:
            self._borrowers.add(borrower)
            await cancel_shielded_checkpoint()
            return
        self._check_not_waiting(borrower)
        task = current_task()
        waiters[task] = borrower
        self._waiting_borrowers.add(borrower)

        def abort_fn(_: RaiseCancelT) -> Abort:
            del waiters[task]
            self._waiting_borrowers.discard(borrower)
            return Abort.SUCCEEDED

        # _wake_waiters() records the borrower before it wakes us.
        await wait_task_rescheduled(abort_fn)

    @enable_ki_protection
    def release(self) -> None:
        """Return the current task's token, waking the longest waiter if there is one.

        Raises:
          RuntimeError: the current task holds no token of this limiter.
        """
        self.release_on_behalf_of(current_task())

    @enable_ki_protection
    def release_on_behalf_of(self, borrower: object) -> None:
        """Return ``borrower``'s token, waking the longest waiter if there is one.

        Raises:
          RuntimeError: ``borrower`` holds no token of this limiter.
        """
        try:
            self._borrowers.remove(borrower)
        except KeyError:
            raise RuntimeError(
                "this borrower does not hold any of this CapacityLimiter's tokens"
            ) from None
        self._wake_waiters()

    def statistics(self) -> CapacityLimiterStatistics:
        """A :class:`CapacityLimiterStatistics` snapshot."""
        return CapacityLimiterStatistics(
            borrowed_tokens=len(self._borrowers),
            total_tokens=self._total_tokens,
            borrowers=list(self._borrowers),
            tasks_waiting=len(self._waiters),
        )


# ---------------------------------------------------------------------------------------
# Condition


@final
class Condition(_AsyncCMMixin):
    """A condition variable: tasks holding its lock wait to be notified by another task
    holding the same lock, as with :class:`threading.Condition`.

    Args:
      lock: the :class:`Lock` to use (exactly a ``Lock``); ``None`` makes a new one.

    ``async with condition:`` acquires the lock on entry and releases it on exit. The
    usual pattern re-checks its predicate in a loop::

        async with condition:
            while not ready():
                await condition.wait()
    """

    __slots__ = ("_lock", "_lot")

    def __init__(self, lock: Lock | None = None) -> None:
        if lock is None:
            lock = Lock()
        elif type(lock) is not Lock:
            raise TypeError(f"lock must be a tether.Lock, not {lock!r}")
        self._lock = lock
        self._lot = ParkingLot()

    def __repr__(self) -> str:
        return f"<tether.Condition at {id(self):#x} with {len(self._lot)} waiting>"

    def locked(self) -> bool:
        """Whether some task holds the underlying lock."""
        return self._lock.locked()

    def acquire_nowait(self) -> None:
        """Take the underlying lock without waiting; see :meth:`Lock.acquire_nowait`."""
        self._lock.acquire_nowait()

    async def acquire(self) -> None:
        """Take the underlying lock; see :meth:`Lock.acquire`."""
        await self._lock.acquire()

    def release(self) -> None:
        """Release the underlying lock; see :meth:`Lock.release`."""
        self._lock.release()

    def _check_owner(self, what: str) -> None:
        if current_task() is not self._lock._owner:
            raise RuntimeError(f"must hold the Condition's lock to {what}")

    @enable_ki_protection
    async def wait(self) -> None:
        """Release the lock, wait until notified, then take the lock back and return.

        The lock is held again whenever ``wait`` returns *or raises*: if the task is
        cancelled while waiting, it first takes the lock back (shielded from the
        cancellation, so it may wait a little for the lock) and then raises
        :exc:`~tether.Cancelled`. So ``async with condition: await condition.wait()``
        is always balanced.

        Raises:
          RuntimeError: the calling task does not hold the lock.
        """
        self._check_owner("wait")
        lock = self._lock
        lock.release()
        try:
            # notify() moves us from _lot into the lock's queue, and the lock hands itself
            # to us before waking us: returning from park() means we hold the lock.
            await self._lot.park()
        except BaseException:
            with CancelScope(shield=True):
                await lock.acquire()
            raise

    @enable_ki_protection
    def notify(self, n: int = 1) -> None:
        """Wake up to ``n`` of the waiting tasks, longest-waiting first.

        They queue for the lock (behind any task already queued) and return from
        :meth:`wait` once they get it, so not before the caller releases it.

        Raises:
          RuntimeError: the calling task does not hold the lock.
        """
        self._check_owner("notify")
        self._lot.repark(self._lock._lot, count=n)

    @enable_ki_protection
    def notify_all(self) -> None:
        """Wake every waiting task; see :meth:`notify`.

        Raises:
          RuntimeError: the calling task does not hold the lock.
        """
        self._check_owner("notify")
        self._lot.repark_all(self._lock._lot)

    def statistics(self) -> ConditionStatistics:
        """A :class:`ConditionStatistics` snapshot."""
        return ConditionStatistics(
            tasks_waiting=len(self._lot), lock_statistics=self._lock.statistics()
        )


async def borrow_token(limiter: CapacityLimiter, borrower: object) -> None:
    """Borrow a token of ``limiter`` for ``borrower``: at once, with no scheduling pass,
    when one is free; else by waiting in line.

    For offloading calls that are checkpoints by other means (they check for
    cancellation first and always block afterwards), so skipping the pass is safe. A
    limiter of another type only gets its ``acquire_on_behalf_of``.
    """
    if type(limiter) is CapacityLimiter:
        try:
            limiter.acquire_on_behalf_of_nowait(borrower)
        except WouldBlock:
            pass
        else:
            return
    await limiter.acquire_on_behalf_of(borrower)
