"""Tier 5: process offloading (tether.to_process) and awaiting executors."""

from ._executor import run_in_executor
from ._pool import (
    BrokenWorkerError,
    RemoteTraceback,
    configure,
    current_default_process_limiter,
    run_sync,
)
from ._worker import UnpicklableResultError

__all__ = [
    "BrokenWorkerError",
    "RemoteTraceback",
    "UnpicklableResultError",
    "configure",
    "current_default_process_limiter",
    "run_in_executor",
    "run_sync",
]
