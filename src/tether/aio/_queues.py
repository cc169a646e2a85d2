"""asyncio's queues: Queue, LifoQueue, PriorityQueue (a get or put that can complete at
once does not yield, as in asyncio)."""

from __future__ import annotations

import heapq
from collections import deque
from typing import Any, Generic, TypeVar

from tether.lowlevel import ParkingLot

from ._exceptions import QueueEmpty, QueueFull

T = TypeVar("T")


class Queue(Generic[T]):
    """A FIFO queue for tasks; ``maxsize <= 0`` means unbounded."""

    def __init__(self, maxsize: int = 0) -> None:
        self._maxsize = maxsize
        self._init(maxsize)
        self._getters = ParkingLot()
        self._putters = ParkingLot()
        self._joiners = ParkingLot()
        self._unfinished_tasks = 0

    def _init(self, maxsize: int) -> None:
        self._queue: Any = deque()

    def _put(self, item: T) -> None:
        self._queue.append(item)

    def _get(self) -> T:
        return self._queue.popleft()  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} maxsize={self._maxsize!r} qsize={self.qsize()}>"

    @property
    def maxsize(self) -> int:
        return self._maxsize

    def qsize(self) -> int:
        return len(self._queue)

    def empty(self) -> bool:
        return not self._queue

    def full(self) -> bool:
        return 0 < self._maxsize <= self.qsize()

    async def put(self, item: T) -> None:
        """Put ``item``, waiting while the queue is full."""
        while self.full():
            try:
                await self._putters.park()
            except BaseException:
                if not self.full() and self._putters:
                    self._putters.unpark()  # pass our turn on
                raise
        self.put_nowait(item)

    def put_nowait(self, item: T) -> None:
        if self.full():
            raise QueueFull
        self._put(item)
        self._unfinished_tasks += 1
        if self._getters:
            self._getters.unpark()

    async def get(self) -> T:
        """Remove and return an item, waiting while the queue is empty."""
        while self.empty():
            try:
                await self._getters.park()
            except BaseException:
                if not self.empty() and self._getters:
                    self._getters.unpark()
                raise
        return self.get_nowait()

    def get_nowait(self) -> T:
        if self.empty():
            raise QueueEmpty
        item = self._get()
        if self._putters:
            self._putters.unpark()
        return item

    def task_done(self) -> None:
        if self._unfinished_tasks <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished_tasks -= 1
        if self._unfinished_tasks == 0:
            self._joiners.unpark_all()

    async def join(self) -> None:
        """Wait until every item put has been marked with :meth:`task_done`."""
        if self._unfinished_tasks > 0:
            await self._joiners.park()


class PriorityQueue(Queue[T]):
    """Retrieves the lowest item first (entries are usually ``(priority, data)``)."""

    def _init(self, maxsize: int) -> None:
        self._queue = []

    def _put(self, item: T) -> None:
        heapq.heappush(self._queue, item)

    def _get(self) -> T:
        return heapq.heappop(self._queue)  # type: ignore[no-any-return]


class LifoQueue(Queue[T]):
    """Retrieves the most recently added item first."""

    def _init(self, maxsize: int) -> None:
        self._queue = []

    def _put(self, item: T) -> None:
        self._queue.append(item)

    def _get(self) -> T:
        return self._queue.pop()  # type: ignore[no-any-return]
