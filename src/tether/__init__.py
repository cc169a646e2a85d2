"""tether: structured concurrency for Python.

Start with :func:`run` and :func:`open_nursery`; the docs/ folder has the tutorial.
The kernel loads with the package; every other tier loads on first use, so that
``import tether`` stays fast."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._core import (
    TASK_STATUS_IGNORED,
    BrokenResourceError,
    BusyResourceError,
    Cancelled,
    CancelScope,
    ClosedResourceError,
    EndOfChannel,
    Nursery,
    RunFinishedError,
    TaskCancelledError,
    TaskFailedError,
    TaskHandle,
    TaskStatus,
    TetherInternalError,
    WouldBlock,
    checkpoint,
    checkpoint_if_cancelled,
    current_effective_deadline,
    current_time,
    open_nursery,
    run,
    shutdown_requested,
    wait_shutdown_requested,
)
from ._timeouts import (
    TooSlowError,
    fail_after,
    fail_at,
    move_on_after,
    move_on_at,
    sleep,
    sleep_forever,
    sleep_until,
)

if TYPE_CHECKING:
    from . import abc, from_thread, lowlevel, socket, to_process, to_thread
    from ._bridge_channel import (
        BridgeChannelStatistics as BridgeChannelStatistics,
    )
    from ._bridge_channel import (
        BridgeReceiveChannel as BridgeReceiveChannel,
    )
    from ._bridge_channel import (
        BridgeSendChannel as BridgeSendChannel,
    )
    from ._bridge_channel import (
        open_bridge_channel as open_bridge_channel,
    )
    from ._channel import (
        MemoryChannelStatistics as MemoryChannelStatistics,
    )
    from ._channel import (
        MemoryReceiveChannel as MemoryReceiveChannel,
    )
    from ._channel import (
        MemorySendChannel as MemorySendChannel,
    )
    from ._channel import (
        open_memory_channel as open_memory_channel,
    )
    from ._file_io import (
        AsyncIOWrapper as AsyncIOWrapper,
    )
    from ._file_io import (
        Path as Path,
    )
    from ._file_io import (
        open_file as open_file,
    )
    from ._file_io import (
        wrap_file as wrap_file,
    )
    from ._gather import (
        gather as gather,
    )
    from ._signals import (
        SignalReceiver as SignalReceiver,
    )
    from ._signals import (
        open_signal_receiver as open_signal_receiver,
    )
    from ._streams import (
        BufferedReceiveStream as BufferedReceiveStream,
    )
    from ._streams import (
        DelimiterTooFarError as DelimiterTooFarError,
    )
    from ._streams import (
        IncompleteReceiveError as IncompleteReceiveError,
    )
    from ._streams import (
        SocketListener as SocketListener,
    )
    from ._streams import (
        SocketStream as SocketStream,
    )
    from ._streams import (
        aclose_forcefully as aclose_forcefully,
    )
    from ._streams import (
        open_tcp_listeners as open_tcp_listeners,
    )
    from ._streams import (
        open_tcp_stream as open_tcp_stream,
    )
    from ._streams import (
        open_unix_listener as open_unix_listener,
    )
    from ._streams import (
        open_unix_socket as open_unix_socket,
    )
    from ._streams import (
        serve_listeners as serve_listeners,
    )
    from ._streams import (
        serve_tcp as serve_tcp,
    )
    from ._streams import (
        serve_unix as serve_unix,
    )
    from ._streams._ssl import (
        NeedHandshakeError as NeedHandshakeError,
    )
    from ._streams._ssl import (
        SSLStream as SSLStream,
    )
    from ._streams._ssl_helpers import (
        open_ssl_over_tcp_listeners as open_ssl_over_tcp_listeners,
    )
    from ._streams._ssl_helpers import (
        open_ssl_over_tcp_stream as open_ssl_over_tcp_stream,
    )
    from ._streams._ssl_helpers import (
        serve_ssl_over_tcp as serve_ssl_over_tcp,
    )
    from ._streams._ssl_listener import (
        SSLListener as SSLListener,
    )
    from ._streams._stapled import (
        StapledStream as StapledStream,
    )
    from ._subprocess import (
        Process as Process,
    )
    from ._subprocess import (
        open_process as open_process,
    )
    from ._subprocess import (
        run_process as run_process,
    )
    from ._sync import (
        CapacityLimiter as CapacityLimiter,
    )
    from ._sync import (
        CapacityLimiterStatistics as CapacityLimiterStatistics,
    )
    from ._sync import (
        Condition as Condition,
    )
    from ._sync import (
        ConditionStatistics as ConditionStatistics,
    )
    from ._sync import (
        Event as Event,
    )
    from ._sync import (
        EventStatistics as EventStatistics,
    )
    from ._sync import (
        Lock as Lock,
    )
    from ._sync import (
        LockStatistics as LockStatistics,
    )
    from ._sync import (
        Semaphore as Semaphore,
    )
    from ._sync import (
        SemaphoreStatistics as SemaphoreStatistics,
    )
    from ._sync import (
        StrictFIFOLock as StrictFIFOLock,
    )
    from ._unwrap import (
        unwrap_single_error as unwrap_single_error,
    )

__version__ = "0.1.0.dev0"

_SUBMODULES = ("abc", "from_thread", "lowlevel", "socket", "to_process", "to_thread")
_LAZY_NAMES = {
    "BridgeChannelStatistics": "_bridge_channel",
    "BridgeReceiveChannel": "_bridge_channel",
    "BridgeSendChannel": "_bridge_channel",
    "open_bridge_channel": "_bridge_channel",
    "MemoryChannelStatistics": "_channel",
    "MemoryReceiveChannel": "_channel",
    "MemorySendChannel": "_channel",
    "open_memory_channel": "_channel",
    "AsyncIOWrapper": "_file_io",
    "Path": "_file_io",
    "open_file": "_file_io",
    "wrap_file": "_file_io",
    "gather": "_gather",
    "SignalReceiver": "_signals",
    "open_signal_receiver": "_signals",
    "BufferedReceiveStream": "_streams",
    "DelimiterTooFarError": "_streams",
    "IncompleteReceiveError": "_streams",
    "SocketListener": "_streams",
    "SocketStream": "_streams",
    "aclose_forcefully": "_streams",
    "open_tcp_listeners": "_streams",
    "open_tcp_stream": "_streams",
    "open_unix_listener": "_streams",
    "open_unix_socket": "_streams",
    "serve_listeners": "_streams",
    "serve_tcp": "_streams",
    "serve_unix": "_streams",
    "NeedHandshakeError": "_streams._ssl",
    "SSLStream": "_streams._ssl",
    "open_ssl_over_tcp_listeners": "_streams._ssl_helpers",
    "open_ssl_over_tcp_stream": "_streams._ssl_helpers",
    "serve_ssl_over_tcp": "_streams._ssl_helpers",
    "SSLListener": "_streams._ssl_listener",
    "StapledStream": "_streams._stapled",
    "Process": "_subprocess",
    "open_process": "_subprocess",
    "run_process": "_subprocess",
    "CapacityLimiter": "_sync",
    "CapacityLimiterStatistics": "_sync",
    "Condition": "_sync",
    "ConditionStatistics": "_sync",
    "Event": "_sync",
    "EventStatistics": "_sync",
    "Lock": "_sync",
    "LockStatistics": "_sync",
    "Semaphore": "_sync",
    "SemaphoreStatistics": "_sync",
    "StrictFIFOLock": "_sync",
    "unwrap_single_error": "_unwrap",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        value: Any = importlib.import_module(f".{name}", __name__)
    elif name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    else:
        raise AttributeError(f"module 'tether' has no attribute {name!r}")
    globals()[name] = value  # next time, a plain global lookup
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "TASK_STATUS_IGNORED",
    "AsyncIOWrapper",
    "BridgeChannelStatistics",
    "BridgeReceiveChannel",
    "BridgeSendChannel",
    "BrokenResourceError",
    "BufferedReceiveStream",
    "BusyResourceError",
    "CancelScope",
    "Cancelled",
    "CapacityLimiter",
    "CapacityLimiterStatistics",
    "ClosedResourceError",
    "Condition",
    "ConditionStatistics",
    "DelimiterTooFarError",
    "EndOfChannel",
    "Event",
    "EventStatistics",
    "IncompleteReceiveError",
    "Lock",
    "LockStatistics",
    "MemoryChannelStatistics",
    "MemoryReceiveChannel",
    "MemorySendChannel",
    "NeedHandshakeError",
    "Nursery",
    "Path",
    "Process",
    "RunFinishedError",
    "SSLListener",
    "SSLStream",
    "Semaphore",
    "SemaphoreStatistics",
    "SignalReceiver",
    "SocketListener",
    "SocketStream",
    "StapledStream",
    "StrictFIFOLock",
    "TaskCancelledError",
    "TaskFailedError",
    "TaskHandle",
    "TaskStatus",
    "TetherInternalError",
    "TooSlowError",
    "WouldBlock",
    "abc",
    "aclose_forcefully",
    "checkpoint",
    "checkpoint_if_cancelled",
    "current_effective_deadline",
    "current_time",
    "fail_after",
    "fail_at",
    "from_thread",
    "gather",
    "lowlevel",
    "move_on_after",
    "move_on_at",
    "open_bridge_channel",
    "open_file",
    "open_memory_channel",
    "open_nursery",
    "open_process",
    "open_signal_receiver",
    "open_ssl_over_tcp_listeners",
    "open_ssl_over_tcp_stream",
    "open_tcp_listeners",
    "open_tcp_stream",
    "open_unix_listener",
    "open_unix_socket",
    "run",
    "run_process",
    "serve_listeners",
    "serve_ssl_over_tcp",
    "serve_tcp",
    "serve_unix",
    "shutdown_requested",
    "sleep",
    "sleep_forever",
    "sleep_until",
    "socket",
    "to_process",
    "to_thread",
    "unwrap_single_error",
    "wait_shutdown_requested",
    "wrap_file",
]
