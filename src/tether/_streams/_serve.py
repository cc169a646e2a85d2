"""Tier 9: serving connections from listeners."""

from __future__ import annotations

import errno
import logging
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

from .._abc import AsyncResource
from .._core import (
    TASK_STATUS_IGNORED,
    CancelScope,
    Nursery,
    TaskStatus,
    open_nursery,
    wait_shutdown_requested,
)
from .._timeouts import sleep
from ._abc import Listener
from ._util import aclose_forcefully

StreamT = TypeVar("StreamT", bound=AsyncResource)
ListenerT = TypeVar("ListenerT", bound=Listener[Any])

LOGGER = logging.getLogger("tether.serve_listeners")
# accept() failing with these means "out of resources right now": wait and try again,
# rather than let one crowded moment bring the whole server down.
_CAPACITY_ERRNOS = {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS}
ACCEPT_BACKOFF_SECONDS = 0.100


async def _run_handler(stream: StreamT, handler: Callable[[StreamT], Awaitable[object]]) -> None:
    try:
        await handler(stream)
    finally:
        await aclose_forcefully(stream)


async def _serve_one_listener(
    listener: Listener[StreamT],
    handler_nursery: Nursery,
    handler: Callable[[StreamT], Awaitable[object]],
    accepting: CancelScope,
) -> None:
    async with listener:
        with accepting:
            await _accept_forever(listener, handler_nursery, handler)


async def _accept_forever(
    listener: Listener[StreamT],
    handler_nursery: Nursery,
    handler: Callable[[StreamT], Awaitable[object]],
) -> NoReturn:
    while True:
        try:
            stream = await listener.accept()
        except OSError as exc:
            if exc.errno not in _CAPACITY_ERRNOS:
                raise
            LOGGER.error(
                "accept() failed with %s (%s); retrying in %s seconds",
                errno.errorcode.get(exc.errno or 0, exc.errno),
                exc.strerror,
                ACCEPT_BACKOFF_SECONDS,
                exc_info=True,
            )
            await sleep(ACCEPT_BACKOFF_SECONDS)
        else:
            handler_nursery.start_soon(_run_handler, stream, handler)


async def serve_listeners(
    handler: Callable[[StreamT], Awaitable[object]],
    listeners: list[ListenerT],
    *,
    handler_nursery: Nursery | None = None,
    task_status: TaskStatus[list[ListenerT]] = TASK_STATUS_IGNORED,
) -> None:
    """Accept connections on every listener, running ``handler(stream)`` in a new task for
    each; the stream is closed when the handler returns.

    Handlers run in ``handler_nursery`` (default: one inside this call), so an exception
    from a handler is not swallowed: it propagates and stops the server, as any task error
    does. Running out of file descriptors or memory in ``accept`` is logged and retried
    after a short pause. Use with ``nursery.start(serve_listeners, ...)``: it reports the
    listeners once they are accepting.

    Runs until cancelled, or until a graceful shutdown is requested for a scope around it
    (:meth:`CancelScope.request_shutdown`): then it stops accepting, closes the
    listeners, lets the handlers in its own nursery finish (their grace period is the
    scope's), and returns.
    """
    async with open_nursery() as nursery:
        if handler_nursery is None:
            handler_nursery = nursery
        accepting = [CancelScope() for _ in listeners]

        async def stop_accepting_on_shutdown() -> None:
            await wait_shutdown_requested()
            for scope in accepting:
                scope.cancel()

        nursery.start_service(stop_accepting_on_shutdown)
        for listener, scope in zip(listeners, accepting, strict=True):
            nursery.start_soon(_serve_one_listener, listener, handler_nursery, handler, scope)
        task_status.started(listeners)
