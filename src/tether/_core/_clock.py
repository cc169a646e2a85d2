"""The default clock: monotonic real time from an arbitrary (random) origin."""

from __future__ import annotations

import random
import time

from ._abc import Clock

# A random origin per run catches code that mixes tether time with time.monotonic().
_r = random.Random()


class SystemClock(Clock):
    """Real time, from :func:`time.perf_counter`, offset by a random amount per clock."""

    __slots__ = ("_offset",)

    def __init__(self) -> None:
        self._offset = _r.uniform(10_000, 200_000)

    def start_clock(self) -> None:
        pass

    def current_time(self) -> float:
        return self._offset + time.perf_counter()

    def deadline_to_sleep_time(self, deadline: float) -> float:
        return deadline - self.current_time()
