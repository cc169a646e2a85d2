"""Receiving Unix signals as an async iterator: open_signal_receiver."""

from __future__ import annotations

import signal
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Generator, Iterable
from contextlib import contextmanager
from types import FrameType
from typing import Any

from ._core import (
    Abort,
    RaiseCancelT,
    TetherToken,
    checkpoint,
    current_task,
    current_tether_token,
    reschedule,
    wait_task_rescheduled,
)
from ._core._util import final

Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


@final
class SignalReceiver:
    """What ``with open_signal_receiver(...) as receiver`` gives: ``async for signum in
    receiver`` yields each signal number as it arrives. A signal that arrives again while
    an earlier one of the same number is still pending is coalesced into it."""

    def __init__(self, token: TetherToken) -> None:
        self._token = token
        self._pending: OrderedDict[int, None] = OrderedDict()
        self._waiter: Any = None
        self._closed = False

    def _deliver(self, signum: int) -> None:
        # Runs in the loop thread, via the token (never inside the signal handler itself).
        if self._closed:
            return
        self._pending[signum] = None
        if self._waiter is not None:
            task, self._waiter = self._waiter, None
            reschedule(task)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._token.run_sync_soon(self._deliver, signum, idempotent=True)

    def __aiter__(self) -> AsyncIterator[int]:
        return self

    async def __anext__(self) -> int:
        if self._closed:
            raise RuntimeError("this signal receiver's 'with' block has ended")
        if not self._pending:
            if self._waiter is not None:
                raise RuntimeError("another task is already iterating this signal receiver")
            task = current_task()
            self._waiter = task

            def abort(_: RaiseCancelT) -> Abort:
                self._waiter = None
                return Abort.SUCCEEDED

            await wait_task_rescheduled(abort)
        else:
            await checkpoint()
        return self._pending.popitem(last=False)[0]

    def _redeliver_pending(self) -> list[int]:
        self._closed = True
        pending = list(self._pending)
        self._pending.clear()
        return pending


@contextmanager
def open_signal_receiver(*signals: int | signal.Signals) -> Generator[SignalReceiver, None, None]:
    """Catch ``signals`` for the duration of a ``with`` block and receive them::

        with tether.open_signal_receiver(signal.SIGHUP, signal.SIGTERM) as receiver:
            async for signum in receiver:
                ...

    The previous handlers are restored when the block ends, and signals still pending
    then are re-raised so those handlers see them. Only the main thread can install
    signal handlers, so anywhere else this is a ``RuntimeError``.
    """
    if not signals:
        raise TypeError("open_signal_receiver needs at least one signal")
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("open_signal_receiver only works in the main thread")
    numbers = [int(signum) for signum in signals]
    receiver = SignalReceiver(current_tether_token())
    previous: dict[int, Handler] = {}
    try:
        for signum in numbers:
            if signum not in previous:
                previous[signum] = signal.signal(signum, receiver._on_signal)
        yield receiver
    finally:
        _restore(previous.items())
        for signum in receiver._redeliver_pending():
            signal.raise_signal(signum)


def _restore(handlers: Iterable[tuple[int, Handler]]) -> None:
    for signum, handler in handlers:
        signal.signal(signum, signal.SIG_DFL if handler is None else handler)
