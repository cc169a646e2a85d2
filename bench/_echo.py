"""Echo workloads: a framework's echo server against the shared C load generator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ._echo_servers import SERVERS

SECONDS = float(os.environ.get("BENCH_ECHO_SECONDS", "2"))
CLIENT_SOURCE = Path(__file__).with_name("echo_client.c")
CLIENT_BINARY = Path(os.environ.get("BENCH_BUILD_DIR", "/tmp")) / "tether-bench-echo-client"

# workload -> (connections, message size, report bytes/s instead of round trips/s)
CASES = {
    "echo64_c1": (1, 64, False),
    "echo64_c10": (10, 64, False),
    "echo64_c100": (100, 64, False),
    "echo64k_c10": (10, 65536, True),
}


def uses_python_client() -> bool:
    """Without a C compiler (or with ``BENCH_ECHO_CLIENT=python``) the echo workloads use
    the same client written in Python, which can be the bottleneck with many clients."""
    return os.environ.get("BENCH_ECHO_CLIENT") == "python" or shutil.which("cc") is None


def client_command() -> list[str]:
    """The load generator: ``echo_client.c``, compiled with the system compiler once (and
    again when it changed), or its Python twin (see :func:`uses_python_client`)."""
    if uses_python_client():
        return [sys.executable, "-m", "bench.echo_client"]
    if not CLIENT_BINARY.exists() or CLIENT_BINARY.stat().st_mtime < CLIENT_SOURCE.stat().st_mtime:
        subprocess.run(["cc", "-O2", "-o", str(CLIENT_BINARY), str(CLIENT_SOURCE)], check=True)
    return [str(CLIENT_BINARY)]


def run_case(server: str, case: str) -> tuple[int, float]:
    connections, size, as_bytes = CASES[case]
    client = client_command()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._echo_servers", server],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        out = subprocess.run(
            [*client, str(port), str(connections), str(size), str(SECONDS)],
            check=True,
            capture_output=True,
            text=True,
            timeout=SECONDS + 60,
        ).stdout
    finally:
        proc.kill()
        proc.wait()
    result = json.loads(out)
    ops = int(result["bytes"] if as_bytes else result["round_trips"])
    return ops, float(result["seconds"])


def _workloads(server: str) -> dict[str, Callable[[], tuple[int, float]]]:
    return {case: (lambda case=case: run_case(server, case)) for case in CASES}  # type: ignore[misc]


FRAMEWORKS = {name: (lambda name=name: _workloads(name)) for name in SERVERS}
