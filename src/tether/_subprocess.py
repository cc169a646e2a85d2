"""Running programs: open_process, run_process and Process.

The child is started with :class:`subprocess.Popen` in a worker thread (fork and exec
can take milliseconds), its pipes become :class:`FdStream` objects, and waiting for it
uses a pidfd on Linux (one more fd for the I/O backend to watch) or, elsewhere, a worker
thread. No SIGCHLD handler is installed, so none of the user's is disturbed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeAlias

from . import to_thread
from ._abc import AsyncResource
from ._core import (
    TASK_STATUS_IGNORED,
    BrokenResourceError,
    CancelScope,
    ClosedResourceError,
    TaskStatus,
    checkpoint,
    open_nursery,
    wait_readable,
)
from ._core._util import final
from ._fd_stream import FdStream
from ._streams._abc import ReceiveStream, SendStream
from ._streams._stapled import StapledStream
from ._sync import Lock
from ._timeouts import sleep

StrOrBytesPath: TypeAlias = str | bytes | os.PathLike[str] | os.PathLike[bytes]
Command: TypeAlias = StrOrBytesPath | Sequence[StrOrBytesPath]

TERMINATE_GRACE_SECONDS = 5.0
_HAS_PIDFD = hasattr(os, "pidfd_open") and sys.platform == "linux"


def _pidfd_open(pid: int) -> int | None:
    if not _HAS_PIDFD:
        return None
    try:
        return os.pidfd_open(pid)
    except OSError:  # pragma: no cover  # an old kernel, or seccomp says no
        return None


@final
class Process(AsyncResource):
    """A running child process, from :func:`tether.lowlevel.open_process`.

    ``stdin`` / ``stdout`` / ``stderr`` are tether streams when the matching argument was
    ``subprocess.PIPE`` (else ``None``); ``stdio`` staples stdin and stdout when both are.
    ``await wait()`` for the exit status; ``returncode`` is ``None`` while it runs (and
    negative -N when killed by signal N). ``aclose()`` closes the pipes and waits.
    """

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        stdin: SendStream | None,
        stdout: ReceiveStream | None,
        stderr: ReceiveStream | None,
    ) -> None:
        self._proc = popen
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.stdio: StapledStream[SendStream, ReceiveStream] | None = None
        if stdin is not None and stdout is not None:
            self.stdio = StapledStream(stdin, stdout)
        self._pidfd = _pidfd_open(popen.pid)
        self._wait_lock = Lock()

    def __repr__(self) -> str:
        status = "running" if self.returncode is None else f"exited with {self.returncode}"
        return f"<tether.Process {self.args!r}: {status}>"

    @property
    def args(self) -> Any:
        """The command, as passed to :func:`open_process`."""
        return self._proc.args

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        """The exit status once the process has exited (and been waited for), else None."""
        result = self._proc.returncode
        if result is None:
            result = self.poll()
        return result

    def poll(self) -> int | None:
        """Check, without blocking, whether the process exited; returns ``returncode``."""
        result = self._proc.poll()
        if result is not None:
            self._close_pidfd()
        return result

    async def wait(self) -> int:
        """Wait for the process to exit and return its exit status (a checkpoint)."""
        async with self._wait_lock:
            if self._proc.poll() is None:
                if self._pidfd is not None:
                    try:
                        await wait_readable(self._pidfd)
                    except ClosedResourceError:  # pragma: no cover  # closed under us
                        pass
                else:
                    await to_thread.run_sync(self._wait_without_reaping, abandon_on_cancel=True)
                self._proc.wait()  # it has exited: this only reaps
            self._close_pidfd()
        await checkpoint()
        assert self._proc.returncode is not None
        return self._proc.returncode

    def _wait_without_reaping(self) -> None:  # pragma: no cover  # platforms without pidfd
        if hasattr(os, "waitid"):
            os.waitid(os.P_PID, self._proc.pid, os.WEXITED | os.WNOWAIT)
        else:
            self._proc.wait()

    def _close_pidfd(self) -> None:
        if self._pidfd is not None:
            fd, self._pidfd = self._pidfd, None
            try:
                from ._core import notify_closing

                notify_closing(fd)
            except RuntimeError:
                pass
            os.close(fd)

    def send_signal(self, sig: int) -> None:
        """Send signal ``sig`` to the process (nothing happens if it was already reaped)."""
        self._proc.send_signal(sig)

    def terminate(self) -> None:
        """Ask the process to exit (SIGTERM)."""
        self._proc.terminate()

    def kill(self) -> None:
        """Kill the process (SIGKILL)."""
        self._proc.kill()

    async def aclose(self) -> None:
        """Close the pipes, then wait for the process to exit. If cancelled while waiting,
        the process is killed (and still reaped), so nothing is left behind."""
        with CancelScope(shield=True):
            for stream in (self.stdin, self.stdout, self.stderr):
                if stream is not None:
                    await stream.aclose()
        try:
            await self.wait()
        finally:
            if self._proc.returncode is None:
                self.kill()
                with CancelScope(shield=True):
                    await self.wait()


def _check_command(command: Any, shell: bool) -> None:
    if shell:
        if not isinstance(command, str | bytes):
            raise TypeError("with shell=True the command must be a single string")
    elif isinstance(command, str | bytes):
        raise TypeError(
            f"the command must be a sequence of arguments, not the string {command!r}; "
            "split it (e.g. with shlex.split) or pass shell=True"
        )


async def open_process(
    command: Command,
    *,
    stdin: int | Any | None = None,
    stdout: int | Any | None = None,
    stderr: int | Any | None = None,
    **options: Any,
) -> Process:
    """Start ``command`` and return a :class:`Process` at once, without waiting for it.

    ``stdin`` / ``stdout`` / ``stderr`` take what :class:`subprocess.Popen` takes;
    ``subprocess.PIPE`` gives a tether stream on the :class:`Process`. Other keyword
    arguments go to Popen, except those that make no sense here (``universal_newlines``,
    ``text``, ``encoding``, ``errors``, ``bufsize``): streams carry bytes.
    """
    for bad in ("universal_newlines", "text", "encoding", "errors", "bufsize"):
        if options.get(bad):
            raise TypeError(f"tether's process streams carry bytes: {bad}= is not supported")
    options.pop("bufsize", None)
    _check_command(command, bool(options.get("shell")))
    parent_ends: dict[str, int] = {}
    child_ends: list[int] = []
    spec = {"stdin": stdin, "stdout": stdout, "stderr": stderr}
    try:
        for name, value in spec.items():
            if value == subprocess.PIPE:
                read_end, write_end = os.pipe()
                if name == "stdin":
                    parent_ends[name], child = write_end, read_end
                else:
                    parent_ends[name], child = read_end, write_end
                child_ends.append(child)
                spec[name] = child
        popen: subprocess.Popen[bytes] = await to_thread.run_sync(
            partial(  # type: ignore[arg-type]
                subprocess.Popen,
                command,
                stdin=spec["stdin"],
                stdout=spec["stdout"],
                stderr=spec["stderr"],
                **options,
            )
        )
    except BaseException:
        for fd in parent_ends.values():
            os.close(fd)
        raise
    finally:
        for fd in child_ends:
            os.close(fd)
    return Process(
        popen,
        FdStream(parent_ends["stdin"]) if "stdin" in parent_ends else None,
        FdStream(parent_ends["stdout"]) if "stdout" in parent_ends else None,
        FdStream(parent_ends["stderr"]) if "stderr" in parent_ends else None,
    )


async def _default_deliver_cancel(process: Process) -> None:
    process.terminate()
    await sleep(TERMINATE_GRACE_SECONDS)
    process.kill()


async def run_process(
    command: Command,
    *,
    stdin: bytes | bytearray | memoryview | int | Any | None = b"",
    capture_stdout: bool = False,
    capture_stderr: bool = False,
    check: bool = True,
    deliver_cancel: Callable[[Process], Awaitable[object]] | None = None,
    task_status: TaskStatus[Process] = TASK_STATUS_IGNORED,
    **options: Any,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``command`` to completion and return a :class:`subprocess.CompletedProcess`.

    ``stdin``: bytes to feed it (default ``b""``: an empty input), or anything Popen
    takes (``None`` inherits ours). ``capture_stdout`` / ``capture_stderr`` collect the
    output into the result; otherwise it goes where ``stdout=`` / ``stderr=`` say
    (default: inherited). With ``check`` (default) a non-zero exit raises
    :exc:`subprocess.CalledProcessError` carrying the captured output.

    If cancelled, the child is stopped: by default SIGTERM, then SIGKILL after
    5 seconds; ``deliver_cancel(process)`` replaces that. Either way the child is reaped
    before ``run_process`` lets the ``Cancelled`` out. ``await nursery.start(run_process,
    ...)`` hands back the :class:`Process` once started.
    """
    if isinstance(stdin, str):
        raise TypeError("stdin must be bytes, not str: encode it first")
    if capture_stdout and options.get("stdout") is not None:
        raise ValueError("capture_stdout=True conflicts with stdout=")
    if capture_stderr and options.get("stderr") is not None:
        raise ValueError("capture_stderr=True conflicts with stderr=")
    data_in: bytes | bytearray | memoryview | None = None
    if isinstance(stdin, bytes | bytearray | memoryview):
        data_in = stdin
        options["stdin"] = subprocess.PIPE
    else:
        options["stdin"] = stdin
    if capture_stdout:
        options["stdout"] = subprocess.PIPE
    if capture_stderr:
        options["stderr"] = subprocess.PIPE
    if deliver_cancel is None:
        deliver_cancel = _default_deliver_cancel

    stdout_chunks: list[bytes] = []
    stderr_chunks: list[bytes] = []

    async def feed(stream: SendStream) -> None:
        async with stream:
            try:
                if data_in:
                    await stream.send_all(data_in)
            except BrokenResourceError:
                pass  # the child did not read all its input; that's its business

    async def collect(stream: ReceiveStream, chunks: list[bytes]) -> None:
        async with stream:
            chunks.extend([bytes(chunk) async for chunk in stream])

    process = await open_process(command, **options)
    async with open_nursery() as nursery:
        try:
            if process.stdin is not None:
                nursery.start_soon(feed, process.stdin)
            if process.stdout is not None and capture_stdout:
                nursery.start_soon(collect, process.stdout, stdout_chunks)
            if process.stderr is not None and capture_stderr:
                nursery.start_soon(collect, process.stderr, stderr_chunks)
            task_status.started(process)
            await process.wait()
        except BaseException:
            with CancelScope(shield=True):
                killer = CancelScope(shield=True)

                async def stop_child() -> None:
                    with killer:
                        await deliver_cancel(process)

                nursery.start_soon(stop_child)
                await process.wait()
                killer.cancel()
            raise
    stdout_data = b"".join(stdout_chunks) if capture_stdout else None
    stderr_data = b"".join(stderr_chunks) if capture_stderr else None
    returncode = process.returncode
    assert returncode is not None
    if check and returncode:
        raise subprocess.CalledProcessError(
            returncode, process.args, output=stdout_data, stderr=stderr_data
        )
    return subprocess.CompletedProcess(process.args, returncode, stdout_data, stderr_data)
