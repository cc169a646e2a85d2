"""Awaiting any concurrent.futures.Executor: thread pools, process pools, loky, dask."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

from .._core import (
    Abort,
    RaiseCancelT,
    RunFinishedError,
    checkpoint_if_cancelled,
    current_task,
    current_tether_token,
    reschedule,
    wait_task_rescheduled,
)
from .._core._outcome import capture

T = TypeVar("T")


async def run_in_executor(executor: Executor, fn: Callable[..., T], *args: object) -> T:
    """Submit ``fn(*args)`` to ``executor`` and wait for the result without blocking the
    loop. Works with any :class:`concurrent.futures.Executor`: ``ThreadPoolExecutor``,
    ``ProcessPoolExecutor``, loky, or a cluster's (e.g. ``dask.distributed``'s
    ``client.get_executor()``).

    Cancellation: a task that is already cancelled submits nothing. A call the executor
    has not started yet is cancelled there; one that has started cannot be stopped, so
    it is abandoned and its result discarded.
    """
    if not isinstance(executor, Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor, not {executor!r}")
    await checkpoint_if_cancelled()  # a cancelled task submits nothing
    future: Future[T] = executor.submit(fn, *args)
    task = current_task()
    token = current_tether_token()
    waiting = True

    def wake() -> None:
        nonlocal waiting
        if waiting:
            waiting = False
            reschedule(task, capture(future.result))

    def on_done(_: Future[Any]) -> None:
        try:
            token.run_sync_soon(wake)
        except RunFinishedError:  # pragma: no cover  # abandoned, and the run is over
            pass

    def abort(_: RaiseCancelT) -> Abort:
        nonlocal waiting
        waiting = False
        future.cancel()  # succeeds only if the call has not started
        return Abort.SUCCEEDED

    future.add_done_callback(on_done)
    return await wait_task_rescheduled(abort)  # type: ignore[no-any-return]
