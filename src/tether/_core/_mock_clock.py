"""MockClock: virtual time for tests (re-exported by tether.testing)."""

from __future__ import annotations

import time
from math import inf

from ._abc import Clock
from ._global import GLOBAL_RUN_CONTEXT


class MockClock(Clock):
    """A clock for tests, whose time moves only when you (or the run loop) say so.

    ``rate`` is how many virtual seconds pass per real second (0: time stands still
    unless jumped). ``autojump_threshold``: once every task has been blocked for that many
    real seconds, the clock jumps straight to the next deadline, so a test full of
    timeouts runs in no time; ``0`` jumps as soon as everything is blocked.
    """

    def __init__(self, rate: float = 0.0, autojump_threshold: float = inf) -> None:
        self._real_base = 0.0
        self._virtual_base = 0.0
        self._rate = 0.0
        self._autojump_threshold = inf
        self.rate = rate
        self.autojump_threshold = autojump_threshold

    def __repr__(self) -> str:
        return f"<MockClock, time={self.current_time():.7f}, rate={self._rate} @ {id(self):#x}>"

    @property
    def rate(self) -> float:
        return self._rate

    @rate.setter
    def rate(self, new_rate: float) -> None:
        new_rate = float(new_rate)
        if new_rate < 0:
            raise ValueError("rate must be >= 0")
        real = time.perf_counter()
        self._virtual_base = self._real_to_virtual(real)
        self._real_base = real
        self._rate = new_rate

    @property
    def autojump_threshold(self) -> float:
        return self._autojump_threshold

    @autojump_threshold.setter
    def autojump_threshold(self, new_threshold: float) -> None:
        new_threshold = float(new_threshold)
        if new_threshold < 0:
            raise ValueError("autojump_threshold must be >= 0")
        self._autojump_threshold = new_threshold
        runner = GLOBAL_RUN_CONTEXT.runner
        if runner is not None and runner.clock is self:
            runner.clock_autojump_threshold = new_threshold
            runner.io.wakeup_threadsafe()  # so a blocked loop re-reads the threshold

    def _real_to_virtual(self, real: float) -> float:
        return self._virtual_base + self._rate * (real - self._real_base)

    def start_clock(self) -> None:
        runner = GLOBAL_RUN_CONTEXT.runner
        if runner is not None and runner.clock is self:
            runner.clock_autojump_threshold = self._autojump_threshold

    def current_time(self) -> float:
        return self._real_to_virtual(time.perf_counter())

    def deadline_to_sleep_time(self, deadline: float) -> float:
        virtual_timeout = deadline - self.current_time()
        if virtual_timeout <= 0:
            return 0.0
        if self._rate > 0:
            return virtual_timeout / self._rate
        return 999_999_999.0

    def jump(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (which must be >= 0)."""
        if seconds < 0:
            raise ValueError("time can't go backwards")
        self._virtual_base += seconds

    def _autojump(self) -> None:
        runner = GLOBAL_RUN_CONTEXT.runner
        if runner is None:
            return
        jump = runner.deadlines.next_deadline() - self.current_time()
        if 0 < jump < inf:
            self.jump(jump)
