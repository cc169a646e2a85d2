"""Helpers shared by the kernel test modules (not a conftest: import them explicitly)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import outcome

import tether


def leaf_exceptions(exc: BaseException) -> list[BaseException]:
    """The non-group exceptions inside ``exc``, depth first, in order.

    A plain exception is its own only leaf, so this works whether or not a nursery wrapped
    what it raised.
    """
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in leaf_exceptions(sub)]
    return [exc]


def run_captured(
    async_fn: Callable[..., Awaitable[object]], *args: object, **run_kwargs: Any
) -> outcome.Outcome[object]:
    """``tether.run(async_fn, *args, **run_kwargs)`` with its result or exception captured.

    Anything at all is captured, KeyboardInterrupt included: an interrupt that a test
    provokes must never reach pytest, which would abort the whole session.
    """
    return outcome.capture(tether.run, async_fn, *args, **run_kwargs)


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """Every exception reachable from ``exc`` through groups, ``__cause__`` and ``__context__``."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def fill_send_buffer(sock: socket.socket) -> int:
    """Write to non-blocking ``sock`` until the kernel refuses more; return the byte count."""
    chunk = b"x" * 4096
    total = 0
    with contextlib.suppress(BlockingIOError):
        while True:
            total += sock.send(chunk)
    return total


def drain(sock: socket.socket) -> int:
    """Read everything currently buffered on non-blocking ``sock``; return the byte count."""
    total = 0
    with contextlib.suppress(BlockingIOError):
        while data := sock.recv(65536):
            total += len(data)
    return total
