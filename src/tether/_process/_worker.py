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


def worker_main(jobs: Connection, results: Connection) -> None:
    """Entry point of a worker process."""
    # Lead a process group of our own, so a cancelled call can kill whatever the
    # function started too; and leave Ctrl-C to the parent, which cancels calls.
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    results.send_bytes(READY)
    while True:
        try:
            job = jobs.recv_bytes()
        except (EOFError, OSError):
            return  # the parent closed the pipe: retire
        try:
            fn, args = pickle.loads(job)
            answer: tuple[Any, ...] = (True, fn(*args))
        except BaseException as exc:  # everything goes back to the caller
            answer = (False, exc, traceback.format_exc())
        results.send_bytes(_encode(answer))
        del job, answer
