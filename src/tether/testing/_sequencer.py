"""Sequencer: force tasks to run pieces of code in a chosen order, for tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..lowlevel import ParkingLot


class Sequencer:
    """Lets tasks take turns in a fixed order::

        seq = Sequencer()

        async def worker1():
            async with seq(0):
                ...  # runs first
            async with seq(2):
                ...  # runs third

        async def worker2():
            async with seq(1):
                ...  # runs second

    Each number may be used once. If a task waiting for its turn is cancelled, the
    sequencer is broken and every later ``seq(n)`` raises ``RuntimeError``.
    """

    def __init__(self) -> None:
        self._lots: defaultdict[int, ParkingLot] = defaultdict(ParkingLot)
        self._claimed: set[int] = set()
        self._current = 0
        self._broken = False

    @asynccontextmanager
    async def __call__(self, position: int) -> AsyncIterator[None]:
        if position in self._claimed:
            raise RuntimeError(f"Sequencer position {position} already used")
        self._claimed.add(position)
        if not self._broken:
            try:
                while self._current < position and not self._broken:
                    await self._lots[position].park()
            except BaseException:
                self._broken = True
                for lot in self._lots.values():
                    lot.unpark_all()
                raise
        if self._broken:
            raise RuntimeError("Sequencer is broken: a task waiting for its turn was cancelled")
        try:
            yield
        finally:
            self._current += 1
            self._lots[self._current].unpark_all()
