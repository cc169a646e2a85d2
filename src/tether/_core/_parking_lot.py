"""Tiers 3-4: the parking lot, a FIFO queue of parked tasks that every wait queue is built on."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from ._exceptions import BrokenResourceError
from ._global import current_runner
from ._ki import enable_ki_protection
from ._traps import Abort, RaiseCancelT, wait_task_rescheduled
from ._util import FrozenRecord, final

if TYPE_CHECKING:
    from ._task import Task


class ParkingLotStatistics(FrozenRecord):
    """``tasks_waiting``: how many tasks are parked in the lot."""

    __slots__ = ("tasks_waiting",)
    __match_args__ = ("tasks_waiting",)
    tasks_waiting: int

    def __init__(self, tasks_waiting: int) -> None:
        self._fill(tasks_waiting)


@final
class ParkingLot:
    """A fair (FIFO) queue of parked tasks, for building synchronization primitives.

    ``await lot.park()`` blocks the current task until another task calls ``unpark``;
    cancelling a parked task removes it from the lot.
    """

    __slots__ = ("_parked", "broken_by")

    def __init__(self) -> None:
        # Insertion-ordered, O(1) removal of any task on cancellation, and O(1) pops from
        # the front (a plain dict's front pops degrade as deleted slots pile up).
        self._parked: OrderedDict[Task, None] = OrderedDict()
        self.broken_by: list[Task] = []

    def __len__(self) -> int:
        return len(self._parked)

    def __bool__(self) -> bool:
        return bool(self._parked)

    def __repr__(self) -> str:
        return f"<ParkingLot with {len(self._parked)} parked>"

    @enable_ki_protection
    async def park(self) -> None:
        """Park the current task until it is unparked (or cancelled)."""
        if self.broken_by:
            raise BrokenResourceError(
                f"this parking lot was broken by {self.broken_by[0]!r} (it exited while "
                "holding what the lot guards)"
            )
        task = current_runner().current_task
        assert task is not None
        self._parked[task] = None
        task.custom_sleep_data = self

        def abort(_: RaiseCancelT) -> Abort:
            del task.custom_sleep_data._parked[task]
            return Abort.SUCCEEDED

        await wait_task_rescheduled(abort)

    def _pop_several(self, count: int | float) -> list[Task]:
        if isinstance(count, float) and count != float("inf"):
            raise ValueError("count must be an int or math.inf")
        if count < 0:
            raise ValueError("count must be non-negative")
        parked = self._parked
        take = len(parked) if count >= len(parked) else int(count)
        return [parked.popitem(last=False)[0] for _ in range(take)]

    @enable_ki_protection
    def unpark(self, *, count: int | float = 1) -> list[Task]:
        """Wake up to ``count`` tasks, longest-parked first; return them."""
        tasks = self._pop_several(count)
        reschedule = current_runner().reschedule if tasks else None
        for task in tasks:
            reschedule(task)  # type: ignore[misc]
        return tasks

    def unpark_all(self) -> list[Task]:
        """Wake every parked task; return them."""
        return self.unpark(count=len(self._parked))

    @enable_ki_protection
    def repark(self, new_lot: ParkingLot, *, count: int | float = 1) -> None:
        """Move up to ``count`` parked tasks to ``new_lot`` without waking them."""
        if not isinstance(new_lot, ParkingLot):
            raise TypeError("new_lot must be a ParkingLot")
        for task in self._pop_several(count):
            new_lot._parked[task] = None
            task.custom_sleep_data = new_lot

    def repark_all(self, new_lot: ParkingLot) -> None:
        """Move every parked task to ``new_lot``."""
        self.repark(new_lot, count=len(self._parked))

    @enable_ki_protection
    def break_lot(self, task: Task | None = None) -> None:
        """Break the lot: every parked task, and every later :meth:`park`, raises
        :exc:`~tether.BrokenResourceError`. ``task`` (default: the current one) is
        recorded in :attr:`broken_by` as the culprit."""
        runner = current_runner()
        if task is None:
            task = runner.current_task
            assert task is not None
        if task in self.broken_by:
            return
        self.broken_by.append(task)
        while self._parked:
            waiter = self._parked.popitem(last=False)[0]
            runner._reschedule_throw(
                waiter,
                BrokenResourceError(f"the parking lot was broken by {task!r}"),
            )
        breakers = runner.parking_lot_breakers.get(task)
        if breakers is not None and self in breakers:
            breakers.remove(self)

    def statistics(self) -> ParkingLotStatistics:
        """Report how many tasks are parked."""
        return ParkingLotStatistics(tasks_waiting=len(self._parked))


def add_parking_lot_breaker(task: Task, lot: ParkingLot) -> None:
    """Break ``lot`` automatically if ``task`` exits while this registration stands (for
    lock-like primitives: waiters then get ``BrokenResourceError`` instead of hanging
    behind an owner that is gone)."""
    runner = current_runner()
    if task not in runner.tasks:
        lot.break_lot(task)
        return
    runner.parking_lot_breakers.setdefault(task, []).append(lot)


def remove_parking_lot_breaker(task: Task, lot: ParkingLot) -> None:
    """Undo :func:`add_parking_lot_breaker`; ``ValueError`` if there was no such
    registration."""
    runner = current_runner()
    breakers = runner.parking_lot_breakers.get(task)
    if breakers is None or lot not in breakers:
        raise ValueError("that task is not registered as a breaker of that lot")
    breakers.remove(lot)
    if not breakers:
        del runner.parking_lot_breakers[task]
