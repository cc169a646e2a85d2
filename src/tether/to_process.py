"""Run CPU-bound code in worker processes: ``await tether.to_process.run_sync(fn, *args)``."""

from ._process import (
    BrokenWorkerError,
    RemoteTraceback,
    UnpicklableResultError,
    configure,
    current_default_process_limiter,
    run_in_executor,
    run_sync,
)

__all__ = [
    "BrokenWorkerError",
    "RemoteTraceback",
    "UnpicklableResultError",
    "configure",
    "current_default_process_limiter",
    "run_in_executor",
    "run_sync",
]
