"""Subprocesses, continued: failed starts leak nothing, run_process's stdin and capture
options, the SIGTERM-then-SIGKILL escalation, waiting without pidfd, and a Process that
outlives its run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

import tether
import tether._subprocess
from tether.testing import MockClock


def _open_fds() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


async def test_a_command_that_cannot_start_leaks_no_pipes() -> None:
    before = _open_fds()
    with pytest.raises(FileNotFoundError):
        await tether.open_process(
            ["/nonexistent/program"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    assert _open_fds() <= before


async def test_run_process_option_conflicts() -> None:
    with pytest.raises(ValueError, match="capture_stderr"):
        await tether.run_process(["true"], capture_stderr=True, stderr=subprocess.DEVNULL)
    with pytest.raises(TypeError, match="bytes, not str"):
        await tether.run_process(["cat"], stdin="text")  # type: ignore[arg-type]


async def test_run_process_stdin_can_be_anything_popen_takes() -> None:
    result = await tether.run_process(
        [sys.executable, "-c", "import sys; print(repr(sys.stdin.read()))"],
        stdin=subprocess.DEVNULL,
        capture_stdout=True,
    )
    assert result.stdout.strip() == b"''"


async def test_a_child_that_ignores_its_input_is_fine() -> None:
    # More input than a pipe holds, and a child that exits without reading it: the
    # broken pipe is the child's business, not an error of run_process.
    result = await tether.run_process(
        [sys.executable, "-c", "pass"], stdin=b"x" * (4 << 20), capture_stdout=True
    )
    assert result.returncode == 0
    assert result.stdout == b""


async def test_cancelled_child_that_ignores_sigterm_is_killed_after_the_grace(
    autojump_clock: MockClock,
) -> None:
    program = (
        "import signal, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); sys.stdin.read()"
    )
    async with tether.open_nursery() as nursery:
        process: tether.Process = await nursery.start(
            lambda task_status: tether.run_process(
                [sys.executable, "-c", program],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                task_status=task_status,
            )
        )
        assert process.stdout is not None
        # Once it says "ready" it ignores SIGTERM. (No deadline here: the autojump clock
        # would jump to it while the child starts.)
        received = b""
        while b"ready" not in received:
            received += await process.stdout.receive_some()
        start = tether.current_time()
        nursery.cancel_scope.cancel()
    assert process.returncode == -signal.SIGKILL
    # SIGTERM was ignored; SIGKILL came after the default grace period (virtual time).
    assert tether.current_time() - start == pytest.approx(
        tether._subprocess.TERMINATE_GRACE_SECONDS, abs=1
    )


async def test_waiting_works_without_pidfd(monkeypatch: pytest.MonkeyPatch) -> None:
    # As on kernels without pidfd_open: wait() falls back to a worker thread, and stays
    # cancellable.
    monkeypatch.setattr(tether._subprocess, "_pidfd_open", lambda pid: None)
    process = await tether.open_process(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    async with process:
        with tether.move_on_after(0.05) as scope:
            await process.wait()
        assert scope.cancelled_caught
        assert process.returncode is None
        assert process.stdin is not None
        await process.stdin.aclose()
        assert await process.wait() == 0


def test_a_process_outliving_its_run_can_still_be_polled() -> None:
    before = _open_fds()

    async def main() -> tether.Process:
        process = await tether.open_process([sys.executable, "-c", "pass"])
        # Wait for the exit without reaping it, so the run ends with the process unreaped.
        await tether.to_thread.run_sync(os.waitid, os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
        return process

    process = tether.run(main)
    # Outside any run now: polling reaps it and releases its pidfd all the same.
    assert process.poll() == 0
    assert process.returncode == 0
    assert _open_fds() <= before
