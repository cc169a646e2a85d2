"""Start-up: a whole interpreter that imports the framework and runs an empty main."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

RUNS = 10

PROGRAMS = {
    "tether": "import tether\nasync def main(): pass\ntether.run(main)",
    "trio": "import trio\nasync def main(): pass\ntrio.run(main)",
    "asyncio": "import asyncio\nasync def main(): pass\nasyncio.run(main())",
    "uvloop": "import uvloop\nasync def main(): pass\nuvloop.run(main())",
    "curio": "import curio\nasync def main(): pass\ncurio.run(main)",
    "anyio": "import anyio\nasync def main(): pass\nanyio.run(main)",
}


def _measure(program: str) -> tuple[int, float]:
    total = 0.0
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", program], check=True)
        total += time.perf_counter() - start
    return RUNS, total


FRAMEWORKS: dict[str, Callable[[], dict[str, Callable[[], tuple[int, float]]]]] = {
    name: (lambda program=program: {"startup": lambda: _measure(program)})  # type: ignore[misc]
    for name, program in PROGRAMS.items()
}
