"""asyncio.subprocess for ported code: create_subprocess_exec/shell and Process."""

from __future__ import annotations

import subprocess as _subprocess
from typing import Any

import tether
import tether.lowlevel

from ._loop import get_running_loop
from ._streams import StreamReader, StreamWriter

PIPE = _subprocess.PIPE
STDOUT = _subprocess.STDOUT
DEVNULL = _subprocess.DEVNULL

__all__ = [
    "DEVNULL",
    "PIPE",
    "STDOUT",
    "Process",
    "create_subprocess_exec",
    "create_subprocess_shell",
]


class Process:
    """A child process with asyncio's API; its pipes are StreamReader/StreamWriter."""

    def __init__(self, process: tether.Process, limit: int) -> None:
        loop = get_running_loop()
        self._process = process
        self.stdin = StreamWriter(process.stdin, None, loop) if process.stdin else None
        self.stdout = StreamReader(limit, stream=process.stdout) if process.stdout else None
        self.stderr = StreamReader(limit, stream=process.stderr) if process.stderr else None

    def __repr__(self) -> str:
        return f"<tether.aio Process {self.pid}>"

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    async def wait(self) -> int:
        return await self._process.wait()

    def send_signal(self, signal: int) -> None:
        self._process.send_signal(signal)

    def terminate(self) -> None:
        self._process.terminate()

    def kill(self) -> None:
        self._process.kill()

    async def communicate(self, input: bytes | None = None) -> tuple[bytes | None, bytes | None]:
        """Send ``input``, read stdout and stderr to the end, wait for exit."""
        out: list[bytes | None] = [None, None]

        async def feed() -> None:
            assert self.stdin is not None
            if input:
                self.stdin.write(input)
            self.stdin.close()
            await self.stdin.wait_closed()

        async def collect(index: int, reader: StreamReader) -> None:
            out[index] = await reader.read()

        async with tether.open_nursery() as nursery:
            if self.stdin is not None:
                nursery.start_soon(feed)
            if self.stdout is not None:
                nursery.start_soon(collect, 0, self.stdout)
            if self.stderr is not None:
                nursery.start_soon(collect, 1, self.stderr)
        await self.wait()
        return out[0], out[1]


async def _create(command: Any, *, limit: int, **kwds: Any) -> Process:
    for name in ("universal_newlines", "text", "encoding", "errors"):
        if kwds.get(name):
            raise ValueError(f"{name} is not supported by asyncio subprocesses")
    kwds.pop("bufsize", None)
    stdin, stdout, stderr = (kwds.pop(name, None) for name in ("stdin", "stdout", "stderr"))
    process = await tether.lowlevel.open_process(
        command, stdin=stdin, stdout=stdout, stderr=stderr, **kwds
    )
    return Process(process, limit)


async def create_subprocess_exec(
    program: Any, *args: Any, limit: int = 2**16, **kwds: Any
) -> Process:
    """Start ``program`` with ``args`` (no shell)."""
    return await _create([program, *args], limit=limit, **kwds)


async def create_subprocess_shell(cmd: str | bytes, *, limit: int = 2**16, **kwds: Any) -> Process:
    """Start ``cmd`` through the shell."""
    return await _create(cmd, limit=limit, shell=True, **kwds)
