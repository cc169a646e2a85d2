"""Re-entering the run loop from other threads and signal handlers: TetherToken."""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING, Any

from ._exceptions import Cancelled, RunFinishedError
from ._global import current_runner
from ._ki import enable_ki_protection
from ._traps import Abort, RaiseCancelT, cancel_shielded_checkpoint, wait_task_rescheduled
from ._util import NoPublicConstructor, final

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._io import IOBackend
    from ._task import Task

Job = tuple["Callable[..., object]", tuple[Any, ...]]


class EntryQueue:
    """Callbacks queued by :meth:`TetherToken.run_sync_soon`, run by a system task."""

    def __init__(self, io: IOBackend) -> None:
        self.io = io
        self.queue: deque[Job] = deque()
        self.idempotent: dict[Job, None] = {}
        # Re-entrant: a signal handler may queue a callback while the main thread holds it.
        self.lock = threading.RLock()
        self.done = False
        self.parked_task: Task | None = None

    def size(self) -> int:
        return len(self.queue) + len(self.idempotent)

    def run_sync_soon(
        self, fn: Callable[..., object], args: tuple[Any, ...], idempotent: bool
    ) -> None:
        with self.lock:
            if self.done:
                raise RunFinishedError("the tether run this token belongs to has finished")
            if idempotent:
                self.idempotent[(fn, args)] = None
            else:
                self.queue.append((fn, args))
            self.io.wakeup_threadsafe()

    def wake_if_needed(self) -> None:
        """Called by the run loop each round: resume the queue's task if work arrived."""
        task = self.parked_task
        if task is not None and (self.queue or self.idempotent):
            self.parked_task = None
            task._runner.reschedule(task)

    def _run_one(self, job: Job) -> None:
        fn, args = job
        try:
            fn(*args)
        except BaseException as exc:
            error = exc

            # A callback that raises is a bug in whoever queued it: crash the run loudly.
            async def reraise() -> None:
                raise error

            runner = current_runner()
            try:
                runner.spawn_system(reraise, (), name=f"<run_sync_soon callback {fn!r} raised>")
            except RuntimeError:  # the system nursery is already closed
                runner.internal_errors.append(error)

    def _run_batch(self) -> None:
        # Only what is queued now: a callback that queues another must not starve the loop.
        for _ in range(len(self.queue)):
            self._run_one(self.queue.popleft())
        if self.idempotent:
            with self.lock:
                jobs = list(self.idempotent)
                self.idempotent.clear()
            for job in jobs:
                self._run_one(job)

    async def task(self) -> None:
        try:
            while True:
                self._run_batch()
                if self.queue or self.idempotent:
                    await cancel_shielded_checkpoint()
                    continue
                self.parked_task = current_runner().current_task

                def abort(_: RaiseCancelT) -> Abort:
                    self.parked_task = None
                    return Abort.SUCCEEDED

                await wait_task_rescheduled(abort)
        except Cancelled:
            pass
        finally:
            with self.lock:
                self.done = True
            # Anything that slipped in before `done` still runs, so no callback is lost.
            while self.queue or self.idempotent:
                self._run_batch()


enable_ki_protection(EntryQueue.task)


@final
class TetherToken(metaclass=NoPublicConstructor):
    """A handle on a running ``tether.run`` that other threads may use.

    Get it with :func:`current_tether_token` inside the run and hand it to threads. Its
    only method, :meth:`run_sync_soon`, is safe to call from any thread and from signal
    handlers.
    """

    __slots__ = ("_entry_queue",)

    def __init__(self, entry_queue: EntryQueue) -> None:
        self._entry_queue = entry_queue

    def run_sync_soon(
        self, sync_fn: Callable[..., object], *args: object, idempotent: bool = False
    ) -> None:
        """Schedule ``sync_fn(*args)`` to run in the loop's thread, soon.

        Callbacks run in the order queued (``idempotent=True`` ones: at most one pending
        copy per ``(sync_fn, args)``, order not guaranteed). A callback must not block and
        must not raise: an exception from it crashes the run with ``TetherInternalError``.
        Raises :exc:`RunFinishedError` once the run is over.
        """
        self._entry_queue.run_sync_soon(sync_fn, args, idempotent)


def current_tether_token() -> TetherToken:
    """The :class:`TetherToken` of the current run."""
    return current_runner().token
