"""The per-thread pointer to the running kernel, shared by every kernel module."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._run import Runner


class _RunContext(threading.local):
    runner: Runner | None = None


GLOBAL_RUN_CONTEXT = _RunContext()


def current_runner() -> Runner:
    runner = GLOBAL_RUN_CONTEXT.runner
    if runner is None:
        raise RuntimeError("must be called from async context (inside tether.run)")
    return runner
