"""The worker side of to_process: a loop in a child process that runs calls.

Kept tiny and import-light: it is what every worker process imports at start-up.
Messages use multiprocessing's Connection framing (the parent speaks it with
non-blocking pipe I/O). A job is a pickled ``(fn, args)``; the answer is a pickled
``(True, value)`` or ``(False, exception, traceback_text)``.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import traceback
from multiprocessing.connection import Connection
from typing import Any

READY = b"tether-worker-ready"


class UnpicklableResultError(TypeError):
    """The function's return value (or exception) could not be sent back to the caller."""


def _encode(answer: tuple[Any, ...]) -> bytes:
    try:
        return pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        what = "return value" if answer[0] else "exception"
        shown = answer[1] if answer[0] else repr(answer[1])
        error = UnpicklableResultError(
            f"to_process could not pickle the function's {what} {shown!r:.200}: {exc}"
        )
        tb = answer[2] if not answer[0] else ""
        return pickle.dumps((False, error, tb), protocol=pickle.HIGHEST_PROTOCOL)


class _Reader:
    """Reads framed messages from a blocking fd, usually in one system call each."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()

    def _fill(self, count: int) -> None:
        while len(self.buffer) < count:
            chunk = os.read(self.fd, max(65536, count - len(self.buffer)))
            if not chunk:
                raise EOFError
            self.buffer += chunk

    def read(self) -> bytes:
        self._fill(4)
        (size,) = struct.unpack_from("!i", self.buffer)
        start = 4
        if size == -1:  # a message over 2 GiB: the length follows as 8 bytes
            self._fill(12)
            (size,) = struct.unpack_from("!Q", self.buffer, 4)
            start = 12
        self._fill(start + size)
        message = bytes(self.buffer[start : start + size])
        del self.buffer[: start + size]
        return message


def frame(payload: bytes) -> bytes:
    """``payload`` with multiprocessing's length header (both ends use this framing)."""
    size = len(payload)
    header = struct.pack("!i", size) if size <= 0x7FFFFFFF else struct.pack("!iQ", -1, size)
    return header + payload


def _write(fd: int, payload: bytes) -> None:
    with memoryview(frame(payload)) as view:
        sent = 0
        while sent < len(view):
            sent += os.write(fd, view[sent:])


def worker_main(jobs: Connection, results: Connection) -> None:
    """Entry point of a worker process."""
    # Lead a process group of our own, so a cancelled call can kill whatever the
    # function started too; and leave Ctrl-C to the parent, which cancels calls.
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The Connections only carried the fds here: raw reads and writes in the same framing
    # take one system call per message where Connection takes two to read.
    reader = _Reader(jobs.fileno())
    results_fd = results.fileno()
    _write(results_fd, READY)
    while True:
        try:
            job = reader.read()
        except (EOFError, OSError):
            return  # the parent closed the pipe: retire
        try:
            fn, args = pickle.loads(job)
            answer: tuple[Any, ...] = (True, fn(*args))
        except BaseException as exc:  # everything goes back to the caller
            answer = (False, exc, traceback.format_exc())
        _write(results_fd, _encode(answer))
        del job, answer
