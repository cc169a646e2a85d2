"""The kernel's own results: a task's return value or exception, without ``outcome``.

Importing the ``outcome`` package (and the ``attrs`` it is built on) costs more than the
rest of the kernel, so ``import tether`` does not pay for it. Inside the kernel a task's
result is one of these two small classes, with the attributes of ``outcome.Value`` and
``outcome.Error`` that the kernel reads (``.value`` / ``.error``). Where a result reaches
users (:attr:`TaskHandle.outcome`) it becomes a real ``outcome`` object, and
:func:`~tether.lowlevel.reschedule` takes both kinds.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import outcome

__all__ = ["SEND_KINDS", "Error", "Value", "capture", "foreign_send_kind", "to_outcome", "unwrap"]


class Value:
    """A task returned ``value``."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Value({self.value!r})"


class Error:
    """A task raised ``error``."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"Error({self.error!r})"


def capture(fn: Callable[..., Any], *args: Any) -> Value | Error:
    """``fn(*args)``'s return value or exception, as a kernel result."""
    try:
        return Value(fn(*args))
    except BaseException as exc:
        return Error(exc)


def unwrap(result: Value | Error) -> Any:
    """The value, or raise the exception (with its original traceback)."""
    if type(result) is Value:
        return result.value
    error = result.error  # type: ignore[union-attr]
    try:
        raise error
    finally:
        del error  # no frame -> traceback -> frame cycle


# What ``reschedule`` resumes a task with: type of the object -> True for an error.
# ``outcome``'s own classes join the first time one is passed (see foreign_send_kind).
SEND_KINDS: dict[type, bool] = {Value: False, Error: True}


def foreign_send_kind(next_send: object) -> bool:
    """Whether ``next_send``, an ``outcome.Value`` or ``outcome.Error``, is an error.

    Registers ``outcome``'s classes in :data:`SEND_KINDS` so later calls take the fast
    path; ``TypeError`` for anything else."""
    # Anyone holding an outcome object has imported the package: no import here.
    module = sys.modules.get("outcome")
    if module is not None:
        SEND_KINDS[module.Value] = False
        SEND_KINDS[module.Error] = True
        kind = SEND_KINDS.get(type(next_send))
        if kind is not None:
            return kind
    raise TypeError(f"next_send must be an outcome.Value or outcome.Error, not {next_send!r}")


def to_outcome(result: Value | Error) -> outcome.Outcome[Any]:
    """The ``outcome`` package's equivalent of a kernel result (imports it on first use)."""
    import outcome

    if type(result) is Error:
        return outcome.Error(result.error)
    assert type(result) is Value
    return outcome.Value(result.value)
