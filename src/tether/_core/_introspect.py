"""What is my program doing? A snapshot of the task tree, as data and as text.

Read-only: safe to call from a signal handler that interrupted the loop at any point
(a snapshot taken mid-update may be slightly inconsistent, never harmful).
"""

from __future__ import annotations

import math
import os
import signal
import sys
import types
from typing import TYPE_CHECKING, TextIO

import attrs

from ._global import GLOBAL_RUN_CONTEXT, current_runner
from ._local import RunVar
from ._task import _checkpoint_abort

if TYPE_CHECKING:
    from ._cancel import CancelScope
    from ._nursery import Nursery
    from ._run import Runner
    from ._task import Task

_KERNEL_DIR = os.path.dirname(__file__)


@attrs.frozen
class FrameInfo:
    """One frame of a task's await stack."""

    filename: str
    lineno: int
    function: str

    def __str__(self) -> str:
        return f'File "{self.filename}", line {self.lineno}, in {self.function}'


@attrs.frozen
class ScopeInfo:
    """A cancel scope around a task (``deadline_in``: seconds until its deadline)."""

    deadline_in: float
    cancel_called: bool
    shield: bool
    shutdown_requested: bool

    def __str__(self) -> str:
        parts = []
        if self.deadline_in != math.inf:
            parts.append(f"deadline in {self.deadline_in:.3g}s")
        if self.cancel_called:
            parts.append("cancelled")
        if self.shield:
            parts.append("shielded")
        if self.shutdown_requested:
            parts.append("shutdown requested")
        return "scope(" + ", ".join(parts) + ")" if parts else "scope"


@attrs.frozen
class TaskInfo:
    """One task: where it is, what it waits for, and the nurseries it has open."""

    name: str
    id: int
    system: bool
    state: str
    blocked_on: str | None
    scopes: tuple[ScopeInfo, ...]
    stack: tuple[FrameInfo, ...]
    nurseries: tuple[NurseryInfo, ...]

    def walk(self) -> list[TaskInfo]:
        """This task and all its descendants, depth first."""
        found = [self]
        for nursery in self.nurseries:
            for child in nursery.tasks:
                found.extend(child.walk())
        return found


@attrs.frozen
class NurseryInfo:
    """A nursery and the tasks in it."""

    scope: ScopeInfo
    tasks: tuple[TaskInfo, ...]


@attrs.frozen
class TaskTree:
    """A snapshot of every task of the run, from :func:`tether.lowlevel.task_tree`.
    ``str(tree)`` renders it for humans; the fields are there for tools."""

    root: TaskInfo
    time: float

    def tasks(self) -> list[TaskInfo]:
        """Every task, depth first."""
        return self.root.walk()

    def __str__(self) -> str:
        lines = [f"tether task tree at t={self.time:.6f}"]
        _render(self.root, lines, "")
        return "\n".join(lines)


def _render(task: TaskInfo, lines: list[str], indent: str) -> None:
    label = f"{indent}task {task.name!r} [{task.state}]"
    if task.system:
        label += " (system)"
    if task.blocked_on:
        label += f": {task.blocked_on}"
    lines.append(label)
    lines.extend(f"{indent}  in {scope}" for scope in task.scopes if str(scope) != "scope")
    # The kernel's own frames (traps, parking) are in the data but not worth reading.
    lines.extend(
        f"{indent}  | {frame}" for frame in task.stack if not frame.filename.startswith(_KERNEL_DIR)
    )
    for nursery in task.nurseries:
        lines.append(f"{indent}  nursery {nursery.scope}")
        for child in nursery.tasks:
            _render(child, lines, indent + "    ")


def _scope_info(scope: CancelScope, now: float) -> ScopeInfo:
    return ScopeInfo(
        deadline_in=scope._deadline - now,
        cancel_called=scope._cancel_called,
        shield=scope._shield,
        shutdown_requested=scope._shutdown_requested,
    )


def _stack(task: Task) -> tuple[FrameInfo, ...]:
    frames = []
    for frame, lineno in task.iter_await_frames():
        code: types.CodeType = frame.f_code
        frames.append(FrameInfo(code.co_filename, lineno, code.co_qualname))
    return tuple(frames)


def _blocked_on(runner: Runner, task: Task, stack: tuple[FrameInfo, ...], now: float) -> str:
    for fd, waiters in list(runner.io._fds.items()):
        if waiters.read_task is task:
            return f"waiting to read fd {fd}"
        if waiters.write_task is task:
            return f"waiting to write fd {fd}"
    # The innermost frame outside the kernel says what the task waits in: Lock.acquire,
    # MemoryReceiveChannel.receive, to_thread.run_sync, sleep_forever, ...
    where = next((f for f in reversed(stack) if not f.filename.startswith(_KERNEL_DIR)), None)
    text = f"blocked in {where.function}" if where else "blocked"
    deadline = min((s._deadline for s in _scope_chain(task)), default=math.inf)
    if deadline != math.inf:
        text += f" (deadline in {deadline - now:.3g}s)"
    return text


def _scope_chain(task: Task) -> list[CancelScope]:
    chain = []
    scope: CancelScope | None = task._cancel_status
    stop = task._parent_nursery._scope if task._parent_nursery is not None else None
    while scope is not None and scope is not stop:
        chain.append(scope)
        scope = scope._parent
    return chain


def _task_info(runner: Runner, task: Task, now: float, depth: int = 0) -> TaskInfo:
    stack = _stack(task)
    if task is runner.current_task:
        state, blocked = "running", None
    elif task._abort_func is None or task._abort_func is _checkpoint_abort:
        state, blocked = "runnable", None
    else:
        state, blocked = "blocked", _blocked_on(runner, task, stack, now)
    nurseries = tuple(
        _nursery_info(runner, nursery, now, depth) for nursery in list(task._child_nurseries)
    )
    return TaskInfo(
        name=task.name,
        id=id(task),
        system=task._system_task,
        state=state,
        blocked_on=blocked,
        scopes=tuple(_scope_info(s, now) for s in _scope_chain(task)),
        stack=stack,
        nurseries=nurseries,
    )


def _nursery_info(runner: Runner, nursery: Nursery, now: float, depth: int) -> NurseryInfo:
    children = sorted(nursery._children, key=lambda t: t.name)
    if depth > 200:  # pragma: no cover  # a pathological tree: keep the dump bounded
        children = []
    return NurseryInfo(
        scope=_scope_info(nursery._scope, now),
        tasks=tuple(_task_info(runner, child, now, depth + 1) for child in children),
    )


def task_tree() -> TaskTree:
    """A snapshot of the current run's tasks: names, nurseries, cancel scopes and
    deadlines, what each task is blocked on, and its await stack."""
    runner = current_runner()
    assert runner.init_task is not None
    now = runner.clock.current_time()
    return TaskTree(root=_task_info(runner, runner.init_task, now), time=now)


def _dump_marker_path(pid: int) -> str:
    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    return os.path.join(base, f"tether-dump-{pid}")


# Per run: signal number -> where its dump goes (a one-item list the handler reads).
_DUMP_TARGETS: RunVar[dict[int, list[TextIO | None]]] = RunVar("tether task-dump signals")


def enable_task_dump_on_signal(signum: int = signal.SIGUSR1, file: TextIO | None = None) -> None:
    """Print the task tree to ``file`` (default stderr) whenever ``signum`` arrives, for
    the rest of the run. Works even when a task hogs the loop (the handler runs between
    any two bytecodes of the main thread). ``python -m tether dump PID`` sends the signal
    to a process that enabled this (and refuses otherwise). Main thread only. Calling it
    again for the same signal only changes where the dump goes."""
    runner = current_runner()
    try:
        targets = _DUMP_TARGETS.get()
    except LookupError:
        targets = {}
        _DUMP_TARGETS.set(targets)
    marker = _dump_marker_path(os.getpid())
    if signum in targets:
        targets[signum][0] = file
        _write_marker(marker, signum)
        return
    target: list[TextIO | None] = [file]

    def handler(received: int, frame: types.FrameType | None) -> None:
        stream = target[0] if target[0] is not None else sys.stderr
        try:
            text = str(_snapshot_for_signal(runner))
        except Exception as exc:  # pragma: no cover  # a torn read mid-update
            text = f"tether: could not take a task-tree snapshot: {exc!r}"
        print(text, file=stream, flush=True)

    _write_marker(marker, signum)
    try:
        previous = signal.signal(signum, handler)
    except BaseException:  # not the main thread, or not a signal number
        if not targets:
            os.unlink(marker)
        raise
    targets[signum] = target

    async def restore_at_run_end() -> None:
        from ._traps import Abort, wait_task_rescheduled

        try:
            await wait_task_rescheduled(lambda _: Abort.SUCCEEDED)
        finally:
            targets.pop(signum, None)
            if signal.getsignal(signum) is handler:  # not if someone replaced it since
                signal.signal(signum, previous)
            try:
                os.unlink(marker)
            except OSError:  # another signal's dump of this run removed it already
                pass

    runner.spawn_system(restore_at_run_end, (), name="<tether task-dump signal>")


def _write_marker(path: str, signum: int) -> None:
    # O_NOFOLLOW: the marker may live in the shared /tmp; never write through a symlink.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{signum}\n")


def _snapshot_for_signal(runner: Runner) -> TaskTree:
    saved = GLOBAL_RUN_CONTEXT.runner
    GLOBAL_RUN_CONTEXT.runner = runner
    try:
        assert runner.init_task is not None
        now = runner.clock.current_time()
        return TaskTree(root=_task_info(runner, runner.init_task, now), time=now)
    finally:
        GLOBAL_RUN_CONTEXT.runner = saved
