"""Tiers 3-4: the parking lot, a FIFO queue of parked tasks that every wait queue is built on."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from ._global import current_runner
from ._ki import enable_ki_protection
from ._traps import Abort, RaiseCancelT, wait_task_rescheduled
from ._util import final

if TYPE_CHECKING:
    from ._task import Task


@attrs.frozen
class ParkingLotStatistics:
    """``tasks_waiting``: how many tasks are parked in the lot."""

    tasks_waiting: int


@final
class ParkingLot:
    """A fair (FIFO) queue of parked tasks, for building synchronization primitives.

    ``await lot.park()`` blocks the current task until another task calls ``unpark``;
    cancelling a parked task removes it from the lot.
    """

    __slots__ = ("_parked",)

    def __init__(self) -> None:
        # A dict keeps insertion order and removes any task in O(1) on cancellation.
        self._parked: dict[Task, None] = {}

    def __len__(self) -> int:
        return len(self._parked)

    def __bool__(self) -> bool:
        return bool(self._parked)

    def __repr__(self) -> str:
        return f"<ParkingLot with {len(self._parked)} parked>"

    @enable_ki_protection
    async def park(self) -> None:
        """Park the current task until it is unparked (or cancelled)."""
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
        tasks: list[Task] = []
        while parked and len(tasks) < count:
            task = next(iter(parked))
            del parked[task]
            tasks.append(task)
        return tasks

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

    def statistics(self) -> ParkingLotStatistics:
        """Report how many tasks are parked."""
        return ParkingLotStatistics(tasks_waiting=len(self._parked))
