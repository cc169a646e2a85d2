"""``python -m bench``: run workloads under tether and its peers, rounds interleaved.

Each measurement runs in a fresh interpreter. Frameworks alternate round by round
(A B C A B C ...), so drift in machine load hits them all alike. Prints the median, the
min-max spread, and tether's ratio to each peer (>1 means tether is faster).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from ._echo import uses_python_client
from .registry import WORKLOADS, frameworks_for

DEFAULT_FRAMEWORKS = [
    "tether",
    "trio",
    "asyncio",
    "asyncio-protocol",
    "uvloop",
    "uvloop-protocol",
    "curio",
    "anyio",
    "python-epoll",
]


def measure(framework: str, workload: str) -> float:
    out = subprocess.run(
        [sys.executable, "-m", "bench._one", framework, workload],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    result = json.loads(out)
    return float(result["ops"]) / float(result["seconds"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--frameworks", default=",".join(DEFAULT_FRAMEWORKS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", metavar="FILE", help="also write raw results here")
    args = parser.parse_args(argv)
    wanted = [f for f in args.frameworks.split(",") if f]
    raw: dict[str, dict[str, list[float]]] = {}
    warned_python_client = False
    for workload in [w for w in args.workloads.split(",") if w]:
        if workload not in WORKLOADS:
            parser.error(f"unknown workload {workload!r}; choose from {', '.join(WORKLOADS)}")
        available = [f for f in wanted if f in frameworks_for(workload)]
        unit = WORKLOADS[workload][1]
        print(f"\n== {workload}: {WORKLOADS[workload][2]} ({unit})", flush=True)
        if workload.startswith("echo") and not warned_python_client and uses_python_client():
            warned_python_client = True
            print(
                "   (no C compiler, or BENCH_ECHO_CLIENT=python: the load generator is the "
                "Python client, which may measure itself rather than the server)",
                flush=True,
            )
        results: dict[str, list[float]] = {f: [] for f in available}
        for round_no in range(1, args.rounds + 1):
            for framework in available:
                start = time.perf_counter()
                rate = measure(framework, workload)
                results[framework].append(rate)
                print(
                    f"   round {round_no}/{args.rounds} {framework:<8} {rate:>14,.0f} "
                    f"({time.perf_counter() - start:.1f}s)",
                    file=sys.stderr,
                    flush=True,
                )
        raw[workload] = results
        base = statistics.median(results["tether"]) if "tether" in results else None
        for framework, rates in results.items():
            median = statistics.median(rates)
            ratio = f"{base / median:5.2f}x" if base and framework != "tether" else "   -  "
            print(
                f"   {framework:<8} median {median:>14,.0f}   spread {min(rates):>12,.0f}"
                f" .. {max(rates):>12,.0f}   tether/this {ratio}",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(raw, fh, indent=2)


if __name__ == "__main__":
    main()
