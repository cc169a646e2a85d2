"""Tests for tether.to_process (the worker-process pool) and run_in_executor.

Worker processes and the test talk through FIFOs in ``tmp_path``: a worker function
reports its pid (and its child's) on one and waits for a go-ahead byte on another, so
the test knows exactly where the worker is. Process exits are awaited on a pidfd, never
guessed with a sleep. The functions run in workers live in ``_process_helpers``.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import attrs
import pytest

import _process_helpers as helpers
import tether
import tether.lowlevel
from tether.testing import wait_all_tasks_blocked
from tether.to_process import (
    BrokenWorkerError,
    RemoteTraceback,
    UnpicklableResultError,
    configure,
    current_default_process_limiter,
    run_in_executor,
    run_sync,
)

SAFETY = 10.0  # seconds; a net under proper synchronisation, never the synchronisation

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs pidfd_open")


# ---------------------------------------------------------------------------------------
# Helpers


def process_state(pid: int) -> str | None:
    """The one-letter state of ``pid`` from /proc (``"Z"`` for a zombie), or None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):  # gone, or going as we read
        return None
    return stat.rpartition(")")[2].split()[0]


async def wait_until_dead(pid: int) -> None:
    """Wait until process ``pid`` has terminated (a zombie counts as terminated)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        await tether.lowlevel.wait_readable(fd)
    finally:
        tether.lowlevel.notify_closing(fd)
        os.close(fd)
    assert process_state(pid) in (None, "Z")


def is_running(pid: int) -> bool:
    return process_state(pid) not in (None, "Z")


@attrs.define
class Fifos:
    """A report FIFO (workers write a line of pids) and a go FIFO (we write a byte)."""

    report_path: str
    go_path: str
    report: tether.lowlevel.FdStream
    go_fd: int
    pending: bytes = b""

    async def read_numbers(self) -> list[int]:
        while b"\n" not in self.pending:
            chunk = await self.report.receive_some()
            assert chunk, "report FIFO closed"
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return [int(word) for word in line.split()]

    def go(self) -> None:
        os.write(self.go_fd, b"!")


@pytest.fixture
async def fifos(tmp_path: Path) -> AsyncIterator[Fifos]:
    report_path, go_path = tmp_path / "report", tmp_path / "go"
    os.mkfifo(report_path)
    os.mkfifo(go_path)
    # Opened read-write, so neither side's open() ever waits for the other.
    report = tether.lowlevel.FdStream(os.open(report_path, os.O_RDWR | os.O_NONBLOCK))
    go_fd = os.open(go_path, os.O_RDWR | os.O_NONBLOCK)
    try:
        yield Fifos(str(report_path), str(go_path), report, go_fd)
    finally:
        await report.aclose()
        os.close(go_fd)


# ---------------------------------------------------------------------------------------
# Results and exceptions


async def test_results_come_back_from_a_worker_process() -> None:
    assert await run_sync(helpers.add, 2, 3) == 5
    pid = await run_sync(helpers.getpid)
    assert pid != os.getpid()
    # Bigger than a pipe's buffer both ways: partial writes and reads.
    big = os.urandom(3 * 1024 * 1024)
    assert await run_sync(helpers.echo, big) == big
    # The worker is reused.
    assert await run_sync(helpers.getpid) == pid
    assert await run_sync(os.getpid) == pid


async def test_an_exception_carries_the_remote_traceback() -> None:
    with pytest.raises(ValueError, match=r"^boom$") as info:
        await run_sync(helpers.fail, "boom")
    cause = info.value.__cause__
    assert isinstance(cause, RemoteTraceback)
    assert "raise ValueError(message)" in cause.text
    assert "in fail" in cause.text
    assert str(cause).startswith("\n\nTraceback in the worker process:\n")
    # Printing the exception shows where it happened in the worker.
    printed = "".join(traceback.format_exception(info.value))
    assert "Traceback in the worker process" in printed
    assert "raise ValueError(message)" in printed


async def test_unpicklable_function_is_refused_before_anything_starts() -> None:
    secret = 3
    # Raised even in a cancelled scope: before the first checkpoint, so before any
    # worker could start.
    with tether.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(TypeError, match=r"could not pickle the function of .*<lambda>"):
            await run_sync(lambda: secret)

        def local() -> int:
            return secret

        with pytest.raises(TypeError, match=r"the function of .*local.*module-level function"):
            await run_sync(local)
        await tether.lowlevel.checkpoint()
    assert scope.cancelled_caught


async def test_unpicklable_argument_is_named() -> None:
    lock = threading.Lock()
    with pytest.raises(TypeError, match=r"could not pickle argument 1 \(<unlocked _thread.lock"):
        await run_sync(helpers.add, 1, lock)


async def test_unpicklable_result_or_exception() -> None:
    pid = await run_sync(helpers.getpid)
    with pytest.raises(UnpicklableResultError, match="could not pickle the function's return"):
        await run_sync(helpers.unpicklable_result)
    with pytest.raises(UnpicklableResultError, match=r"function's exception .*LockedError") as info:
        await run_sync(helpers.raise_unpicklable)
    assert isinstance(info.value, TypeError)
    # The original traceback still comes along.
    assert isinstance(info.value.__cause__, RemoteTraceback)
    assert "raise LockedError" in info.value.__cause__.text
    # Pickled in the worker, cannot be rebuilt here.
    with pytest.raises(UnpicklableResultError, match="could not unpickle") as info:
        await run_sync(helpers.raise_unrebuildable)
    assert isinstance(info.value.__cause__, TypeError)
    # None of that hurt the worker.
    assert await run_sync(helpers.getpid) == pid


async def test_bad_callables_are_type_errors() -> None:
    with pytest.raises(TypeError, match=r"expected a sync function.*async functions run in"):
        await run_sync(helpers.an_async_function)  # type: ignore[unused-coroutine]
    coroutine = helpers.an_async_function()
    with pytest.raises(TypeError, match="got a coroutine object"):
        await run_sync(coroutine)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a callable, not 42"):
        await run_sync(42)  # type: ignore[arg-type]
    # (The coroutine was closed: no "never awaited" warning, which would be an error here.)


# ---------------------------------------------------------------------------------------
# Worker death


@pytest.mark.parametrize(
    ("fn", "args", "description"),
    [
        (helpers.exit_now, (3,), "exit code 3"),
        (helpers.kill_self, (), "killed by SIGKILL"),
        (helpers.segfault, (), "killed by SIGSEGV"),
    ],
    ids=["os._exit", "SIGKILL", "segfault"],
)
async def test_a_dying_worker_raises_broken_worker_error(
    fn: Callable[..., None], args: tuple[object, ...], description: str
) -> None:
    pid = await run_sync(helpers.getpid)
    with pytest.raises(BrokenWorkerError, match=rf"\({pid}\) died during the call: {description}"):
        await run_sync(fn, *args)
    assert not is_running(pid)
    # The pool goes on with a fresh worker.
    new_pid = await run_sync(helpers.getpid)
    assert new_pid != pid
    assert await run_sync(helpers.add, 1, 1) == 2


async def test_a_worker_that_died_while_idle_is_replaced_quietly() -> None:
    pid = await run_sync(helpers.getpid)
    os.kill(pid, signal.SIGKILL)
    await wait_until_dead(pid)
    # The next call notices (before sending its job, or when the send hits a broken
    # pipe: nothing ran either way) and goes to a fresh worker instead of failing.
    new_pid = await run_sync(helpers.getpid)
    assert new_pid != pid


# ---------------------------------------------------------------------------------------
# Cancellation


async def test_cancellable_call_kills_the_worker_and_its_children(fifos: Fifos) -> None:
    finished = False

    async def call(scope: tether.CancelScope) -> None:
        nonlocal finished
        with scope:
            await run_sync(helpers.start_child_and_block, fifos.report_path, cancellable=True)
        finished = True

    scope = tether.CancelScope()
    with tether.fail_after(SAFETY):
        async with tether.open_nursery() as nursery:
            nursery.start_soon(call, scope)
            worker_pid, child_pid = await fifos.read_numbers()
            assert is_running(worker_pid)
            assert is_running(child_pid)
            scope.cancel()
        assert finished
        assert scope.cancelled_caught
        await wait_until_dead(worker_pid)
        # The worker's own child went with it: not left running as an orphan.
        await wait_until_dead(child_pid)
        # A fresh worker takes over.
        assert await run_sync(helpers.getpid) not in (worker_pid, child_pid)


async def test_uncancellable_call_finishes_before_cancellation(fifos: Fifos) -> None:
    results: list[object] = []

    async def call(scope: tether.CancelScope) -> None:
        with scope:
            results.append(
                await run_sync(helpers.report_and_wait_for_go, fifos.report_path, fifos.go_path, 7)
            )
            results.append("after the call")  # no checkpoint in between
            await tether.lowlevel.checkpoint()
            results.append("never")

    scope = tether.CancelScope()
    with tether.fail_after(SAFETY):
        async with tether.open_nursery() as nursery:
            nursery.start_soon(call, scope)
            (worker_pid,) = await fifos.read_numbers()
            scope.cancel()
            await wait_all_tasks_blocked()
            assert results == []  # shielded: still waiting for the answer
            assert is_running(worker_pid)
            fifos.go()
    # The answer was delivered, then the next checkpoint raised Cancelled.
    assert results == [7, "after the call"]
    assert scope.cancelled_caught
    # The worker was not harmed, and is reused.
    assert await run_sync(helpers.getpid) == worker_pid


async def test_cancelled_while_waiting_for_the_limiter() -> None:
    limiter = tether.CapacityLimiter(1)
    async with limiter:
        with tether.move_on_after(SAFETY) as scope:
            async with tether.open_nursery() as nursery:
                # Never gets the token.
                nursery.start_soon(functools.partial(run_sync, helpers.getpid, limiter=limiter))
                await wait_all_tasks_blocked()
                scope.cancel()
    assert scope.cancelled_caught


# ---------------------------------------------------------------------------------------
# Concurrency


async def test_limiter_bounds_concurrent_calls() -> None:
    limit = 2
    limiter = tether.CapacityLimiter(limit)
    stamps: list[tuple[int, float, float]] = []

    async def call() -> None:
        stamps.append(await run_sync(helpers.sleep_and_stamp, 0.05, limiter=limiter))

    async with tether.open_nursery() as nursery:
        for _ in range(3 * limit):
            nursery.start_soon(call)
        await wait_all_tasks_blocked()
        assert limiter.borrowed_tokens == limit
    assert len(stamps) == 3 * limit
    events = sorted([(start, 1) for _, start, _ in stamps] + [(end, -1) for _, _, end in stamps])
    running = most = 0
    for _, change in events:
        running += change
        most = max(most, running)
    assert 1 <= most <= limit
    # The pool started no more workers than could be busy at once.
    assert len({pid for pid, _, _ in stamps}) <= limit
    assert limiter.borrowed_tokens == 0


async def test_default_limiter_is_one_per_cpu() -> None:
    limiter = current_default_process_limiter()
    assert limiter is current_default_process_limiter()
    assert limiter.total_tokens == (os.cpu_count() or 1)


async def test_a_thousand_concurrent_calls() -> None:
    results: dict[int, int] = {}

    async def call(i: int) -> None:
        results[i] = await run_sync(helpers.add, i, 1)

    start = time.perf_counter()
    async with tether.open_nursery() as nursery:
        for i in range(1000):
            nursery.start_soon(call, i)
    elapsed = time.perf_counter() - start
    assert results == {i: i + 1 for i in range(1000)}
    assert elapsed < 30, f"1,000 trivial calls took {elapsed:.1f} s"


# ---------------------------------------------------------------------------------------
# The pool's lifetime


async def test_idle_workers_retire(autojump_clock: tether.testing.MockClock) -> None:
    configure(idle_timeout=10)
    pid = await run_sync(helpers.getpid)
    await tether.sleep(9)
    assert is_running(pid)
    assert await run_sync(helpers.getpid) == pid  # reuse restarts the idle clock
    await tether.sleep(9)
    assert await run_sync(helpers.getpid) == pid
    await tether.sleep(10.5)
    await wait_until_dead(pid)
    new_pid = await run_sync(helpers.getpid)
    assert new_pid != pid


async def test_only_expired_workers_retire(autojump_clock: tether.testing.MockClock) -> None:
    configure(idle_timeout=10)
    limiter = tether.CapacityLimiter(2)
    stamps: list[tuple[int, float, float]] = []

    async def call() -> None:
        stamps.append(await run_sync(helpers.sleep_and_stamp, 0.05, limiter=limiter))

    async with tether.open_nursery() as nursery:
        nursery.start_soon(call)
        nursery.start_soon(call)
    first, second = {pid for pid, _, _ in stamps}
    await tether.sleep(5)
    # Use one of them again (the pool hands out the last released first).
    kept = await run_sync(helpers.getpid)
    retired = first if kept == second else second
    await tether.sleep(5.5)
    await wait_until_dead(retired)
    assert is_running(kept)
    assert await run_sync(helpers.getpid) == kept


def test_no_worker_outlives_the_run() -> None:
    pids: set[int] = set()

    async def main() -> None:
        limiter = tether.CapacityLimiter(3)

        async def call() -> None:
            pid, _, _ = await run_sync(helpers.sleep_and_stamp, 0.05, limiter=limiter)
            pids.add(pid)

        async with tether.open_nursery() as nursery:
            for _ in range(6):
                nursery.start_soon(call)

    tether.run(main)
    assert pids
    # tether.run returned: every worker has exited and been reaped.
    assert {pid: process_state(pid) for pid in pids} == dict.fromkeys(pids)


# ---------------------------------------------------------------------------------------
# configure()


async def test_configure_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match="'fork' start method is unsafe"):
        configure(start_method="fork")
    with pytest.raises(ValueError, match="unknown start method 'teleport'"):
        configure(start_method="teleport")
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="idle_timeout must be positive"):
            configure(idle_timeout=bad)
    configure(idle_timeout=30)  # fine before the first call, and more than once
    configure(start_method="forkserver")
    await run_sync(helpers.getpid)
    with pytest.raises(RuntimeError, match="before the first worker starts"):
        configure(idle_timeout=5)


async def test_spawn_start_method() -> None:
    configure(start_method="spawn")
    pid = await run_sync(helpers.getpid)
    assert pid != os.getpid()
    with pytest.raises(ValueError, match="spawned"):
        await run_sync(helpers.fail, "spawned")


def test_a_worker_that_cannot_start_is_reported(tmp_path: Path) -> None:
    # A script without `if __name__ == "__main__":` runs tether.run again in each worker
    # as it re-imports the main module; multiprocessing refuses, and the worker exits.
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            """
            import os
            import tether

            async def main():
                return await tether.to_process.run_sync(os.getpid)

            tether.run(main)
            """
        )
    )
    completed = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert completed.returncode == 1
    assert "BrokenWorkerError: a worker process failed to start (exit code 1)" in completed.stderr
    assert "if __name__ == '__main__':" in completed.stderr


def test_cpu_bound_example() -> None:
    root = Path(__file__).resolve().parent.parent
    completed = subprocess.run(
        [sys.executable, str(root / "examples" / "cpu_bound.py"), "20000"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = completed.stdout
    assert "one worker process: 2,262 primes" in out
    assert "(8/8 done)" in out
    assert "8 chunks at once: 2,262 primes" in out
    assert "counting below 2,000,000: " in out


# ---------------------------------------------------------------------------------------
# run_in_executor


@pytest.fixture(params=["threads", "processes"])
def executor(request: pytest.FixtureRequest) -> Iterator[concurrent.futures.Executor]:
    pool: concurrent.futures.Executor
    if request.param == "threads":
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    else:
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("forkserver")
        )
    with pool:
        yield pool


async def test_run_in_executor_result_and_exception(
    executor: concurrent.futures.Executor,
) -> None:
    assert await run_in_executor(executor, helpers.add, 2, 3) == 5
    assert await run_sync(helpers.add, 4, 5, executor=executor) == 9
    with pytest.raises(ValueError, match="from the executor"):
        await run_in_executor(executor, helpers.fail, "from the executor")


async def test_run_in_executor_cancellation(
    executor: concurrent.futures.Executor,
    fifos: Fifos,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    marker = tmp_path / "queued call ran"
    done: list[str] = []

    async def call(
        name: str, scope: tether.CancelScope, fn: Callable[..., object], *args: object
    ) -> None:
        with scope:
            await run_in_executor(executor, fn, *args)
            done.append(name)
        if scope.cancelled_caught:
            done.append(f"{name} cancelled")

    started, queued = tether.CancelScope(), tether.CancelScope()
    with tether.fail_after(SAFETY):
        async with tether.open_nursery() as nursery:
            wait_for_go = (helpers.report_and_wait_for_go, fifos.report_path, fifos.go_path, None)
            nursery.start_soon(call, "started", started, *wait_for_go)
            await fifos.read_numbers()  # the executor is running it
            # A process pool moves up to two calls ahead into its call queue, where they
            # can no longer be cancelled: two fillers, then the call we cancel.
            for i in range(2):
                nursery.start_soon(call, f"filler {i}", tether.CancelScope(), helpers.add, i, 1)
            nursery.start_soon(call, "queued", queued, helpers.echo, str(marker))
            await wait_all_tasks_blocked()
            queued.cancel()
            await wait_all_tasks_blocked()
            assert done == ["queued cancelled"]
            # The started call cannot be stopped: it is abandoned, at once.
            started.cancel()
            await wait_all_tasks_blocked()
            assert done == ["queued cancelled", "started cancelled"]
            fifos.go()
    assert sorted(done) == ["filler 0", "filler 1", "queued cancelled", "started cancelled"]
    with caplog.at_level(logging.ERROR):
        executor.shutdown(wait=True)
    assert not marker.exists()
    assert not caplog.records


def test_run_in_executor_call_abandoned_past_the_end_of_the_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = threading.Event()

    async def main() -> None:
        with tether.move_on_after(0.01):
            await run_in_executor(pool, release.wait, SAFETY)

    with (
        concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool,
        caplog.at_level(logging.ERROR),
    ):
        tether.run(main)
        release.set()  # finishes after the run is over: its result goes nowhere
        pool.shutdown(wait=True)
    assert not caplog.records


async def test_run_in_executor_submits_nothing_when_already_cancelled() -> None:
    ran: list[int] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        with tether.CancelScope() as scope:
            scope.cancel()
            await run_in_executor(pool, ran.append, 1)
    assert scope.cancelled_caught
    assert ran == []


async def test_run_in_executor_wants_an_executor() -> None:
    with pytest.raises(TypeError, match=r"must be a concurrent.futures.Executor"):
        await run_in_executor(object(), helpers.add, 1, 2)  # type: ignore[arg-type]


async def test_run_in_executor_on_a_dask_cluster() -> None:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            processes=False,
            protocol="tcp://",
            host="127.0.0.1",
            n_workers=1,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        executor = client.get_executor()
        assert await run_in_executor(executor, helpers.add, 20, 22) == 42
        with pytest.raises(ValueError, match="on dask"):
            await run_in_executor(executor, helpers.fail, "on dask")
