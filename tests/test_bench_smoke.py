"""The benchmark harness still runs: `make bench` is one of the project's commands, and
nothing else would notice it breaking. Only tether, one round, short echo runs; no
figure is checked (performance is measured in bench/, never in tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ["spawn", "channel_pingpong", "thread_concurrent", "echo64_c10", "tls_bulk", "startup"]


@pytest.mark.slow
def test_the_harness_runs_a_subset_and_writes_json(tmp_path: Path) -> None:
    out_file = tmp_path / "results.json"
    env = {**os.environ, "BENCH_ECHO_SECONDS": "0.2", "BENCH_ECHO_CLIENT": "python"}
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--workloads", ",".join(WORKLOADS),
         "--frameworks", "tether", "--rounds", "1", "--json", str(out_file)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "the load generator is the Python client" in run.stdout
    results = json.loads(out_file.read_text())
    assert sorted(results) == sorted(WORKLOADS)
    for workload in WORKLOADS:
        (rate,) = results[workload]["tether"]
        assert rate > 0, workload


def test_an_unknown_workload_is_refused_up_front() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--workloads", "nope"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2
    assert "unknown workload 'nope'" in run.stderr
