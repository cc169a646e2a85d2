"""Run blocking code in worker threads: ``await tether.to_thread.run_sync(fn, *args)``."""

from ._threads import current_default_thread_limiter, run_sync

__all__ = ["current_default_thread_limiter", "run_sync"]
