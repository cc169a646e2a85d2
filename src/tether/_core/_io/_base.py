"""The I/O backend interface (tier 2) and the waiter bookkeeping its implementations share.

A backend knows which task waits to read or write which fd, keeps the OS registration in
step with that, blocks for at most a timeout, and can be woken from any thread or a
signal handler. Implementations supply only the OS calls: ``_set_registration`` and
``_wait``. Anything faster (io_uring, a compiled poller) plugs in here without touching
the tiers above.
"""

from __future__ import annotations

import abc
import os
import weakref
from typing import TYPE_CHECKING, Protocol

from .._exceptions import BusyResourceError, ClosedResourceError
from .._global import current_runner
from .._ki import enable_ki_protection
from .._traps import Abort, RaiseCancelT, wait_task_rescheduled
from .._util import FrozenRecord

if TYPE_CHECKING:
    from .._task import Task

READABLE = 1
WRITABLE = 2
# "We don't know what the OS watches for this fd": neither 0 nor a real mask, so the next
# update always issues a system call (and the backends fall back between add and modify).
_UNKNOWN = 4


class _HasFileno(Protocol):
    def fileno(self) -> int: ...


FileDescriptorLike = int | _HasFileno


def as_fd(obj: FileDescriptorLike) -> int:
    """The fd number of an int or an object with ``fileno()``; a clear error otherwise."""
    if isinstance(obj, int):
        fd = obj
    else:
        fileno = getattr(obj, "fileno", None)
        if fileno is None:
            raise TypeError(f"expected a file descriptor or an object with fileno(), not {obj!r}")
        fd = fileno()
        if not isinstance(fd, int):
            raise TypeError(f"{obj!r}.fileno() returned {fd!r}, not an int")
    if fd < 0:
        raise ValueError(f"invalid file descriptor {fd} (is the object already closed?)")
    return fd


class IOStatistics(FrozenRecord):
    """What :func:`tether.lowlevel.current_statistics` reports about the I/O backend."""

    __slots__ = ("backend", "tasks_waiting_read", "tasks_waiting_write")
    __match_args__ = ("backend", "tasks_waiting_read", "tasks_waiting_write")
    backend: str
    tasks_waiting_read: int
    tasks_waiting_write: int

    def __init__(self, backend: str, tasks_waiting_read: int, tasks_waiting_write: int) -> None:
        self._fill(backend, tasks_waiting_read, tasks_waiting_write)


class _FdWaiters:
    """Who waits on one fd, and what the OS was told to watch.

    ``owner`` is a weak reference to the object (socket, file) whose ``fileno()`` this is,
    when the caller passed an object rather than an int. Such registrations are sticky:
    kept after a wake-up, because the same object usually waits again right away, and
    trimmed only when an event arrives that nobody waits for. The owner's identity makes
    that safe: if the fd number now belongs to a different object, the remembered
    registration is not trusted.
    """

    __slots__ = ("owner", "read_task", "registered", "write_task")

    def __init__(self, owner: weakref.ref[object] | None) -> None:
        self.read_task: Task | None = None
        self.write_task: Task | None = None
        self.registered = 0
        self.owner = owner


class IOBackend(abc.ABC):
    """Base of every I/O backend: fd waiters, wake-up socket, and the wait primitives."""

    name = "abstract"

    def __init__(self) -> None:
        self._fds: dict[int, _FdWaiters] = {}
        self._waiting = 0
        # A pipe, not a socketpair: the socket module costs milliseconds of import time.
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        self._wake_r, self._wake_w = wake_r, wake_w
        self.wake_fd = wake_r

    # -- what implementations provide -------------------------------------------------------

    @abc.abstractmethod
    def _set_registration(self, fd: int, old: int, new: int) -> None:
        """Make the OS watch ``fd`` for ``new`` (READABLE | WRITABLE bits; 0 = not at all)."""

    @abc.abstractmethod
    def _wait(self, timeout: float) -> list[tuple[int, int]]:
        """Block up to ``timeout`` seconds; return ``(fd, READABLE|WRITABLE bits)`` pairs.

        The wake-up fd may be among them; ERR/HUP count as both directions."""

    def _close_os(self) -> None:
        """Release the OS object behind the backend."""

    # -- the run loop's side ---------------------------------------------------------------

    @property
    def has_waiters(self) -> bool:
        """Whether any task waits on an fd (the wake-up fd does not count)."""
        return self._waiting > 0

    def poll(self, timeout: float) -> None:
        """Wait for events up to ``timeout`` seconds and reschedule the tasks they wake."""
        events = self._wait(timeout)
        if not events:
            return
        fds = self._fds
        reschedule = current_runner().reschedule
        for fd, flags in events:
            if fd == self.wake_fd:
                self._drain_wakeups()
                continue
            waiters = fds.get(fd)
            if waiters is None:
                continue
            unwanted = False
            if flags & READABLE:
                if waiters.read_task is not None:
                    task, waiters.read_task = waiters.read_task, None
                    self._waiting -= 1
                    reschedule(task)
                else:
                    unwanted = True
            if flags & WRITABLE:
                if waiters.write_task is not None:
                    task, waiters.write_task = waiters.write_task, None
                    self._waiting -= 1
                    reschedule(task)
                else:
                    unwanted = True
            if unwanted or waiters.owner is None:
                self._sync(fd, waiters)

    def wakeup_threadsafe(self) -> None:
        """Make a blocked or future :meth:`poll` return promptly. Thread- and signal-safe."""
        try:
            os.write(self._wake_w, b"\x00")
        except OSError:
            pass  # already full of wake-ups (or closing): the loop will wake anyway

    def _drain_wakeups(self) -> None:
        # A short read means the pipe is empty: skip the extra read that would only
        # report EAGAIN (one system call per wake-up saved).
        try:
            while len(os.read(self._wake_r, 4096)) == 4096:
                pass
        except OSError:
            pass

    def close(self) -> None:
        self._close_os()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def statistics(self) -> IOStatistics:
        reads = sum(1 for w in self._fds.values() if w.read_task is not None)
        writes = sum(1 for w in self._fds.values() if w.write_task is not None)
        return IOStatistics(self.name, reads, writes)

    # -- the tasks' side -------------------------------------------------------------------

    def _sync(self, fd: int, waiters: _FdWaiters) -> None:
        """Make the OS registration exactly what the current waiters need."""
        wanted = (READABLE if waiters.read_task is not None else 0) | (
            WRITABLE if waiters.write_task is not None else 0
        )
        if wanted != waiters.registered:
            old, waiters.registered = waiters.registered, wanted
            self._set_registration(fd, old, wanted)
        if not wanted:
            del self._fds[fd]

    def _waiters_for(self, obj: FileDescriptorLike) -> tuple[int, _FdWaiters]:
        fd = as_fd(obj)
        owner = None if isinstance(obj, int) else obj
        waiters = self._fds.get(fd)
        if waiters is None:
            waiters = _FdWaiters(None if owner is None else weakref.ref(owner))
            self._fds[fd] = waiters
            return fd, waiters
        remembered = waiters.owner
        if (
            remembered is not None
            and (owner is None or remembered() is not owner)
            and waiters.read_task is None
            and waiters.write_task is None
        ):
            # A sticky registration left by another object (closed without
            # notify_closing, its fd number reused) or reached now through a raw fd:
            # the OS may no longer watch what we remember.
            waiters.registered = _UNKNOWN
            waiters.owner = None if owner is None else weakref.ref(owner)
        return fd, waiters

    async def _wait_for(self, obj: FileDescriptorLike, direction: int) -> None:
        fd, waiters = self._waiters_for(obj)
        task = current_runner().current_task
        if direction == READABLE:
            if waiters.read_task is not None:
                raise BusyResourceError("another task is already waiting to read from this fd")
            waiters.read_task = task
        else:
            if waiters.write_task is not None:
                raise BusyResourceError("another task is already waiting to write to this fd")
            waiters.write_task = task
        self._waiting += 1
        try:
            if not waiters.registered & direction:
                self._sync(fd, waiters)
        except BaseException:
            self._forget(fd, waiters, direction)
            raise

        def abort(_: RaiseCancelT) -> Abort:
            self._forget(fd, waiters, direction)
            return Abort.SUCCEEDED

        await wait_task_rescheduled(abort)

    def _forget(self, fd: int, waiters: _FdWaiters, direction: int) -> None:
        if direction == READABLE:
            waiters.read_task = None
        else:
            waiters.write_task = None
        self._waiting -= 1
        if self._fds.get(fd) is waiters:
            self._sync(fd, waiters)

    def notify_closing(self, obj: FileDescriptorLike) -> None:
        fd = as_fd(obj)
        waiters = self._fds.pop(fd, None)
        if waiters is None:
            return
        if waiters.registered:
            try:
                self._set_registration(fd, waiters.registered, 0)
            except OSError:
                pass
        runner = current_runner()
        for task in (waiters.read_task, waiters.write_task):
            if task is not None:
                self._waiting -= 1
                runner._reschedule_throw(task, ClosedResourceError("another task closed this fd"))


def _runner_io() -> IOBackend:
    return current_runner().io


@enable_ki_protection
async def wait_readable(fd: FileDescriptorLike) -> None:
    """Block until ``fd`` (an int or an object with ``fileno()``) is readable.

    ``BusyResourceError`` if another task already waits to read it; ``ClosedResourceError``
    if :func:`notify_closing` is called for it while waiting.
    """
    await _runner_io()._wait_for(fd, READABLE)


@enable_ki_protection
async def wait_writable(fd: FileDescriptorLike) -> None:
    """Block until ``fd`` (an int or an object with ``fileno()``) is writable."""
    await _runner_io()._wait_for(fd, WRITABLE)


@enable_ki_protection
def notify_closing(fd: FileDescriptorLike) -> None:
    """Tell tether that ``fd`` is about to be closed: tasks waiting on it are woken with
    ``ClosedResourceError``. Call it before closing an fd that tasks may wait on."""
    _runner_io().notify_closing(fd)


__all__ = ["IOBackend", "notify_closing", "wait_readable", "wait_writable"]
