"""Futures and tasks with asyncio's semantics, driven by tether's kernel.

A :class:`Task` is a tether task (in the nursery that ``tether.aio.run`` owns) that
steps the user's coroutine itself and forwards each trap it yields to the kernel, inside
a fresh cancel scope per step. ``Task.cancel()`` cancels the current step's scope only,
and the driver throws :exc:`CancelledError` into the coroutine once: asyncio's
edge-triggered cancellation, on top of tether's level-triggered one.
"""

from __future__ import annotations

import contextvars
import itertools
import types
from collections.abc import Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import tether
from tether.lowlevel import ParkingLot

from ._exceptions import CancelledError, InvalidStateError

if TYPE_CHECKING:
    from ._loop import EventLoop

T = TypeVar("T")

_PENDING, _CANCELLED, _FINISHED = "PENDING", "CANCELLED", "FINISHED"


class Future(Generic[T]):
    """A result that arrives later (like ``asyncio.Future``)."""

    _asyncio_future_blocking = False

    def __init__(self, *, loop: EventLoop | None = None) -> None:
        from ._loop import get_event_loop

        self._loop = loop if loop is not None else get_event_loop()
        self._state = _PENDING
        self._result: Any = None
        self._exception: BaseException | None = None
        self._callbacks: list[tuple[Callable[[Any], object], contextvars.Context]] = []
        self._waiters = ParkingLot()
        self._cancel_message: object = None
        self._retrieved = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._state.lower()}{self._repr_info()}>"

    def _repr_info(self) -> str:
        if self._state == _FINISHED:
            if self._exception is not None:
                return f" exception={self._exception!r}"
            return f" result={self._result!r}"
        return ""

    def get_loop(self) -> EventLoop:
        return self._loop

    def done(self) -> bool:
        return self._state != _PENDING

    def cancelled(self) -> bool:
        return self._state == _CANCELLED

    def result(self) -> T:
        if self._state == _CANCELLED:
            raise self._make_cancelled_error()
        if self._state != _FINISHED:
            raise InvalidStateError("Result is not set.")
        self._retrieved = True
        if self._exception is not None:
            raise self._exception.with_traceback(self._exception.__traceback__)
        return self._result  # type: ignore[no-any-return]

    def exception(self) -> BaseException | None:
        if self._state == _CANCELLED:
            raise self._make_cancelled_error()
        if self._state != _FINISHED:
            raise InvalidStateError("Exception is not set.")
        self._retrieved = True
        return self._exception

    def _make_cancelled_error(self) -> CancelledError:
        if self._cancel_message is None:
            return CancelledError()
        return CancelledError(self._cancel_message)

    def set_result(self, result: T) -> None:
        if self._state != _PENDING:
            raise InvalidStateError(f"{self._state}: {self!r}")
        self._result = result
        self._state = _FINISHED
        self._schedule_callbacks()

    def set_exception(self, exception: BaseException | type[BaseException]) -> None:
        if self._state != _PENDING:
            raise InvalidStateError(f"{self._state}: {self!r}")
        if isinstance(exception, type):
            exception = exception()
        if isinstance(exception, StopIteration):
            raise TypeError(
                "StopIteration interacts badly with generators and cannot be raised into a Future"
            )
        self._exception = exception
        self._state = _FINISHED
        self._schedule_callbacks()

    def cancel(self, msg: object = None) -> bool:
        if self._state != _PENDING:
            return False
        self._state = _CANCELLED
        self._cancel_message = msg
        self._schedule_callbacks()
        return True

    def add_done_callback(
        self, fn: Callable[[Any], object], *, context: contextvars.Context | None = None
    ) -> None:
        if context is None:
            context = contextvars.copy_context()
        if self._state != _PENDING:
            self._loop.call_soon(fn, self, context=context)
        else:
            self._callbacks.append((fn, context))

    def remove_done_callback(self, fn: Callable[[Any], object]) -> int:
        kept = [(f, c) for f, c in self._callbacks if f != fn]
        removed = len(self._callbacks) - len(kept)
        self._callbacks = kept
        return removed

    def _schedule_callbacks(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for fn, context in callbacks:
            self._loop.call_soon(fn, self, context=context)
        if self._waiters:
            self._waiters.unpark_all()

    async def _wait(self) -> T:
        if self._state == _PENDING:
            try:
                await self._waiters.park()
            except BaseException:
                # As in asyncio: when the awaiting task is cancelled, so is what it awaits.
                self.cancel()
                raise
        return self.result()

    def __await__(self) -> Generator[Any, None, T]:
        return self._wait().__await__()

    __iter__ = __await__


_task_names = itertools.count(1)


@types.coroutine
def _forward(message: Any) -> Generator[Any, Any, Any]:
    return (yield message)


class Task(Future[T]):
    """A coroutine running under ``tether.aio`` (like ``asyncio.Task``).

    It runs in a tether task of the nursery that ``tether.aio.run`` owns, so it never
    outlives the run; an exception it raises is kept for whoever awaits it (and reported
    at the end of the run if nobody did, as asyncio does).
    """

    def __init__(
        self,
        coro: Coroutine[Any, Any, T],
        *,
        loop: EventLoop | None = None,
        name: str | None = None,
        context: contextvars.Context | None = None,
    ) -> None:
        super().__init__(loop=loop)
        if not _is_coroutine(coro):
            raise TypeError(f"a coroutine was expected, got {coro!r}")
        self._coro = coro
        self._name = name if name is not None else f"Task-{next(_task_names)}"
        self._context = context if context is not None else contextvars.copy_context()
        self._step_scope: tether.CancelScope | None = None
        self._must_cancel = False
        self._num_cancels_requested = 0
        self._tether_task: Any = None
        self._loop._start_task(self)

    def _repr_info(self) -> str:
        coro = getattr(self._coro, "__qualname__", repr(self._coro))
        return f" name={self._name!r} coro=<{coro}>" + super()._repr_info()

    def get_name(self) -> str:
        return self._name

    def set_name(self, value: object) -> None:
        self._name = str(value)

    def get_coro(self) -> Coroutine[Any, Any, T]:
        return self._coro

    def get_context(self) -> contextvars.Context:
        return self._context

    def get_stack(self, *, limit: int | None = None) -> list[types.FrameType]:
        frame = getattr(self._coro, "cr_frame", None)
        return [frame] if frame is not None else []

    def set_result(self, result: T) -> None:
        raise RuntimeError("Task does not support set_result operation")

    def set_exception(self, exception: BaseException | type[BaseException]) -> None:
        raise RuntimeError("Task does not support set_exception operation")

    def cancel(self, msg: object = None) -> bool:
        """Request that the task be cancelled: :exc:`CancelledError` is thrown into its
        coroutine at its current (or next) await. It may catch it and carry on."""
        if self.done():
            return False
        self._num_cancels_requested += 1
        self._must_cancel = True
        self._cancel_message = msg
        if self._step_scope is not None:
            self._step_scope.cancel()
        return True

    def cancelling(self) -> int:
        return self._num_cancels_requested

    def uncancel(self) -> int:
        if self._num_cancels_requested > 0:
            self._num_cancels_requested -= 1
        return self._num_cancels_requested

    async def _drive(self) -> None:
        """Step the coroutine, forwarding its traps to the kernel (runs as a tether task)."""
        from ._loop import _set_current_task

        coro: Any = self._coro
        send: Any = None
        throw: BaseException | None = None
        while True:
            if self._must_cancel and throw is None:
                self._must_cancel = False
                throw = self._make_cancelled_error()
            previous = _set_current_task(self)
            try:
                if throw is not None:
                    message = self._context.run(coro.throw, throw)
                else:
                    message = self._context.run(coro.send, send)
            except StopIteration as stop:
                Future.set_result(self, stop.value)
                return
            except CancelledError:
                Future.cancel(self, msg=self._cancel_message)
                return
            except tether.Cancelled:
                # Cancelled from outside the task (the run is being torn down): the task
                # ends as cancelled and the scope that cancelled us catches this.
                Future.cancel(self, msg=self._cancel_message)
                raise
            except BaseException as exc:
                if exc.__traceback__ is not None:  # drop this driver's frame
                    exc = exc.with_traceback(exc.__traceback__.tb_next)
                Future.set_exception(self, exc)
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                return
            finally:
                _set_current_task(previous)
            throw = None
            send = None
            with tether.CancelScope() as scope:
                self._step_scope = scope
                if self._must_cancel:
                    scope.cancel()
                try:
                    send = await _forward(message)
                except tether.Cancelled as cancelled:
                    if scope.cancel_called:
                        # Our own cancel(): asyncio's edge-triggered CancelledError.
                        self._must_cancel = False
                        throw = self._make_cancelled_error()
                    else:
                        # A tether scope inside the coroutine (a sleep's deadline, a
                        # timeout) or outside the task: its own Cancelled goes in.
                        throw = cancelled
                except BaseException as exc:
                    throw = exc
                finally:
                    self._step_scope = None


def _is_coroutine(obj: object) -> bool:
    return isinstance(obj, Coroutine) or (
        isinstance(obj, types.GeneratorType) and bool(obj.gi_code.co_flags & 0x100)
    )


def isfuture(obj: object) -> bool:
    """Whether ``obj`` is a tether.aio Future (or Task)."""
    return isinstance(obj, Future)
