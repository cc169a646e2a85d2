"""Start-up: a whole interpreter that imports the framework and runs an empty main.

Measured as an installed package runs: with its bytecode cached. ``PYTHONDONTWRITEBYTECODE``
(set in many development shells) would otherwise make every run compile the framework's
own sources again, while the standard library (asyncio) loads its precompiled files: that
measures the compiler, to the cost of whatever is not in the standard library. So the
runs share a private cache directory (``PYTHONPYCACHEPREFIX``), filled by one untimed run.
Set ``TETHER_BENCH_STARTUP_COLD=1`` to keep the environment as it is instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
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


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    if env.get("TETHER_BENCH_STARTUP_COLD") != "1":
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "tether-bench-pycache")
    return env


def _measure(program: str) -> tuple[int, float]:
    env = _environment()
    subprocess.run([sys.executable, "-c", program], check=True, env=env)  # fills the cache
    total = 0.0
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", program], check=True, env=env)
        total += time.perf_counter() - start
    return RUNS, total


FRAMEWORKS: dict[str, Callable[[], dict[str, Callable[[], tuple[int, float]]]]] = {
    name: (lambda program=program: {"startup": lambda: _measure(program)})  # type: ignore[misc]
    for name, program in PROGRAMS.items()
}
