"""Task-tree introspection: task_tree()'s data and text, and the dump-on-signal handler
(in this process; tests/test_repl.py drives ``python -m tether dump`` from outside)."""

from __future__ import annotations

import io
import os
import pathlib
import signal
from collections.abc import Iterator

import pytest

import tether
from tether.__main__ import main as cli_main
from tether.lowlevel import (
    FrameInfo,
    ScopeInfo,
    TaskInfo,
    current_tether_token,
    enable_task_dump_on_signal,
    task_tree,
    wait_readable,
    wait_writable,
)
from tether.testing import wait_all_tasks_blocked


@pytest.fixture
def marker_dir(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """Where dump markers go (XDG_RUNTIME_DIR), private to the test."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def full_pipe() -> Iterator[tuple[int, int]]:
    """A pipe whose write end is full (so waiting to write blocks)."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    try:
        while True:
            os.write(write_fd, b"x" * 65536)
    except BlockingIOError:
        pass
    yield read_fd, write_fd
    os.close(read_fd)
    os.close(write_fd)


def _by_name(tree: tether.lowlevel.TaskTree) -> dict[str, TaskInfo]:
    return {task.name: task for task in tree.tasks()}


def test_scope_info_text_names_each_flag() -> None:
    assert str(ScopeInfo(float("inf"), False, False, False)) == "scope"
    every_flag = ScopeInfo(2.0, True, True, True)
    assert str(every_flag) == "scope(deadline in 2s, cancelled, shielded, shutdown requested)"
    frame = FrameInfo("prog.py", 7, "main")
    assert str(frame) == 'File "prog.py", line 7, in main'


async def test_tree_reports_running_runnable_and_blocked_tasks() -> None:
    async def child() -> None:
        await tether.sleep_forever()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(child, name="not-started-yet")
        # start_soon does not run the child: it is runnable until the next checkpoint.
        tree = task_tree()
        tasks = _by_name(tree)
        me = tether.lowlevel.current_task()
        assert tasks[me.name].state == "running"
        assert tasks[me.name].blocked_on is None
        assert tasks["not-started-yet"].state == "runnable"
        assert tasks["not-started-yet"].blocked_on is None
        await wait_all_tasks_blocked()
        tasks = _by_name(task_tree())
        assert tasks["not-started-yet"].state == "blocked"
        assert tasks["not-started-yet"].blocked_on == "blocked in sleep_forever"
        nursery.cancel_scope.cancel()


async def test_tree_shows_cancelled_shielded_and_shutdown_scopes() -> None:
    shielded = tether.CancelScope(shield=True)

    async def shielded_cleanup() -> None:
        with tether.CancelScope() as outer:
            outer.cancel()
            with shielded:
                await tether.sleep_forever()

    async def draining() -> None:
        with tether.CancelScope() as scope:
            scope.request_shutdown(1000)
            await tether.sleep_forever()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(shielded_cleanup, name="cleanup")
        nursery.start_soon(draining, name="draining")
        await wait_all_tasks_blocked()
        tree = task_tree()
        tasks = _by_name(tree)
        cleanup_scopes = [str(scope) for scope in tasks["cleanup"].scopes]
        assert cleanup_scopes == ["scope(shielded)", "scope(cancelled)"]
        (drain_scope,) = tasks["draining"].scopes
        assert drain_scope.shutdown_requested
        assert drain_scope.deadline_in == pytest.approx(1000, abs=1)
        text = str(tree)
        assert "in scope(shielded)" in text
        assert "in scope(cancelled)" in text
        assert "shutdown requested" in text
        assert "(deadline in" in (tasks["draining"].blocked_on or "")
        shielded.cancel()  # the nursery's cancellation cannot reach through the shield
        nursery.cancel_scope.cancel()


async def test_tree_names_the_fd_a_task_waits_on(full_pipe: tuple[int, int]) -> None:
    _, write_fd = full_pipe
    other_read, other_write = os.pipe()
    try:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(wait_writable, write_fd, name="writer")
            nursery.start_soon(wait_readable, other_read, name="reader")
            await wait_all_tasks_blocked()
            tasks = _by_name(task_tree())
            assert tasks["writer"].blocked_on == f"waiting to write fd {write_fd}"
            assert tasks["reader"].blocked_on == f"waiting to read fd {other_read}"
            nursery.cancel_scope.cancel()
    finally:
        os.close(other_read)
        os.close(other_write)


class _SignalledText(io.StringIO):
    """A text file that tells the run (signal-safely) when something was written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.written = tether.Event()
        self._token = current_tether_token()

    def write(self, text: str) -> int:
        self._token.run_sync_soon(self.written.set, idempotent=True)
        return super().write(text)


async def _sleeper() -> None:
    await tether.sleep_forever()


def test_dump_on_signal_prints_the_tree_and_cleans_up_at_run_end(
    marker_dir: pathlib.Path,
) -> None:
    before = signal.getsignal(signal.SIGUSR2)
    marker = marker_dir / f"tether-dump-{os.getpid()}"
    seen: dict[str, object] = {}

    async def main() -> None:
        out = _SignalledText()
        enable_task_dump_on_signal(signal.SIGUSR2, file=out)
        seen["marker"] = marker.read_text()
        seen["mode"] = marker.stat().st_mode & 0o777
        async with tether.open_nursery() as nursery:
            nursery.start_soon(_sleeper, name="the-sleeper")
            await wait_all_tasks_blocked()
            # What `python -m tether dump PID` does, in this process.
            assert cli_main(["dump", str(os.getpid())]) == 0
            with tether.fail_after(30):
                await out.written.wait()
            nursery.cancel_scope.cancel()
        seen["dump"] = out.getvalue()

    tether.run(main)
    assert seen["marker"] == f"{int(signal.SIGUSR2)}\n"
    assert seen["mode"] == 0o600
    dump = str(seen["dump"])
    assert dump.startswith("tether task tree at t=")
    assert "task 'the-sleeper' [blocked]: blocked in sleep_forever" in dump
    assert "(system)" in dump
    # The run restored the previous handler and removed its marker.
    assert signal.getsignal(signal.SIGUSR2) is before
    assert not marker.exists()


def test_enabling_twice_moves_the_dump_and_still_restores_the_handler(
    marker_dir: pathlib.Path,
) -> None:
    before = signal.getsignal(signal.SIGUSR2)
    first, second = io.StringIO(), io.StringIO()

    async def main() -> None:
        enable_task_dump_on_signal(signal.SIGUSR2, file=first)
        enable_task_dump_on_signal(signal.SIGUSR2, file=second)
        signal.raise_signal(signal.SIGUSR2)  # runs the handler before returning

    tether.run(main)
    assert first.getvalue() == ""
    assert "tether task tree" in second.getvalue()
    assert signal.getsignal(signal.SIGUSR2) is before
    assert not (marker_dir / f"tether-dump-{os.getpid()}").exists()


def test_a_handler_installed_later_is_not_clobbered_at_run_end(
    marker_dir: pathlib.Path,
) -> None:
    before = signal.getsignal(signal.SIGUSR2)
    calls: list[int] = []

    def mine(signum: int, frame: object) -> None:
        calls.append(signum)

    async def main() -> None:
        enable_task_dump_on_signal(signal.SIGUSR2, file=io.StringIO())
        signal.signal(signal.SIGUSR2, mine)

    try:
        tether.run(main)
        assert signal.getsignal(signal.SIGUSR2) is mine
    finally:
        signal.signal(signal.SIGUSR2, before)


def test_dump_marker_is_never_written_through_a_symlink(marker_dir: pathlib.Path) -> None:
    before = signal.getsignal(signal.SIGUSR2)
    victim = marker_dir / "victim"
    victim.write_text("precious")
    (marker_dir / f"tether-dump-{os.getpid()}").symlink_to(victim)

    async def main() -> None:
        with pytest.raises(OSError):
            enable_task_dump_on_signal(signal.SIGUSR2, file=io.StringIO())

    tether.run(main)
    assert victim.read_text() == "precious"
    assert signal.getsignal(signal.SIGUSR2) is before


async def test_enabling_from_a_worker_thread_fails_cleanly(marker_dir: pathlib.Path) -> None:
    before = signal.getsignal(signal.SIGUSR2)

    def in_thread() -> None:
        with pytest.raises(RuntimeError):
            enable_task_dump_on_signal(signal.SIGUSR2)  # not in a run in this thread

    await tether.to_thread.run_sync(in_thread)
    # From the loop's thread it works; a bad signal number leaves no marker behind.
    with pytest.raises(ValueError):
        enable_task_dump_on_signal(0)
    assert not (marker_dir / f"tether-dump-{os.getpid()}").exists()
    assert signal.getsignal(signal.SIGUSR2) is before


def test_dump_refuses_a_process_that_did_not_enable_it(
    marker_dir: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No marker for this process: nothing is sent (SIGUSR1 would kill a process that
    # has no handler for it).
    assert cli_main(["dump", str(os.getpid())]) == 1
    assert "has not enabled task dumps" in capsys.readouterr().err


def test_dump_marker_falls_back_to_tmp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    seen: list[str] = []

    async def main() -> None:
        enable_task_dump_on_signal(signal.SIGUSR2, file=io.StringIO())
        seen.append(pathlib.Path(f"/tmp/tether-dump-{os.getpid()}").read_text())

    tether.run(main)
    assert seen == [f"{int(signal.SIGUSR2)}\n"]
    assert not pathlib.Path(f"/tmp/tether-dump-{os.getpid()}").exists()
