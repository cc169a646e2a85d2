"""Process offloading: calls handed to a pool of worker processes and back.

* ``process_sequential``: one task makes 2,000 trivial calls in a row, each waiting for
  the last. Measures one round trip to a worker process: pickling, two pipe hops, and
  the loop's wake-up, end to end.
* ``process_concurrent``: 10,000 tasks make one trivial call each, all at once, through
  the framework's default limit (one worker per CPU everywhere).
* ``process_cpu``: 8 chunks of a pure-Python loop (counting primes), all at once: the
  reason to use processes. Reported in numbers tested per second. ``serial`` runs the
  same 8 chunks one after the other in the measuring process; tether's ratio to
  ``serial`` is the speed-up over one process (bounded by the number of CPUs).

Peers: ``loop.run_in_executor(ProcessPoolExecutor())`` for asyncio (and uvloop),
``anyio.to_process.run_sync`` (asyncio backend), ``curio.run_in_process``, and
``trio_parallel.run_sync`` for trio. Every framework uses its default start method
and worker count; the workers are started before the clock starts (one untimed call
per CPU), so the figures are per-call costs, not process start-up. Only the calls are
timed, inside the running loop.

Run it alone with ``python -m bench.processes`` (serial included), or through the
harness: ``python -m bench --workloads process_sequential,process_concurrent,process_cpu``
(add ``--frameworks tether,...,serial`` for the speed-up).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

SEQUENTIAL_CALLS = 2_000
CONCURRENT_CALLS = 10_000
CPU_CHUNKS = 8
CHUNK_SIZE = 50_000  # numbers tested for primality per chunk: ~0.1 s of pure Python
CPU_NUMBERS = CPU_CHUNKS * CHUNK_SIZE

Workload = Callable[[], tuple[int, float]]
CPUS = os.cpu_count() or 1


def noop() -> None:
    pass


def count_primes(start: int, stop: int) -> int:
    """Pure-Python CPU work: how many primes in [start, stop)."""
    found = 0
    for n in range(max(start, 2), stop):
        if all(n % d for d in range(2, int(n**0.5) + 1)):
            found += 1
    return found


def chunks() -> list[tuple[int, int]]:
    return [(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE) for i in range(CPU_CHUNKS)]


# -- tether -----------------------------------------------------------------------------------


def tether_workloads() -> dict[str, Workload]:
    import tether

    run_sync = tether.to_process.run_sync

    async def warm_up() -> None:
        async with tether.open_nursery() as nursery:
            for _ in range(CPUS):
                nursery.start_soon(run_sync, noop)

    async def sequential() -> float:
        await warm_up()
        start = time.perf_counter()
        for _ in range(SEQUENTIAL_CALLS):
            await run_sync(noop)
        return time.perf_counter() - start

    async def concurrent() -> float:
        await warm_up()
        start = time.perf_counter()
        async with tether.open_nursery() as nursery:
            for _ in range(CONCURRENT_CALLS):
                nursery.start_soon(run_sync, noop)
        return time.perf_counter() - start

    async def cpu() -> float:
        await warm_up()
        start = time.perf_counter()
        async with tether.open_nursery() as nursery:
            for lo, hi in chunks():
                nursery.start_soon(run_sync, count_primes, lo, hi)
        return time.perf_counter() - start

    return {
        "process_sequential": lambda: (SEQUENTIAL_CALLS, tether.run(sequential)),
        "process_concurrent": lambda: (CONCURRENT_CALLS, tether.run(concurrent)),
        "process_cpu": lambda: (CPU_NUMBERS, tether.run(cpu)),
    }


# -- trio + trio_parallel ---------------------------------------------------------------------


def trio_workloads() -> dict[str, Workload]:
    import trio
    import trio_parallel

    run_sync = trio_parallel.run_sync

    async def warm_up() -> None:
        async with trio.open_nursery() as nursery:
            for _ in range(CPUS):
                nursery.start_soon(run_sync, noop)

    async def sequential() -> float:
        await warm_up()
        start = time.perf_counter()
        for _ in range(SEQUENTIAL_CALLS):
            await run_sync(noop)
        return time.perf_counter() - start

    async def concurrent() -> float:
        await warm_up()
        start = time.perf_counter()
        async with trio.open_nursery() as nursery:
            for _ in range(CONCURRENT_CALLS):
                nursery.start_soon(run_sync, noop)
        return time.perf_counter() - start

    async def cpu() -> float:
        await warm_up()
        start = time.perf_counter()
        async with trio.open_nursery() as nursery:
            for lo, hi in chunks():
                nursery.start_soon(run_sync, count_primes, lo, hi)
        return time.perf_counter() - start

    return {
        "process_sequential": lambda: (SEQUENTIAL_CALLS, trio.run(sequential)),
        "process_concurrent": lambda: (CONCURRENT_CALLS, trio.run(concurrent)),
        "process_cpu": lambda: (CPU_NUMBERS, trio.run(cpu)),
    }


# -- asyncio (and uvloop, which only swaps the loop) ------------------------------------------


def asyncio_workloads(use_uvloop: bool = False) -> dict[str, Workload]:
    import asyncio
    from concurrent.futures import ProcessPoolExecutor

    if use_uvloop:
        import uvloop

        def run(coro: Any) -> float:
            return uvloop.run(coro)  # type: ignore[no-any-return]
    else:

        def run(coro: Any) -> float:
            return asyncio.run(coro)

    def timed(body: Callable[[asyncio.AbstractEventLoop, ProcessPoolExecutor], Any]) -> Any:
        async def main() -> float:
            loop = asyncio.get_running_loop()
            with ProcessPoolExecutor() as pool:
                await asyncio.gather(*(loop.run_in_executor(pool, noop) for _ in range(CPUS)))
                start = time.perf_counter()
                await body(loop, pool)
                return time.perf_counter() - start

        return main()

    async def sequential(loop: asyncio.AbstractEventLoop, pool: ProcessPoolExecutor) -> None:
        for _ in range(SEQUENTIAL_CALLS):
            await loop.run_in_executor(pool, noop)

    async def concurrent(loop: asyncio.AbstractEventLoop, pool: ProcessPoolExecutor) -> None:
        await asyncio.gather(*(loop.run_in_executor(pool, noop) for _ in range(CONCURRENT_CALLS)))

    async def cpu(loop: asyncio.AbstractEventLoop, pool: ProcessPoolExecutor) -> None:
        await asyncio.gather(*(loop.run_in_executor(pool, count_primes, *c) for c in chunks()))

    return {
        "process_sequential": lambda: (SEQUENTIAL_CALLS, run(timed(sequential))),
        "process_concurrent": lambda: (CONCURRENT_CALLS, run(timed(concurrent))),
        "process_cpu": lambda: (CPU_NUMBERS, run(timed(cpu))),
    }


# -- anyio (asyncio backend) ------------------------------------------------------------------


def anyio_workloads() -> dict[str, Workload]:
    import anyio
    import anyio.to_process

    run_sync = anyio.to_process.run_sync

    async def warm_up() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(CPUS):
                group.start_soon(run_sync, noop)

    async def sequential() -> float:
        await warm_up()
        start = time.perf_counter()
        for _ in range(SEQUENTIAL_CALLS):
            await run_sync(noop)
        return time.perf_counter() - start

    async def concurrent() -> float:
        await warm_up()
        start = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(CONCURRENT_CALLS):
                group.start_soon(run_sync, noop)
        return time.perf_counter() - start

    async def cpu() -> float:
        await warm_up()
        start = time.perf_counter()
        async with anyio.create_task_group() as group:
            for lo, hi in chunks():
                group.start_soon(run_sync, count_primes, lo, hi)
        return time.perf_counter() - start

    def run(fn: Callable[[], Any]) -> float:
        # anyio's workers re-run the main module by its file path, which breaks on
        # `python -m bench._one` (a module with a relative import): hide the path, the
        # workers import what they need by name anyway.
        main = sys.modules["__main__"]
        saved = main.__dict__.pop("__file__", None)
        try:
            return anyio.run(fn)  # type: ignore[no-any-return]
        finally:
            if saved is not None:
                main.__file__ = saved

    return {
        "process_sequential": lambda: (SEQUENTIAL_CALLS, run(sequential)),
        "process_concurrent": lambda: (CONCURRENT_CALLS, run(concurrent)),
        "process_cpu": lambda: (CPU_NUMBERS, run(cpu)),
    }


# -- curio ------------------------------------------------------------------------------------


def curio_workloads() -> dict[str, Workload]:
    import curio

    run_in_process = curio.run_in_process

    async def warm_up() -> None:
        async with curio.TaskGroup() as group:
            for _ in range(CPUS):
                await group.spawn(run_in_process, noop)

    async def sequential() -> float:
        await warm_up()
        start = time.perf_counter()
        for _ in range(SEQUENTIAL_CALLS):
            await run_in_process(noop)
        return time.perf_counter() - start

    async def concurrent() -> float:
        await warm_up()
        start = time.perf_counter()
        async with curio.TaskGroup() as group:
            for _ in range(CONCURRENT_CALLS):
                await group.spawn(run_in_process, noop)
        return time.perf_counter() - start

    async def cpu() -> float:
        await warm_up()
        start = time.perf_counter()
        async with curio.TaskGroup() as group:
            for lo, hi in chunks():
                await group.spawn(run_in_process, count_primes, lo, hi)
        return time.perf_counter() - start

    return {
        "process_sequential": lambda: (SEQUENTIAL_CALLS, curio.run(sequential)),
        "process_concurrent": lambda: (CONCURRENT_CALLS, curio.run(concurrent)),
        "process_cpu": lambda: (CPU_NUMBERS, curio.run(cpu)),
    }


# -- no offloading: the one-process baseline of process_cpu ------------------------------------


def serial_workloads() -> dict[str, Workload]:
    def cpu() -> tuple[int, float]:
        start = time.perf_counter()
        for lo, hi in chunks():
            count_primes(lo, hi)
        return CPU_NUMBERS, time.perf_counter() - start

    return {"process_cpu": cpu}


FRAMEWORKS: dict[str, Callable[[], dict[str, Workload]]] = {
    "tether": tether_workloads,
    "trio": trio_workloads,
    "asyncio": asyncio_workloads,
    "uvloop": lambda: asyncio_workloads(use_uvloop=True),
    "anyio": anyio_workloads,
    "curio": curio_workloads,
    "serial": serial_workloads,
}


def main(argv: list[str] | None = None) -> None:
    """Measure the process workloads under tether and its peers (where importable)."""
    import argparse

    from .__main__ import main as harness_main

    parser = argparse.ArgumentParser(prog="python -m bench.processes", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--frameworks", default="tether,trio,asyncio,anyio,curio,serial")
    parser.add_argument("--workloads", default="process_sequential,process_concurrent,process_cpu")
    args = parser.parse_args(argv)
    harness_main(
        [
            "--workloads",
            args.workloads,
            "--frameworks",
            args.frameworks,
            "--rounds",
            str(args.rounds),
        ]
    )


if __name__ == "__main__":
    main()
