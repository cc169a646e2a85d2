"""The tether kernel: tiers 1-4 and the run loop of tier 2.

Nothing here imports from the rest of tether. The public modules (``tether``,
``tether.lowlevel``, ``tether.abc``, ``tether.testing``) re-export what users need.
"""

from ._abc import Clock, Instrument
from ._cancel import CancelScope
from ._checkpoint_asserts import assert_checkpoints, assert_no_checkpoints
from ._entry_queue import TetherToken, current_tether_token
from ._exceptions import (
    BrokenResourceError,
    BusyResourceError,
    Cancelled,
    ClosedResourceError,
    EndOfChannel,
    RunFinishedError,
    TetherInternalError,
    WouldBlock,
)
from ._handles import TaskCancelledError, TaskFailedError, TaskHandle
from ._io import IOStatistics, notify_closing, wait_readable, wait_writable
from ._ki import currently_ki_protected, disable_ki_protection, enable_ki_protection
from ._local import RunVar, RunVarToken
from ._mock_clock import MockClock
from ._nursery import TASK_STATUS_IGNORED, Nursery, NurseryManager, TaskStatus, open_nursery
from ._parking_lot import (
    ParkingLot,
    ParkingLotStatistics,
    add_parking_lot_breaker,
    remove_parking_lot_breaker,
)
from ._run import (
    RunStatistics,
    add_instrument,
    checkpoint_if_cancelled,
    current_clock,
    current_effective_deadline,
    current_root_task,
    current_statistics,
    current_task,
    current_time,
    remove_instrument,
    reschedule,
    run,
    shutdown_requested,
    spawn_system_task,
    wait_all_tasks_blocked,
    wait_shutdown_requested,
)
from ._task import Task
from ._traps import (
    Abort,
    RaiseCancelT,
    cancel_shielded_checkpoint,
    checkpoint,
    wait_task_rescheduled,
)

__all__ = [
    "TASK_STATUS_IGNORED",
    "Abort",
    "BrokenResourceError",
    "BusyResourceError",
    "CancelScope",
    "Cancelled",
    "Clock",
    "ClosedResourceError",
    "EndOfChannel",
    "IOStatistics",
    "Instrument",
    "MockClock",
    "Nursery",
    "NurseryManager",
    "ParkingLot",
    "ParkingLotStatistics",
    "RaiseCancelT",
    "RunFinishedError",
    "RunStatistics",
    "RunVar",
    "RunVarToken",
    "Task",
    "TaskCancelledError",
    "TaskFailedError",
    "TaskHandle",
    "TaskStatus",
    "TetherInternalError",
    "TetherToken",
    "WouldBlock",
    "add_instrument",
    "add_parking_lot_breaker",
    "assert_checkpoints",
    "assert_no_checkpoints",
    "cancel_shielded_checkpoint",
    "checkpoint",
    "checkpoint_if_cancelled",
    "current_clock",
    "current_effective_deadline",
    "current_root_task",
    "current_statistics",
    "current_task",
    "current_tether_token",
    "current_time",
    "currently_ki_protected",
    "disable_ki_protection",
    "enable_ki_protection",
    "notify_closing",
    "open_nursery",
    "remove_instrument",
    "remove_parking_lot_breaker",
    "reschedule",
    "run",
    "shutdown_requested",
    "spawn_system_task",
    "wait_all_tasks_blocked",
    "wait_readable",
    "wait_shutdown_requested",
    "wait_task_rescheduled",
    "wait_writable",
]
