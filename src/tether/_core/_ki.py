"""KeyboardInterrupt safety.

Ctrl-C must never land in the middle of the kernel's bookkeeping. Code is "KI-protected"
or not by its code object: :func:`enable_ki_protection` and :func:`disable_ki_protection`
mark a function (sync, async, generator or async generator: all frames of one function
share its code object). When SIGINT arrives, the handler walks the interrupted stack
outwards to the first marked frame. Unprotected: it raises ``KeyboardInterrupt`` right
there. Protected: it records the interrupt and wakes the run loop, which delivers it to
the main task at its next checkpoint.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    # Only for type checkers: at run time a string bound costs a compile() (~1 ms).
    F = TypeVar("F", bound=Callable[..., object])

# code object -> protected?  Populated at import time; read only from the signal handler.
_CODE_PROTECTION: dict[types.CodeType, bool] = {}

# The frame that steps tasks: reaching it from above means "we were inside a task", and the
# task's own default applies (user tasks unprotected, system tasks protected).
_TASK_BOUNDARY: set[types.CodeType] = set()


def _code_of(fn: Callable[..., object]) -> types.CodeType:
    target: object = fn
    while True:
        code = getattr(target, "__code__", None)
        if isinstance(code, types.CodeType):
            return code
        wrapped = getattr(target, "__wrapped__", None) or getattr(target, "__func__", None)
        if wrapped is None:
            raise TypeError(f"cannot change KeyboardInterrupt protection of {fn!r}")
        target = wrapped


def enable_ki_protection(fn: F) -> F:
    """Decorator: KeyboardInterrupt is deferred while ``fn`` (and what it calls) runs."""
    _CODE_PROTECTION[_code_of(fn)] = True
    return fn


def disable_ki_protection(fn: F) -> F:
    """Decorator: KeyboardInterrupt may be raised immediately while ``fn`` runs."""
    _CODE_PROTECTION[_code_of(fn)] = False
    return fn


def mark_task_boundary(fn: F) -> F:
    _TASK_BOUNDARY.add(_code_of(fn))
    _CODE_PROTECTION[_code_of(fn)] = True
    return fn


def ki_protection_enabled(frame: types.FrameType | None, task_default: bool) -> bool:
    """Whether KeyboardInterrupt must be deferred for code running in ``frame``.

    ``task_default`` is the protection of the task being stepped, if any.
    """
    first = True
    while frame is not None:
        code = frame.f_code
        if code in _TASK_BOUNDARY and not first:
            return task_default
        status = _CODE_PROTECTION.get(code)
        if status is not None:
            return status
        first = False
        frame = frame.f_back
    # Outside every marked frame means outside tether: not our business to defer.
    return False


def currently_ki_protected() -> bool:
    """Whether the calling code runs with KeyboardInterrupt protection enabled."""
    from ._global import GLOBAL_RUN_CONTEXT

    runner = getattr(GLOBAL_RUN_CONTEXT, "runner", None)
    task = runner.current_task if runner is not None else None
    default = task._system_task if task is not None else False
    return ki_protection_enabled(sys._getframe(1), default)
