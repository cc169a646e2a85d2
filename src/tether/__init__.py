"""tether: structured concurrency for Python.

Start with :func:`run` and :func:`open_nursery`; see the docs/ folder for the tutorial.
"""

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
    TaskStatus,
    TetherInternalError,
    WouldBlock,
    checkpoint,
    checkpoint_if_cancelled,
    current_effective_deadline,
    current_time,
    open_nursery,
    run,
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

__version__ = "0.1.0.dev0"

__all__ = [
    "TASK_STATUS_IGNORED",
    "BrokenResourceError",
    "BusyResourceError",
    "CancelScope",
    "Cancelled",
    "ClosedResourceError",
    "EndOfChannel",
    "Nursery",
    "RunFinishedError",
    "TaskStatus",
    "TetherInternalError",
    "TooSlowError",
    "WouldBlock",
    "checkpoint",
    "checkpoint_if_cancelled",
    "current_effective_deadline",
    "current_time",
    "fail_after",
    "fail_at",
    "move_on_after",
    "move_on_at",
    "open_nursery",
    "run",
    "sleep",
    "sleep_forever",
    "sleep_until",
]
