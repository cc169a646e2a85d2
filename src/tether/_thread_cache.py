"""Tier 5: a cache of worker threads, so a call costs a hand-off, not a thread start.

Jobs go into one shared queue. A worker that finishes a job takes the next queued one
itself, without going to sleep, so a burst of jobs is drained by a few busy threads
instead of waking one sleeping thread per job.

That must not cost the guarantee that every job starts promptly, even when every busy
worker is blocked in user code forever. The rule that keeps it: whenever the queue is not
empty, at least one worker is *searching*, i.e. awake (or being woken, or being started)
and bound to look at the queue before it runs user code or sleeps. A searcher that takes
a job stops searching; if jobs remain and nobody else is searching, it first makes
another worker search. So the jobs of a burst start one wake-up apart, and a blocked job
never holds up the ones queued behind it.

A sleeping worker waits on its own lock; it retires after ``IDLE_TIMEOUT`` seconds.
``retire_idle`` lets a run that is ending send its sleeping workers home, so no thread
outlives ``tether.run``.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._core._outcome import Error, Value, capture, to_outcome

if TYPE_CHECKING:
    import outcome

IDLE_TIMEOUT = 10.0

# Inside tether a job's result is the kernel's Value / Error: importing ``outcome`` (and
# attrs) would cost more than the first dozen calls. The public start_thread_soon converts.
Deliver = Callable[[Value | Error], object]
Job = tuple[Callable[[], Any], Deliver, str | None]
_names = itertools.count(1)
_RETIRE: Any = object()


class _Worker:
    __slots__ = ("_cache", "_wake_reason", "_woken", "thread")

    def __init__(self, cache: ThreadCache) -> None:
        self._cache = cache
        self._woken = threading.Lock()
        self._woken.acquire()
        self._wake_reason: object = None
        self.thread = threading.Thread(
            target=self._loop, name=f"tether worker thread {next(_names)}", daemon=True
        )

    def wake(self, reason: object = None) -> None:
        """Wake this sleeping worker: to search (``None``) or to retire (``_RETIRE``)."""
        self._wake_reason = reason
        self._woken.release()

    def _loop(self) -> None:
        take_job = self._cache._take_job
        job = take_job(self)  # a new worker starts out searching
        while True:
            if job is not None:
                self._run(job)  # its own frame: nothing of the job stays alive while we sleep
            elif not self._sleep():
                return
            job = take_job(self)

    def _run(self, job: Job) -> None:
        fn, deliver, name = job
        thread = self.thread
        idle_name = thread.name
        if name is not None:
            thread.name = name
        try:
            result = capture(fn)
        finally:
            thread.name = idle_name
        # Count as searching again before delivering: the caller may submit its next job as
        # soon as it has this result, and then finds us awake to take it.
        cache = self._cache
        with cache._lock:
            cache._searching += 1
        try:
            deliver(result)
        except BaseException as exc:
            # A buggy deliver must not kill a worker that is counted as searching (queued
            # jobs would wait for it): report it as an uncaught thread error.
            threading.excepthook(
                threading.ExceptHookArgs((type(exc), exc, exc.__traceback__, thread))
            )

    def _sleep(self) -> bool:
        """Wait to be woken; False when it is time to exit."""
        while not self._woken.acquire(timeout=IDLE_TIMEOUT):
            with self._cache._lock:
                if self._cache._idle.pop(self, _RETIRE) is not _RETIRE:
                    return False  # idle too long, and nobody claimed us meanwhile
            # else: someone popped us and is about to wake us; wait for it
        reason, self._wake_reason = self._wake_reason, None
        return reason is not _RETIRE


class ThreadCache:
    """Runs jobs on reusable worker threads, starting a new one only when none is idle."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)  # a searcher went idle
        self._retiring = 0  # how many retire_idle calls wait on _settled
        self._queue: deque[Job] = deque()
        # dict as an ordered set: popitem() takes the most recently idled (warmest) worker.
        self._idle: dict[_Worker, None] = {}
        self._searching = 0

    def start_thread_soon(
        self,
        fn: Callable[[], Any],
        deliver: Deliver,
        name: str | None = None,
    ) -> None:
        """Run ``fn()`` in a worker thread, then ``deliver(result)`` in that same thread."""
        job = (fn, deliver, name)
        with self._lock:
            self._queue.append(job)
            if self._searching:
                return  # an awake worker will take it
            worker = self._new_searcher()
        try:
            self._start_search(worker)
        except BaseException:
            # No thread could be started (the OS is out of them): take the job back, unless
            # a worker that just finished got to it first, and let the caller see why.
            with self._lock:
                try:
                    self._queue.remove(job)
                except ValueError:
                    return
            raise

    def _new_searcher(self) -> _Worker | None:
        # Under the lock: count one more searcher and pick who it is (None: a new thread).
        self._searching += 1
        if self._idle:
            return self._idle.popitem()[0]
        return None

    def _start_search(self, worker: _Worker | None) -> None:
        # Outside the lock: wake the chosen sleeper, or start a thread that starts searching.
        if worker is not None:
            worker.wake()
            return
        try:
            _Worker(self).thread.start()
        except BaseException:
            with self._lock:
                self._searching -= 1
            raise

    def _take_job(self, worker: _Worker) -> Job | None:
        """A searching worker's next job, or None after it was filed as idle."""
        with self._lock:
            self._searching -= 1
            if not self._queue:
                self._idle[worker] = None
                if self._retiring:
                    self._settled.notify_all()
                return None
            job = self._queue.popleft()
            successor: _Worker | None = None
            need_successor = bool(self._queue) and not self._searching
            if need_successor:
                successor = self._new_searcher()
        if need_successor:
            try:
                self._start_search(successor)
            except Exception:
                # Out of threads: the queued jobs wait until a busy worker finishes (they
                # are not lost); this worker still runs the job it took.
                pass
        return job

    def retire_idle(self, join_timeout: float = 1.0) -> None:
        """Stop every worker that is not running a job, and wait (briefly) for them to exit.

        Workers still searching (one that just delivered the run's last result may be)
        are given up to ``join_timeout`` to settle first."""
        with self._lock:
            self._retiring += 1
            try:
                self._settled.wait_for(
                    lambda: not self._searching or bool(self._queue), join_timeout
                )
            finally:
                self._retiring -= 1
            retired = list(self._idle)
            self._idle.clear()
        for worker in retired:
            worker.wake(_RETIRE)
        for worker in retired:
            worker.thread.join(join_timeout)


THREAD_CACHE = ThreadCache()


def _forget_workers_after_fork() -> None:
    # A forked child has none of the parent's worker threads (and perhaps a copy of the
    # lock held by one of them): start it with an empty cache of its own.
    THREAD_CACHE.__init__()  # type: ignore[misc]


os.register_at_fork(after_in_child=_forget_workers_after_fork)


def start_thread_soon(
    fn: Callable[[], Any],
    deliver: Callable[[outcome.Outcome[Any]], object],
    *,
    name: str | None = None,
) -> None:
    """Run ``fn()`` in a cached worker thread and pass its ``outcome.Outcome`` to ``deliver``
    (called in that thread). The low-level building block under
    :func:`tether.to_thread.run_sync`."""

    def deliver_outcome(result: Value | Error) -> object:
        return deliver(to_outcome(result))

    THREAD_CACHE.start_thread_soon(fn, deliver_outcome, name)
