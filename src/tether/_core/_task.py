"""Tiers 3-4: the Task, a coroutine stepped by the runner."""

from __future__ import annotations

import types
from collections.abc import Coroutine, Iterator
from typing import TYPE_CHECKING, Any

from ._exceptions import Cancelled, _raise_cancelled
from ._traps import Abort, AbortFunc, RaiseCancelT
from ._util import NoPublicConstructor, final, name_of

if TYPE_CHECKING:
    import contextvars

    from ._cancel import CancelScope
    from ._nursery import Nursery
    from ._run import Runner


def _exception_from(raise_cancel: RaiseCancelT) -> BaseException:
    if raise_cancel is _raise_cancelled:
        return Cancelled._create()  # the common case, without a raise and a catch
    try:
        raise_cancel()
    except BaseException as exc:
        return exc
    raise AssertionError("raise_cancel() returned")  # pragma: no cover


def _checkpoint_abort(raise_cancel: RaiseCancelT) -> Abort:
    return Abort.SUCCEEDED


@final
class Task(metaclass=NoPublicConstructor):
    """A running coroutine, with its place in the task tree.

    Created by :meth:`Nursery.start_soon` and friends, never directly.
    """

    __slots__ = (
        "__weakref__",
        "_abort_func",
        "_cancel_points",
        "_cancel_status",
        "_child_nurseries",
        "_coro_send",
        "_coro_throw",
        "_eventual_parent_nursery",
        "_name",
        "_parent_nursery",
        "_runner",
        "_schedule_points",
        "_send_arg",
        "_send_fn",
        "_system_task",
        "context",
        "coro",
        "custom_sleep_data",
    )

    def __init__(
        self,
        coro: Coroutine[Any, Any, Any],
        name: object,
        context: contextvars.Context,
        parent_nursery: Nursery | None,
        runner: Runner,
        system_task: bool,
    ) -> None:
        self.coro = coro
        # A str, or the function the task runs: naming it costs a few string operations
        # per spawn, so that waits until someone asks.
        self._name = name
        self.context = context
        self._parent_nursery = parent_nursery
        self._eventual_parent_nursery: Nursery | None = None
        self._child_nurseries: list[Nursery] = []
        self._runner = runner
        self._system_task = system_task
        self._cancel_status: CancelScope = None  # type: ignore[assignment]  # set on spawn
        self._abort_func: AbortFunc | None = None
        # Bound once: the run loop resumes tasks millions of times.
        self._coro_send = coro.send
        self._coro_throw = coro.throw
        self._send_fn: Any = self._coro_send
        self._send_arg: Any = None
        self._cancel_points = 0
        self._schedule_points = 0
        self.custom_sleep_data: Any = None

    def __repr__(self) -> str:
        return f"<Task {self.name!r} at {id(self):#x}>"

    @property
    def name(self) -> str:
        """The task's name: given to ``start_soon(..., name=)``, else ``module.qualname`` of
        the function it runs."""
        name = self._name
        if not isinstance(name, str):
            name = self._name = name_of(name)
        return name

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    @property
    def parent_nursery(self) -> Nursery | None:
        """The nursery this task runs in (``None`` for the root task)."""
        return self._parent_nursery

    @property
    def eventual_parent_nursery(self) -> Nursery | None:
        """While the task is being started with :meth:`Nursery.start`, the nursery it will move
        to once it calls ``task_status.started()``; otherwise ``None``."""
        return self._eventual_parent_nursery

    @property
    def child_nurseries(self) -> list[Nursery]:
        """The nurseries this task has open, outermost first."""
        return list(self._child_nurseries)

    def iter_await_frames(self) -> Iterator[tuple[types.FrameType, int]]:
        """Yield ``(frame, lineno)`` for each frame of the task's await stack, outermost
        first: where the task is suspended, as a traceback would show it."""
        coro: Any = self.coro
        while coro is not None:
            if hasattr(coro, "cr_frame"):
                frame, nxt = coro.cr_frame, coro.cr_await
            elif hasattr(coro, "gi_frame"):
                frame, nxt = coro.gi_frame, coro.gi_yieldfrom
            elif hasattr(coro, "ag_frame"):  # pragma: no cover  # awaits reach an agen via asend
                frame, nxt = coro.ag_frame, coro.ag_await
            else:
                return
            if frame is None:
                return
            yield frame, frame.f_lineno
            coro = nxt

    # -- cancellation delivery (called by the cancel-scope tree and the runner) -------------

    def _attempt_abort(self, raise_cancel: RaiseCancelT) -> None:
        abort_func = self._abort_func
        assert abort_func is not None
        if abort_func is _checkpoint_abort:
            # Already in the run queue after a checkpoint: just change what it resumes with.
            self._abort_func = None
            self._send_fn = self._coro_throw
            self._send_arg = _exception_from(raise_cancel)
            return
        success = abort_func(raise_cancel)
        if type(success) is not Abort:
            raise TypeError(f"abort function must return tether.lowlevel.Abort, not {success!r}")
        if success is Abort.SUCCEEDED:
            self._runner._reschedule_throw(self, _exception_from(raise_cancel))

    def _attempt_delivery_of_any_pending_cancel(self) -> None:
        if self._abort_func is None or not self._cancel_status._effectively_cancelled:
            return
        self._attempt_abort(_raise_cancelled)
