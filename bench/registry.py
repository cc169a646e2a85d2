"""Which workloads exist, for which frameworks, and how to get each one's function."""

from __future__ import annotations

import importlib
from collections.abc import Callable

Workload = Callable[[], tuple[int, float]]

# workload -> (module, unit, description). Modules export FRAMEWORKS: name -> () -> workloads.
WORKLOADS: dict[str, tuple[str, str, str]] = {
    "spawn": ("bench._kernel", "tasks/s", "start and join 50,000 tasks doing one sleep(0)"),
    "switch": ("bench._kernel", "switches/s", "500,000 sleep(0) in one task"),
    "switch100": ("bench._kernel", "switches/s", "500,000 sleep(0) over 100 tasks"),
    "timeouts": ("bench._kernel", "scopes/s", "100,000 move_on_after around sleep(0)"),
    "timeouts_fire": ("bench._kernel", "scopes/s", "10,000 timeouts that fire"),
    "channel_pingpong": (
        "bench.channels",
        "round trips/s",
        "200,000 round trips between two tasks over two unbuffered channels",
    ),
    "channel_pipeline": (
        "bench.channels",
        "items/s",
        "1,000,000 items from a producer to a consumer through a 100-item buffer",
    ),
    "thread_sequential": (
        "bench.threads",
        "calls/s",
        "20,000 sequential trivial calls offloaded to a worker thread",
    ),
    "thread_concurrent": (
        "bench.threads",
        "calls/s",
        "1,000 concurrent trivial calls offloaded to worker threads",
    ),
    "process_sequential": (
        "bench.processes",
        "calls/s",
        "2,000 sequential trivial calls offloaded to a worker process",
    ),
    "process_concurrent": (
        "bench.processes",
        "calls/s",
        "10,000 concurrent trivial calls offloaded to worker processes",
    ),
    "process_cpu": (
        "bench.processes",
        "numbers/s",
        "8 chunks of pure-Python prime counting in worker processes (vs serial: speed-up)",
    ),
    "echo64_c1": ("bench._echo", "round trips/s", "TCP echo, 64 B messages, 1 client"),
    "echo64_c10": ("bench._echo", "round trips/s", "TCP echo, 64 B messages, 10 clients"),
    "echo64_c100": ("bench._echo", "round trips/s", "TCP echo, 64 B messages, 100 clients"),
    "echo64k_c10": ("bench._echo", "bytes/s", "TCP echo, 64 KiB messages, 10 clients"),
    "tls_pingpong": (
        "bench.tls",
        "round trips/s",
        "TLS 1.3 over loopback TCP, 64 B messages, client and server in one process",
    ),
    "tls_bulk": (
        "bench.tls",
        "bytes/s",
        "TLS 1.3 over loopback TCP, 128 MiB one way in 64 KiB writes",
    ),
    "startup": (
        "bench._startup",
        "starts/s",
        "whole process: python -c 'import X; X.run(empty)' (higher is faster)",
    ),
}


def frameworks_for(workload_name: str) -> list[str]:
    module = importlib.import_module(WORKLOADS[workload_name][0])
    found = []
    for name, factory in module.FRAMEWORKS.items():
        try:
            if workload_name in factory():
                found.append(name)
        except ImportError:
            continue
    return found


def workload(framework: str, workload_name: str) -> Workload:
    module = importlib.import_module(WORKLOADS[workload_name][0])
    workloads: dict[str, Workload] = module.FRAMEWORKS[framework]()
    return workloads[workload_name]
