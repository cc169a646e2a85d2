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
import sys
import types
from typing import Any

import tether

from ._core._introspect import _dump_marker_path


class _AsyncConsole(code.InteractiveConsole):
    def __init__(self, namespace: dict[str, Any]) -> None:
        super().__init__(namespace)
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT

    def runcode(self, code_object: types.CodeType) -> None:
        function = types.FunctionType(code_object, self.locals)
        try:
            result = function()
            if inspect.iscoroutine(result):
                coro = result

                async def await_it() -> Any:
                    return await coro

                tether.from_thread.run(await_it)
        except SystemExit:
            raise
        except BaseException:
            self.showtraceback()


def repl() -> None:
    """Run the async REPL until end of input (Ctrl-D) or ``exit()``."""
    namespace: dict[str, Any] = {"tether": tether, "__name__": "__console__"}
    console = _AsyncConsole(namespace)
    banner = (
        f"tether {tether.__version__} REPL on Python {sys.version.split()[0]}\n"
        'Use "await" directly; "tether" is imported. Ctrl-D to exit.'
    )

    async def main() -> None:
        try:
            await tether.to_thread.run_sync(console.interact, banner, "exiting tether REPL")
        except SystemExit:
            pass

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
