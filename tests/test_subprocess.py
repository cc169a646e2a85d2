"""Running programs: run_process, open_process and Process."""

import os
import signal
import subprocess
import sys

import pytest

import tether
import tether.lowlevel
from tether.testing import wait_all_tasks_blocked

PY = sys.executable


def _zombie_children() -> list[int]:
    zombies = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == me:
            zombies.append(int(entry))
    return zombies


@pytest.fixture(autouse=True)
def no_leaks():
    fds = len(os.listdir("/proc/self/fd"))
    yield
    assert _zombie_children() == []
    assert len(os.listdir("/proc/self/fd")) <= fds


async def test_run_process_captures_output_and_exit_code() -> None:
    result = await tether.run_process(
        [PY, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(0)"],
        capture_stdout=True,
        capture_stderr=True,
    )
    assert result.returncode == 0
    assert result.stdout == b"out\n"
    assert result.stderr == b"err\n"
    assert result.args[0] == PY


async def test_check_raises_called_process_error_with_output() -> None:
    with pytest.raises(subprocess.CalledProcessError) as info:
        await tether.run_process(
            [PY, "-c", "import sys; print('partial'); sys.exit(3)"], capture_stdout=True
        )
    assert info.value.returncode == 3
    assert info.value.output == b"partial\n"
    result = await tether.run_process([PY, "-c", "raise SystemExit(4)"], check=False)
    assert result.returncode == 4


async def test_large_data_both_ways_without_deadlock() -> None:
    data = os.urandom(8 << 20)
    result = await tether.run_process(
        [PY, "-c", "import sys, shutil; shutil.copyfileobj(sys.stdin.buffer, sys.stdout.buffer)"],
        stdin=data,
        capture_stdout=True,
    )
    assert result.stdout == data


async def test_command_validation() -> None:
    with pytest.raises(TypeError, match="sequence of arguments"):
        await tether.run_process("echo hi")
    with pytest.raises(TypeError, match="single string"):
        await tether.run_process(["echo", "hi"], shell=True)
    with pytest.raises(TypeError, match="bytes"):
        await tether.run_process([PY, "-c", "pass"], text=True)
    with pytest.raises(TypeError, match="encode"):
        await tether.run_process([PY, "-c", "pass"], stdin="text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="capture_stdout"):
        await tether.run_process([PY, "-c", "pass"], capture_stdout=True, stdout=subprocess.DEVNULL)


async def test_shell_command() -> None:
    result = await tether.run_process("echo from-shell", shell=True, capture_stdout=True)
    assert result.stdout == b"from-shell\n"


async def test_cancelled_child_that_ignores_sigterm_is_killed(autojump_clock: object) -> None:
    program = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    async with tether.open_nursery() as nursery:
        process = await nursery.start(
            lambda task_status: tether.run_process(
                [PY, "-c", program], capture_stdout=True, task_status=task_status
            )
        )
        # Wait (really) until the child ignores SIGTERM, then cancel: the virtual 5 s
        # grace period passes at once and SIGKILL follows.
        for _ in range(1000):  # real time: the child must get to signal.signal(...)
            if _child_ready(process.pid):
                break
            await tether.to_thread.run_sync(_short_pause)
        nursery.cancel_scope.cancel()
    assert process.returncode == -signal.SIGKILL


def _short_pause() -> None:
    import time

    time.sleep(0.01)


def _child_ready(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("SigIgn:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    except OSError:
        return False
    return False


async def test_custom_deliver_cancel() -> None:
    calls: list[int] = []

    async def deliver(process: tether.Process) -> None:
        calls.append(process.pid)
        process.send_signal(signal.SIGINT)

    with tether.move_on_after(0.2):
        await tether.run_process(
            [PY, "-c", "import time; time.sleep(60)"], deliver_cancel=deliver, check=False
        )
    assert len(calls) == 1


async def test_open_process_pipes_and_wait() -> None:
    process = await tether.lowlevel.open_process(
        [PY, "-c", "import sys; sys.stdout.write(sys.stdin.read().upper())"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    async with process:
        assert process.stdio is not None
        assert process.pid > 0
        assert process.returncode is None or process.returncode == 0
        await process.stdin.send_all(b"shout")  # type: ignore[union-attr]
        await process.stdin.aclose()  # type: ignore[union-attr]
        output = b""
        async for chunk in process.stdout:  # type: ignore[union-attr]
            output += chunk
        assert output == b"SHOUT"
        assert await process.wait() == 0
        assert process.poll() == 0
    assert "exited with 0" in repr(process)


async def test_terminate_and_kill() -> None:
    for action, expected in (("terminate", -signal.SIGTERM), ("kill", -signal.SIGKILL)):
        process = await tether.open_process([PY, "-c", "import time; time.sleep(60)"])
        getattr(process, action)()
        assert await process.wait() == expected


async def test_child_exits_while_grandchild_keeps_pipe_open() -> None:
    process = await tether.open_process(
        [
            PY,
            "-c",
            "import subprocess; p = subprocess.Popen(['sleep', '30']); print(p.pid, flush=True)",
        ],
        stdout=subprocess.PIPE,
    )
    line = await process.stdout.receive_some()  # type: ignore[union-attr]
    grandchild = int(line.split()[0])
    try:
        with tether.fail_after(10):
            assert await process.wait() == 0  # does not wait for the pipe to close
    finally:
        os.kill(grandchild, signal.SIGKILL)
        await process.aclose()
        # the grandchild was re-parented to init, which reaps it


async def test_many_concurrent_children() -> None:
    results: list[bytes] = []

    async def one(i: int) -> None:
        r = await tether.run_process([PY, "-c", f"print({i})"], capture_stdout=True)
        results.append(r.stdout)

    async with tether.open_nursery() as nursery:
        for i in range(30):
            nursery.start_soon(one, i)
    assert sorted(int(r) for r in results) == list(range(30))


async def test_aclose_kills_when_cancelled() -> None:
    process = await tether.open_process([PY, "-c", "import time; time.sleep(60)"])
    with tether.CancelScope() as scope:
        scope.cancel()
        await process.aclose()
    assert process.returncode == -signal.SIGKILL


async def test_user_sigchld_handler_is_left_alone() -> None:
    seen: list[int] = []

    def handler(signum: int, frame: object) -> None:
        seen.append(signum)

    previous = signal.signal(signal.SIGCHLD, handler)
    try:
        await tether.run_process([PY, "-c", "pass"])
        assert signal.getsignal(signal.SIGCHLD) is handler
    finally:
        signal.signal(signal.SIGCHLD, previous)


async def test_start_hands_back_the_process() -> None:
    async with tether.open_nursery() as nursery:
        process = await nursery.start(
            lambda task_status: tether.run_process([PY, "-c", "pass"], task_status=task_status)
        )
        assert isinstance(process, tether.Process)
    assert process.returncode == 0
    await wait_all_tasks_blocked()
