"""``python -m tether``: the async REPL, and ``python -m tether dump PID``.

The REPL is driven in this process (stdin replaced) for the details, and as a real
``python -m tether`` with piped stdin for the end-to-end behaviour, Ctrl-C included.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import tether
from tether.__main__ import main as cli_main
from tether.__main__ import repl


def _run_repl(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], script: str
) -> tuple[str, str]:
    """Feed ``script`` to the REPL in this process; return (stdout, stderr)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(textwrap.dedent(script)))
    repl()
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_top_level_await_and_plain_code_run_in_the_loop(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = _run_repl(
        monkeypatch,
        capsys,
        """\
        import threading
        print("in the loop thread:", threading.current_thread() is threading.main_thread())
        print("time:", tether.current_time() >= 0)
        event = tether.Event()
        event.set()
        await event.wait()
        print("event:", event.is_set())
        with tether.move_on_after(0.01) as scope:
            await tether.sleep_forever()

        print("timed out:", scope.cancelled_caught)
        async with tether.open_nursery() as nursery:
            nursery.start_soon(tether.sleep, 0)

        print("thread result:", await tether.to_thread.run_sync(lambda: 6 * 7))
        answer = await tether.to_thread.run_sync(lambda: "kept")
        print("names persist:", answer)
        """,
    )
    # Plain code (tether.current_time(), Event.set) runs in the loop's thread, not in the
    # console's: tether's sync API works at the prompt.
    assert "in the loop thread: True" in out
    assert "time: True" in out
    assert "event: True" in out
    assert "timed out: True" in out
    assert "thread result: 42" in out
    assert "names persist: kept" in out
    assert "Traceback" not in err
    assert "REPL on Python" in err  # the banner
    assert err.rstrip().endswith("exiting tether REPL")  # ended by end of input


def test_errors_are_printed_with_the_users_frames_and_the_repl_carries_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = _run_repl(
        monkeypatch,
        capsys,
        """\
        1 / 0
        await tether.sleep(0); {}["missing"]
        def fails():
            raise ValueError("from a function")

        fails()
        print("still here")
        """,
    )
    assert "ZeroDivisionError: division by zero" in err
    assert "KeyError: 'missing'" in err
    assert "ValueError: from a function" in err
    assert 'File "<console>"' in err
    # The REPL's own plumbing (from_thread, outcome) is not in the tracebacks.
    assert "_threads.py" not in err
    assert "outcome" not in err
    assert "still here" in out


def test_exit_ends_the_repl(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = _run_repl(
        monkeypatch,
        capsys,
        """\
        print("before")
        exit()
        print("not reached")
        """,
    )
    assert "before" in out
    assert "not reached" not in out
    assert "Traceback" not in err


def test_ctrl_c_while_a_command_runs_interrupts_only_that_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = _run_repl(
        monkeypatch,
        capsys,
        """\
        import signal
        signal.raise_signal(signal.SIGINT)
        print("after the interrupt")
        """,
    )
    assert "KeyboardInterrupt" in err
    assert "after the interrupt" in out
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# -- the real thing, in a subprocess ---------------------------------------------------------


class _Repl:
    """``python -m tether`` with piped stdio, read until markers appear."""

    def __init__(self, process: tether.Process) -> None:
        self.process = process
        self.out = b""

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.send_all(line.encode() + b"\n")

    async def read_until(self, marker: str) -> None:
        assert self.process.stdout is not None
        with tether.fail_after(30):
            while marker.encode() not in self.out:
                chunk = await self.process.stdout.receive_some()
                assert chunk, f"the REPL ended before printing {marker!r}: {self.out!r}"
                self.out += chunk
        # Consume up to the marker, so the next read_until looks at new output only.
        self.out = self.out.split(marker.encode(), 1)[1]


async def _collect(stream: tether.abc.ReceiveStream, into: list[bytes]) -> None:
    into.extend([chunk async for chunk in stream])


@pytest.mark.slow
async def test_python_m_tether_handles_ctrl_c_like_python_m_asyncio() -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = await tether.open_process(
        [sys.executable, "-m", "tether"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    errors: list[bytes] = []
    async with process, tether.open_nursery() as nursery:
        assert process.stderr is not None
        nursery.start_soon(_collect, process.stderr, errors)
        repl_ = _Repl(process)
        # The next prompt after "ready" means the REPL sits idle waiting for input.
        await repl_.send('print("ready")')
        await repl_.read_until("ready\n>>> ")
        # Ctrl-C at the prompt: nothing to interrupt, and nothing left pending that would
        # hit the next command or end the REPL with a KeyboardInterrupt.
        process.send_signal(signal.SIGINT)
        await repl_.send('await tether.sleep(0); print("survived")')
        await repl_.read_until("survived\n>>> ")
        # Ctrl-C while a command runs: that command gets KeyboardInterrupt, the REPL lives.
        await repl_.send('print("sleeping"); await tether.sleep(60)')
        await repl_.read_until("sleeping\n")
        process.send_signal(signal.SIGINT)
        await repl_.read_until(">>> ")
        await repl_.send('print("after", 6 * 7)')
        await repl_.read_until("after 42\n")
        assert process.stdin is not None
        await process.stdin.aclose()  # end of input: the REPL exits
        with tether.fail_after(30):
            assert await process.wait() == 0
    stderr = b"".join(errors).decode()
    assert stderr.count("\nKeyboardInterrupt\n") == 1, stderr  # one traceback
    assert "exiting tether REPL" in stderr


@pytest.mark.slow
async def test_python_m_tether_dump_refuses_a_process_without_task_dumps(
    tmp_path: object,
) -> None:
    # A plain child that never enabled dumps: SIGUSR1 would kill it, so none is sent.
    child = await tether.open_process(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    async with child:
        env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path))
        result = await tether.run_process(
            [sys.executable, "-m", "tether", "dump", str(child.pid)],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
            env=env,
        )
        assert result.returncode == 1
        assert b"has not enabled task dumps" in result.stderr
        assert child.returncode is None  # still alive
        assert child.stdin is not None
        await child.stdin.aclose()
        assert await child.wait() == 0


def test_cli_without_a_command_starts_the_repl(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("print(40 + 2)\n"))
    assert cli_main([]) == 0
    assert "42" in capsys.readouterr().out
