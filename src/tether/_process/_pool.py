"""Tier 5: to_process, a pool of long-lived worker processes driven through the kernel.

The parent never parks a thread per call: each worker's pipes are non-blocking and the
calling task waits on them with ``wait_readable`` / ``wait_writable``. Workers are
started lazily (in a worker thread, since starting a process blocks), reused, retired
after an idle timeout, and all shut down when the run ends.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

import attrs

from .. import to_thread
from .._core import (
    CancelScope,
    ParkingLot,
    RunVar,
    checkpoint_if_cancelled,
    current_task,
    current_time,
    notify_closing,
    spawn_system_task,
    wait_readable,
    wait_writable,
)
from .._core._util import check_sync_fn
from .._sync import CapacityLimiter, borrow_token
from .._timeouts import move_on_at
from ._executor import run_in_executor
from ._worker import READY, UnpicklableResultError, frame, worker_main

T = TypeVar("T")

DEFAULT_IDLE_TIMEOUT = 600.0
DEFAULT_START_METHOD = "forkserver" if sys.platform == "linux" else "spawn"


class BrokenWorkerError(RuntimeError):
    """A worker process died (crashed, was killed, called ``os._exit``) while running a
    call. The pool replaces it; the call's result is lost."""


class RemoteTraceback(Exception):
    """Attached as ``__cause__`` of an exception raised in a worker: where it happened."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f"\n\nTraceback in the worker process:\n{self.text}"


@attrs.define
class ProcessPoolConfig:
    """Per-run settings of the worker pool; see :func:`configure`."""

    start_method: str = DEFAULT_START_METHOD
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT


_config: RunVar[ProcessPoolConfig] = RunVar("tether.to_process config")
_pool_var: RunVar[_Pool] = RunVar("tether.to_process pool")
_limiter_var: RunVar[CapacityLimiter] = RunVar("tether.to_process limiter")


def configure(*, start_method: str | None = None, idle_timeout: float | None = None) -> None:
    """Set this run's worker-pool options, before its first :func:`run_sync` call.

    ``start_method``: a :mod:`multiprocessing` start method (default ``"forkserver"`` on
    Linux, ``"spawn"`` elsewhere; a bare ``"fork"`` is refused, as it is unsafe in a
    program with threads). ``idle_timeout``: seconds an unused worker lives.
    """
    try:
        _pool_var.get()
    except LookupError:
        pass
    else:
        raise RuntimeError("to_process.configure must be called before the first worker starts")
    config = _current_config()
    if start_method is not None:
        if start_method == "fork":
            raise ValueError("the 'fork' start method is unsafe with threads; use forkserver")
        if start_method not in multiprocessing.get_all_start_methods():
            raise ValueError(f"unknown start method {start_method!r}")
        config.start_method = start_method
    if idle_timeout is not None:
        if not idle_timeout > 0:
            raise ValueError("idle_timeout must be positive")
        config.idle_timeout = float(idle_timeout)


def _current_config() -> ProcessPoolConfig:
    try:
        return _config.get()
    except LookupError:
        config = ProcessPoolConfig()
        _config.set(config)
        return config


def current_default_process_limiter() -> CapacityLimiter:
    """The :class:`~tether.CapacityLimiter` bounding concurrent :func:`run_sync` calls in
    this run: ``os.cpu_count()`` tokens by default."""
    try:
        return _limiter_var.get()
    except LookupError:
        limiter = CapacityLimiter(os.cpu_count() or 1)
        _limiter_var.set(limiter)
        return limiter


# -- pipes -----------------------------------------------------------------------------------


class _Pipe:
    """Non-blocking reads and writes of multiprocessing-framed messages on one fd."""

    __slots__ = ("__weakref__", "_buffer", "fd")

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self.fd = fd
        # Bytes read past the current message: one read usually brings header and body.
        self._buffer = bytearray()

    def fileno(self) -> int:
        return self.fd

    async def write(self, payload: bytes) -> None:
        with memoryview(frame(payload)) as view:
            sent = 0
            while sent < len(view):
                try:
                    sent += os.write(self.fd, view[sent:])
                except BlockingIOError:
                    await wait_writable(self)

    async def _read_exactly(self, count: int) -> bytes:
        buffer = self._buffer
        while len(buffer) < count:
            try:
                chunk = os.read(self.fd, max(65536, count - len(buffer)))
            except BlockingIOError:
                await wait_readable(self)
                continue
            if not chunk:
                raise EOFError
            buffer += chunk
        data = bytes(buffer[:count])
        del buffer[:count]
        return data

    async def read(self) -> bytes:
        if not self._buffer:
            # The answer to a job we just sent cannot be here yet: wait before reading,
            # rather than spend a read system call on EAGAIN first.
            await wait_readable(self)
        (size,) = struct.unpack("!i", await self._read_exactly(4))
        if size == -1:
            (size,) = struct.unpack("!Q", await self._read_exactly(8))
        return await self._read_exactly(size)

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            try:
                notify_closing(fd)
            except RuntimeError:  # pragma: no cover  # outside a run
                pass
            os.close(fd)


# -- workers ----------------------------------------------------------------------------------


class _Worker:
    def __init__(self, context: Any) -> None:
        jobs_r, jobs_w = context.Pipe(duplex=False)
        results_r, results_w = context.Pipe(duplex=False)
        self.process = context.Process(
            target=worker_main, args=(jobs_r, results_w), daemon=True, name="tether worker"
        )
        self.process.start()
        jobs_r.close()
        results_w.close()
        # Our ends become raw fds that the I/O backend can watch.
        self.jobs = _Pipe(os.dup(jobs_w.fileno()))
        self.results = _Pipe(os.dup(results_r.fileno()))
        jobs_w.close()
        results_r.close()
        self.idle_since = 0.0

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    async def handshake(self) -> None:
        if await self.results.read() != READY:  # pragma: no cover  # protocol error
            raise BrokenWorkerError("worker process sent an unexpected greeting")

    async def call(self, payload: bytes) -> bytes:
        await self.jobs.write(payload)
        return await self.results.read()

    def kill(self) -> None:
        """Kill the worker and everything in its process group."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.close_pipes()

    def close_pipes(self) -> None:
        self.jobs.close()
        self.results.close()

    def exit_description(self) -> str:
        code = self.process.exitcode
        if code is None:
            return "it is still running"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:  # pragma: no cover
                return f"killed by signal {-code}"
        return f"exit code {code}"


class _Pool:
    def __init__(self, config: ProcessPoolConfig) -> None:
        self.config = config
        self.context = multiprocessing.get_context(config.start_method)
        if config.start_method == "forkserver":
            self.context.set_forkserver_preload(["tether._process._worker"])
        self.idle: list[_Worker] = []
        self.busy: set[_Worker] = set()
        self.changed = ParkingLot()
        spawn_system_task(self._janitor, name="<tether process-pool janitor>")

    async def get_worker(self) -> _Worker:
        if self.idle:
            # Not checked for liveness: a worker that died while idle fails the job's
            # write with BrokenPipeError, and run_sync moves the call to another worker.
            worker = self.idle.pop()
            self.busy.add(worker)
            return worker
        # Starting a process blocks (fork server round trip, or a whole interpreter with
        # spawn): do it in a thread, and let nothing interrupt it half way.
        with CancelScope(shield=True):
            worker = await to_thread.run_sync(_Worker, self.context)
            self.busy.add(worker)
            try:
                await worker.handshake()
            except EOFError:
                self.discard(worker)
                raise BrokenWorkerError(
                    f"a worker process failed to start ({worker.exit_description()}); its "
                    "error output says why (often: the main module cannot be re-imported, "
                    "e.g. code run from stdin, or a missing `if __name__ == '__main__':`)"
                ) from None
            except BaseException:
                self.discard(worker)
                raise
        return worker

    def release(self, worker: _Worker) -> None:
        self.busy.discard(worker)
        worker.idle_since = current_time()
        # The janitor sleeps until the oldest idle worker expires; a newer one cannot
        # move that earlier, so it only needs waking when the idle list was empty.
        if not self.idle:
            self.changed.unpark_all()
        self.idle.append(worker)

    def discard(self, worker: _Worker) -> None:
        self.busy.discard(worker)
        worker.kill()
        worker.process.join(1)

    async def _janitor(self) -> None:
        try:
            while True:
                deadline = math.inf
                if self.idle:
                    deadline = min(w.idle_since for w in self.idle) + self.config.idle_timeout
                with move_on_at(deadline):
                    await self.changed.park()
                expired = current_time() - self.config.idle_timeout
                for worker in [w for w in self.idle if w.idle_since <= expired]:
                    self.idle.remove(worker)
                    await self._retire(worker)
        finally:
            # The run is ending: no more worker threads may start (the thread cache is
            # being emptied too), so wait for the workers here. They exit at once on EOF.
            workers = self.idle + list(self.busy)
            for worker in workers:
                worker.close_pipes()
            for worker in workers:
                worker.process.join(2.0)
                if worker.process.exitcode is None:  # pragma: no cover  # stuck: force it
                    worker.kill()
                    worker.process.join(2.0)
            self.idle.clear()
            self.busy.clear()

    @staticmethod
    async def _retire(worker: _Worker) -> None:
        worker.close_pipes()  # the worker sees EOF and exits
        await to_thread.run_sync(worker.process.join, 2.0)
        if worker.process.exitcode is None:  # pragma: no cover  # stuck: force it
            worker.kill()
            await to_thread.run_sync(worker.process.join, 2.0)


def _pool() -> _Pool:
    try:
        return _pool_var.get()
    except LookupError:
        pool = _Pool(_current_config())
        _pool_var.set(pool)
        return pool


def _pickle_call(fn: Callable[..., Any], args: tuple[Any, ...]) -> bytes:
    try:
        return pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        culprit = "the function"
        try:
            pickle.dumps(fn)
        except Exception:
            pass
        else:
            for index, arg in enumerate(args):
                try:
                    pickle.dumps(arg)
                except Exception:
                    culprit = f"argument {index} ({arg!r:.80})"
                    break
        name = getattr(fn, "__qualname__", repr(fn))
        raise TypeError(
            f"to_process.run_sync could not pickle {culprit} of {name}: {exc}. Worker "
            "processes receive the function by reference and the arguments by value: use "
            "a module-level function and picklable arguments"
        ) from exc


async def run_sync(
    sync_fn: Callable[..., T],
    *args: object,
    cancellable: bool = False,
    limiter: CapacityLimiter | None = None,
    executor: Executor | None = None,
) -> T:
    """Run ``sync_fn(*args)`` in a worker process and return its result.

    An exception raised in the worker is raised here, with the worker's traceback
    attached as ``__cause__`` (a :class:`RemoteTraceback`). The function and arguments
    must be picklable (a module-level function, plain data); if not, ``TypeError``
    names what could not be pickled, before any worker starts.

    ``cancellable=False`` (default): once the call runs, cancellation waits for it to
    finish (the result is then returned; the next checkpoint raises ``Cancelled``).
    ``cancellable=True``: cancelling kills the worker and its children at once; the pool
    starts a fresh one when needed. A worker that dies mid-call raises
    :exc:`BrokenWorkerError`. ``limiter`` bounds concurrency (default:
    :func:`current_default_process_limiter`). ``executor`` sends the call to any
    :class:`concurrent.futures.Executor` instead (see :func:`run_in_executor`).
    """
    check_sync_fn(sync_fn, "to_process.run_sync", "worker processes")
    if executor is not None:
        return await run_in_executor(executor, sync_fn, *args)
    payload = _pickle_call(sync_fn, args)
    await checkpoint_if_cancelled()
    if limiter is None:
        limiter = current_default_process_limiter()
    borrower = current_task()
    await borrow_token(limiter, borrower)  # a checkpoint already: see borrow_token
    try:
        pool = _pool()
        while True:
            worker = await pool.get_worker()
            try:
                if cancellable:
                    answer = await worker.call(payload)
                else:
                    with CancelScope(shield=True):
                        answer = await worker.call(payload)
            except BrokenPipeError:
                # The worker died while idle and our job never reached it, so nothing ran:
                # give the call to another worker. (multiprocessing reaps the dead one when
                # it next starts a process.)
                pool.busy.discard(worker)
                worker.close_pipes()
                continue
            except EOFError:
                pool.busy.discard(worker)
                worker.close_pipes()
                await to_thread.run_sync(worker.process.join, 5.0)
                raise BrokenWorkerError(
                    f"the worker process ({worker.pid}) died during the call: "
                    f"{worker.exit_description()}"
                ) from None
            except BaseException:
                pool.discard(worker)
                raise
            pool.release(worker)
            break
    finally:
        limiter.release_on_behalf_of(borrower)
    try:
        result = pickle.loads(answer)
    except Exception as exc:
        # Pickled in the worker but cannot be rebuilt here: e.g. an exception class whose
        # __init__ takes other arguments than it passes to Exception.__init__.
        raise UnpicklableResultError(
            f"to_process could not unpickle what {getattr(sync_fn, '__qualname__', sync_fn)!r} "
            f"sent back from the worker process: {exc!r}"
        ) from exc
    if result[0]:
        return result[1]  # type: ignore[no-any-return]
    error: BaseException = result[1]
    error.__cause__ = RemoteTraceback(result[2])
    raise error
