"""Functions that tests/test_to_process.py runs in worker processes.

Workers receive functions by reference, so these live in a module that a worker can
import. Worker processes inherit the parent's ``sys.path`` when they start (each one,
forkserver or spawn, gets the parent's current path in its preparation data), and pytest
puts this directory on ``sys.path`` (rootdir-relative "prepend" imports, no conftest), so
``import _process_helpers`` works in the workers as it does in the tests.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import threading
import time


def add(a: int, b: int) -> int:
    return a + b


def echo(value: object) -> object:
    return value


def getpid() -> int:
    return os.getpid()


def fail(message: str) -> None:
    raise ValueError(message)


def exit_now(code: int) -> None:
    os._exit(code)


def kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def segfault() -> None:
    # No core file in the working directory, whatever the shell's ulimit says.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    ctypes.string_at(0)


def unpicklable_result() -> object:
    return threading.Lock()


class LockedError(Exception):
    """An exception carrying something that cannot be pickled."""

    def __init__(self) -> None:
        super().__init__("holds a lock")
        self.lock = threading.Lock()


def raise_unpicklable() -> None:
    raise LockedError


class TwoArgumentError(Exception):
    """Pickles fine, but cannot be rebuilt: unpickling calls it with one argument."""

    def __init__(self, first: str, second: str) -> None:
        super().__init__(first)
        self.second = second


def raise_unrebuildable() -> None:
    raise TwoArgumentError("first", "second")


async def an_async_function() -> None:
    pass


def sleep_and_stamp(seconds: float) -> tuple[int, float, float]:
    """Sleep; report the pid and when the call started and ended (CLOCK_MONOTONIC is one
    clock for all processes on the machine)."""
    start = time.monotonic()
    time.sleep(seconds)
    return os.getpid(), start, time.monotonic()


def _report(fifo: str, *numbers: int) -> None:
    with open(fifo, "w") as stream:
        stream.write(" ".join(map(str, numbers)) + "\n")


def start_child_and_block(report_fifo: str) -> None:
    """Start a ``sleep`` child, report both pids, and wait for the child (a long time)."""
    child = subprocess.Popen(["sleep", "60"])
    _report(report_fifo, os.getpid(), child.pid)
    child.wait()


def report_and_wait_for_go(report_fifo: str, go_fifo: str, value: object) -> object:
    """Report our pid, then block until a byte arrives on ``go_fifo``; return ``value``."""
    _report(report_fifo, os.getpid())
    with open(go_fifo, "rb") as go:
        go.read(1)
    return value


def count_primes(start: int, stop: int) -> int:
    """A pure-Python CPU-bound loop."""
    found = 0
    for n in range(max(start, 2), stop):
        if all(n % d for d in range(2, int(n**0.5) + 1)):
            found += 1
    return found
