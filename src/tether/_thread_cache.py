"""Tier 5: a cache of worker threads, so a call costs a hand-off, not a thread start.

An idle worker waits on its own lock for a job; handing it one is a dict pop and a lock
release. A worker idle for ``IDLE_TIMEOUT`` seconds retires. ``retire_idle`` lets a run
that is ending send its idle workers home, so no thread outlives ``tether.run``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

import outcome

IDLE_TIMEOUT = 10.0

Job = tuple[Callable[[], Any], Callable[[outcome.Outcome[Any]], object], str | None]
_names = itertools.count(1)


class _Worker:
    __slots__ = ("_cache", "_job", "_ready", "thread")

    def __init__(self, cache: ThreadCache) -> None:
        self._cache = cache
        self._job: Job | None = None
        self._ready = threading.Lock()
        self._ready.acquire()
        self.thread = threading.Thread(
            target=self._loop, name=f"tether worker thread {next(_names)}", daemon=True
        )
        self.thread.start()

    def give(self, job: Job | None) -> None:
        self._job = job
        self._ready.release()

    def _run(self, job: Job) -> None:
        fn, deliver, name = job
        thread = threading.current_thread()
        idle_name = thread.name
        if name is not None:
            thread.name = name
        try:
            result = outcome.capture(fn)
        finally:
            thread.name = idle_name
        # Become available before delivering, so a job that `deliver` triggers can reuse us.
        self._cache._idle[self] = None
        try:
            deliver(result)
        except BaseException as exc:
            # A buggy deliver must not kill a worker that is already back in the pool (the
            # next job handed to it would be lost): report it as an uncaught thread error.
            threading.excepthook(
                threading.ExceptHookArgs(
                    (type(exc), exc, exc.__traceback__, threading.current_thread())
                )
            )

    def _loop(self) -> None:
        while True:
            if self._ready.acquire(timeout=IDLE_TIMEOUT):
                job, self._job = self._job, None
                if job is None:
                    return  # retired
                self._run(job)
            elif self._cache._idle.pop(self, _MISSING) is not _MISSING:
                return  # idle too long, and nobody claimed us meanwhile
            # else: a job is being handed to us right now; loop and take it


_MISSING: Any = object()


class ThreadCache:
    """Hands jobs to idle workers, starting a new one only when none is idle."""

    def __init__(self) -> None:
        # dict as an ordered set: popitem() takes the most recently idled (warmest) worker.
        self._idle: dict[_Worker, None] = {}

    def start_thread_soon(
        self,
        fn: Callable[[], Any],
        deliver: Callable[[outcome.Outcome[Any]], object],
        name: str | None = None,
    ) -> None:
        """Run ``fn()`` in a worker thread, then ``deliver(outcome)`` in that same thread."""
        try:
            worker, _ = self._idle.popitem()
        except KeyError:
            worker = _Worker(self)
        worker.give((fn, deliver, name))

    def retire_idle(self, join_timeout: float = 1.0) -> None:
        """Stop every idle worker and wait (briefly) for them to exit."""
        retired: list[_Worker] = []
        while True:
            try:
                worker, _ = self._idle.popitem()
            except KeyError:
                break
            worker.give(None)
            retired.append(worker)
        for worker in retired:
            worker.thread.join(join_timeout)

    def idle_count(self) -> int:
        return len(self._idle)


THREAD_CACHE = ThreadCache()


def start_thread_soon(
    fn: Callable[[], Any],
    deliver: Callable[[outcome.Outcome[Any]], object],
    *,
    name: str | None = None,
) -> None:
    """Run ``fn()`` in a cached worker thread and pass its outcome to ``deliver`` (called in
    that thread). The low-level building block under :func:`tether.to_thread.run_sync`."""
    THREAD_CACHE.start_thread_soon(fn, deliver, name)
