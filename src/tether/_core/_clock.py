"""The default clock: monotonic real time from an arbitrary (random) origin."""

from __future__ import annotations

import os
import time

from ._abc import Clock


class SystemClock(Clock):
    """Real time, from :func:`time.perf_counter`, offset by a random amount per clock."""

    __slots__ = ("_offset",)

    def __init__(self) -> None:
        # A random origin per clock catches code that mixes tether time with
        # time.monotonic(). (os.urandom rather than the random module: import time.)
        self._offset = 10_000 + int.from_bytes(os.urandom(4)) % 190_000

    def start_clock(self) -> None:
        pass

    def current_time(self) -> float:
        return self._offset + time.perf_counter()

    def deadline_to_sleep_time(self, deadline: float) -> float:
        return deadline - self.current_time()
