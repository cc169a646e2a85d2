"""``python -m tether``: an async REPL; ``python -m tether dump PID``: a task-tree dump.

In the REPL, top-level ``await`` works (as in ``python -m asyncio``): each awaited
expression runs inside the REPL's own task in a live ``tether.run``, so nurseries,
timeouts and background tasks behave as in a program.
"""

from __future__ import annotations

import argparse
import ast
import code
import inspect
import os
import signal
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

import tether

from ._core._introspect import _dump_marker_path


class _AsyncConsole(code.InteractiveConsole):
    def __init__(self, namespace: dict[str, Any]) -> None:
        super().__init__(namespace)
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        # True while an input runs in the loop: only then is there something for Ctrl-C
        # to interrupt (this thread, blocked reading the next line, cannot be).
        self.busy = False

    def runcode(self, code_object: types.CodeType) -> None:
        # Every input runs in the loop's thread, inside the REPL's task: sync code too, so
        # that tether.current_time(), event.set(), cancel scopes and the like work at the
        # prompt and never touch the loop's state from this console thread.
        function = types.FunctionType(code_object, self.locals)
        try:
            if code_object.co_flags & inspect.CO_COROUTINE:

                async def await_it() -> Any:
                    self.busy = True
                    try:
                        return await function()
                    finally:
                        self.busy = False

                tether.from_thread.run(await_it)
            else:

                def call_it() -> Any:
                    self.busy = True
                    try:
                        return function()
                    finally:
                        self.busy = False

                tether.from_thread.run_sync(call_it)
        except SystemExit:
            raise
        except BaseException as exc:
            # Show the user's frames only, not the from_thread machinery above them.
            tb = exc.__traceback__
            while tb is not None and tb.tb_frame.f_code.co_filename != self.filename:
                tb = tb.tb_next
            if tb is not None:
                exc.__traceback__ = tb
            try:
                raise exc  # showtraceback() shows sys.exc_info() minus this frame
            except BaseException:
                self.showtraceback()


def _interrupt_only_when_busy(console: _AsyncConsole) -> Callable[[], None]:
    """Let Ctrl-C through to tether's handler (which interrupts the REPL's task) only while
    an input runs. At the prompt there is nothing to interrupt: the interrupt would stay
    pending and hit the next command, or end the REPL with a KeyboardInterrupt. As in
    ``python -m asyncio``, Ctrl-C at the prompt is ignored. Returns the undo function."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    inner = signal.getsignal(signal.SIGINT)
    if not callable(inner):  # ignored or default: nothing of tether's to guard
        return lambda: None
    call_inner = inner

    def handler(signum: int, frame: types.FrameType | None) -> None:
        if console.busy:
            call_inner(signum, frame)

    signal.signal(signal.SIGINT, handler)

    def restore() -> None:
        if signal.getsignal(signal.SIGINT) is handler:
            signal.signal(signal.SIGINT, call_inner)

    return restore


def repl() -> None:
    """Run the async REPL until end of input (Ctrl-D) or ``exit()``."""
    namespace: dict[str, Any] = {"tether": tether, "__name__": "__console__"}
    console = _AsyncConsole(namespace)
    banner = (
        f"tether {tether.__version__} REPL on Python {sys.version.split()[0]}\n"
        'Use "await" directly; "tether" is imported. Ctrl-D to exit.'
    )

    async def main() -> None:
        restore = _interrupt_only_when_busy(console)
        try:
            await tether.to_thread.run_sync(console.interact, banner, "exiting tether REPL")
        except SystemExit:
            pass
        finally:
            restore()

    tether.run(main)


def dump(pid: int) -> int:
    """Ask process ``pid`` to print its task tree (to its own stderr)."""
    marker = _dump_marker_path(pid)
    try:
        with open(marker) as fh:
            signum = int(fh.read().strip())
    except (OSError, ValueError):
        print(
            f"process {pid} has not enabled task dumps (tether.lowlevel."
            "enable_task_dump_on_signal); not sending a signal that could kill it",
            file=sys.stderr,
        )
        return 1
    os.kill(pid, signum)
    print(f"asked process {pid} to print its task tree to its stderr")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tether", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    dump_parser = sub.add_parser("dump", help="print a running program's task tree")
    dump_parser.add_argument("pid", type=int)
    args = parser.parse_args(argv)
    if args.command == "dump":
        return dump(args.pid)
    repl()
    return 0


if __name__ == "__main__":
    sys.exit(main())
