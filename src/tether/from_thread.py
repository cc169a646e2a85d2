"""Call into the tether loop from a worker thread (the reverse of :mod:`tether.to_thread`)."""

from ._threads import from_thread_check_cancelled as check_cancelled
from ._threads import from_thread_run as run
from ._threads import from_thread_run_sync as run_sync
from ._threads import from_thread_token as current_token

__all__ = ["check_cancelled", "current_token", "run", "run_sync"]
