"""asyncio's synchronization primitives: Lock, Event, Condition, Semaphore,
BoundedSemaphore, Barrier (acquiring a free one does not yield, as in asyncio)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

import tether
from tether.lowlevel import ParkingLot

from ._exceptions import BrokenBarrierError

T = TypeVar("T")


class _ContextManagerMixin:
    async def acquire(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class Lock(_ContextManagerMixin):
    """A mutex for tasks; released by whoever holds it, handed to the longest waiter."""

    def __init__(self) -> None:
        self._locked = False
        self._waiters = ParkingLot()

    def __repr__(self) -> str:
        state = "locked" if self._locked else "unlocked"
        return f"<tether.aio.Lock [{state}, waiters:{len(self._waiters)}]>"

    def locked(self) -> bool:
        return self._locked

    async def acquire(self) -> bool:
        if not self._locked and not self._waiters:
            self._locked = True
            return True
        await self._waiters.park()  # release() hands the lock over before waking us
        return True

    def release(self) -> None:
        if not self._locked:
            raise RuntimeError("Lock is not acquired.")
        if not self._waiters.unpark():
            self._locked = False


class Event:
    """A flag tasks can wait for."""

    def __init__(self) -> None:
        self._value = False
        self._waiters = ParkingLot()

    def __repr__(self) -> str:
        return f"<tether.aio.Event [{'set' if self._value else 'unset'}]>"

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if not self._value:
            self._value = True
            self._waiters.unpark_all()

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        await self._waiters.park()
        return True


class Condition(_ContextManagerMixin):
    """Wait until notified, with a lock held around the check."""

    def __init__(self, lock: Lock | None = None) -> None:
        self._lock = lock if lock is not None else Lock()
        self._waiters = ParkingLot()

    def locked(self) -> bool:
        return self._lock.locked()

    async def acquire(self) -> bool:
        return await self._lock.acquire()

    def release(self) -> None:
        self._lock.release()

    async def wait(self) -> bool:
        if not self._lock.locked():
            raise RuntimeError("cannot wait on un-acquired lock")
        self._lock.release()
        try:
            await self._waiters.park()
            return True
        finally:
            with tether.CancelScope(shield=True):
                await self._lock.acquire()

    async def wait_for(self, predicate: Callable[[], T]) -> T:
        result = predicate()
        while not result:
            await self.wait()
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        if not self._lock.locked():
            raise RuntimeError("cannot notify on un-acquired lock")
        self._waiters.unpark(count=n)

    def notify_all(self) -> None:
        self.notify(len(self._waiters))


class Semaphore(_ContextManagerMixin):
    """A counter of available slots; ``acquire`` waits while it is zero."""

    def __init__(self, value: int = 1) -> None:
        if value < 0:
            raise ValueError("Semaphore initial value must be >= 0")
        self._value = value
        self._waiters = ParkingLot()

    def __repr__(self) -> str:
        return f"<tether.aio.{type(self).__name__} [value:{self._value}]>"

    def locked(self) -> bool:
        return self._value == 0

    async def acquire(self) -> bool:
        if self._value > 0 and not self._waiters:
            self._value -= 1
            return True
        await self._waiters.park()  # release() hands the slot over before waking us
        return True

    def release(self) -> None:
        if not self._waiters.unpark():
            self._value += 1


class BoundedSemaphore(Semaphore):
    """A Semaphore that refuses to be released above its initial value."""

    def __init__(self, value: int = 1) -> None:
        self._bound_value = value
        super().__init__(value)

    def release(self) -> None:
        if self._value >= self._bound_value and not self._waiters:
            raise ValueError("BoundedSemaphore released too many times")
        super().release()


class _BarrierState(enum.Enum):
    FILLING = "filling"
    DRAINING = "draining"
    RESETTING = "resetting"
    BROKEN = "broken"


class Barrier:
    """Lets ``parties`` tasks wait until all of them have arrived."""

    def __init__(self, parties: int) -> None:
        if parties < 1:
            raise ValueError("parties must be > 0")
        self._parties = parties
        self._count = 0
        self._state = _BarrierState.FILLING
        self._waiters = ParkingLot()
        self._generation = 0

    async def __aenter__(self) -> int:
        return await self.wait()

    async def __aexit__(self, *args: object) -> None:
        pass

    async def wait(self) -> int:
        if self._state is _BarrierState.BROKEN:
            raise BrokenBarrierError("barrier broken")
        index = self._count
        self._count += 1
        generation = self._generation
        if self._count == self._parties:
            self._count = 0
            self._generation += 1
            self._waiters.unpark_all()
            await tether.lowlevel.cancel_shielded_checkpoint()
            return index
        try:
            while self._generation == generation:
                await self._waiters.park()
                if self.broken:
                    raise BrokenBarrierError("barrier broken")
        except BaseException:
            if self._generation == generation and not self.broken:
                self._count -= 1
            raise
        return index

    async def reset(self) -> None:
        if self._count:
            self._state = _BarrierState.BROKEN
            self._waiters.unpark_all()
            self._count = 0
        self._state = _BarrierState.FILLING
        await tether.lowlevel.cancel_shielded_checkpoint()

    async def abort(self) -> None:
        self._state = _BarrierState.BROKEN
        self._waiters.unpark_all()
        await tether.lowlevel.cancel_shielded_checkpoint()

    @property
    def parties(self) -> int:
        return self._parties

    @property
    def n_waiting(self) -> int:
        return self._count

    @property
    def broken(self) -> bool:
        return self._state is _BarrierState.BROKEN
