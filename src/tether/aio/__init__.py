"""tether.aio: asyncio's API on tether's kernel, for porting asyncio code.

Change ``import asyncio`` to ``import tether.aio as asyncio`` and the program runs on
tether: ``run``, tasks, futures, ``gather``/``wait``/``wait_for``/``timeout``/``TaskGroup``,
queues, locks, streams, protocols, subprocesses and the loop object behave as in asyncio
(see docs/porting-from-asyncio.md for the differences). Tasks made with ``create_task``
are still supervised: they live in a nursery owned by ``tether.aio.run``, so nothing
outlives the run and no exception is silently lost. This package imports nothing from
asyncio and uses only tether's public and lowlevel API.
"""

from . import subprocess
from ._exceptions import (
    BrokenBarrierError,
    CancelledError,
    IncompleteReadError,
    InvalidStateError,
    LimitOverrunError,
    QueueEmpty,
    QueueFull,
    TimeoutError,
)
from ._futures import Future, Task, isfuture
from ._locks import Barrier, BoundedSemaphore, Condition, Event, Lock, Semaphore
from ._loop import (
    AbstractEventLoop,
    EventLoop,
    Handle,
    Runner,
    TimerHandle,
    all_tasks,
    current_task,
    ensure_future,
    get_event_loop,
    get_running_loop,
    new_event_loop,
    run,
    run_coroutine_threadsafe,
    set_event_loop,
    wrap_future,
)
from ._protocols import (
    BaseProtocol,
    DatagramProtocol,
    DatagramTransport,
    Protocol,
    Transport,
)
from ._queues import LifoQueue, PriorityQueue, Queue
from ._streams import (
    Server,
    StreamReader,
    StreamWriter,
    open_connection,
    open_unix_connection,
    start_server,
    start_unix_server,
)
from ._tasks import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    TaskGroup,
    Timeout,
    as_completed,
    create_task,
    gather,
    shield,
    sleep,
    timeout,
    timeout_at,
    to_thread,
    wait,
    wait_for,
)
from .subprocess import create_subprocess_exec, create_subprocess_shell

__all__ = [
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "AbstractEventLoop",
    "Barrier",
    "BaseProtocol",
    "BoundedSemaphore",
    "BrokenBarrierError",
    "CancelledError",
    "Condition",
    "DatagramProtocol",
    "DatagramTransport",
    "Event",
    "EventLoop",
    "Future",
    "Handle",
    "IncompleteReadError",
    "InvalidStateError",
    "LifoQueue",
    "LimitOverrunError",
    "Lock",
    "PriorityQueue",
    "Protocol",
    "Queue",
    "QueueEmpty",
    "QueueFull",
    "Runner",
    "Semaphore",
    "Server",
    "StreamReader",
    "StreamWriter",
    "Task",
    "TaskGroup",
    "Timeout",
    "TimeoutError",
    "TimerHandle",
    "Transport",
    "all_tasks",
    "as_completed",
    "create_subprocess_exec",
    "create_subprocess_shell",
    "create_task",
    "current_task",
    "ensure_future",
    "gather",
    "get_event_loop",
    "get_running_loop",
    "isfuture",
    "new_event_loop",
    "open_connection",
    "open_unix_connection",
    "run",
    "run_coroutine_threadsafe",
    "set_event_loop",
    "shield",
    "sleep",
    "start_server",
    "start_unix_server",
    "subprocess",
    "timeout",
    "timeout_at",
    "to_thread",
    "wait",
    "wait_for",
    "wrap_future",
]
