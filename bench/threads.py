"""Thread offloading: trivial calls handed to worker threads and back.

* ``thread_sequential``: one task makes 20,000 calls in a row, each waiting for the last:
  ``await to_thread.run_sync(noop)``. Measures one hand-off to a (cached) worker thread
  and one wake-up of the loop from that thread, end to end.
* ``thread_concurrent``: 1,000 tasks make one call each, all at once. Measures the same
  under the thread limiter (40 threads for tether and trio; asyncio's default executor
  has ``min(32, os.cpu_count() + 4)`` workers), including starting the worker threads.

Peers: ``trio.to_thread.run_sync``, ``asyncio.to_thread`` (the default executor, also
under uvloop), ``curio.run_in_thread`` and ``anyio.to_thread.run_sync``.
Only the calls are timed, inside the running loop, not the start and end of the run.

Run it alone with ``python -m bench.threads`` (each measurement in a fresh interpreter,
frameworks interleaved, medians and tether's ratio to each peer printed), or through the
harness: ``python -m bench --workloads thread_sequential,thread_concurrent``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

SEQUENTIAL_CALLS = 20_000
CONCURRENT_CALLS = 1_000

Workload = Callable[[], tuple[int, float]]


def noop() -> None:
    pass


# -- tether and trio (the same code: tether mirrors Trio's API) ---------------------------------


def trio_like_workloads(lib: Any) -> dict[str, Workload]:
    """The workloads for ``lib``, which is ``tether`` or ``trio``."""

    async def sequential() -> float:
        run_sync = lib.to_thread.run_sync
        start = time.perf_counter()
        for _ in range(SEQUENTIAL_CALLS):
            await run_sync(noop)
        return time.perf_counter() - start

    async def concurrent() -> float:
        start = time.perf_counter()
        async with lib.open_nursery() as nursery:
            for _ in range(CONCURRENT_CALLS):
                nursery.start_soon(lib.to_thread.run_sync, noop)
        return time.perf_counter() - start

    return {
        "thread_sequential": lambda: (SEQUENTIAL_CALLS, lib.run(sequential)),
        "thread_concurrent": lambda: (CONCURRENT_CALLS, lib.run(concurrent)),
    }


def tether_workloads() -> dict[str, Workload]:
    import tether

    return trio_like_workloads(tether)


def trio_workloads() -> dict[str, Workload]:
    import trio
    import trio.to_thread

    return trio_like_workloads(trio)


# -- asyncio (and uvloop, which only swaps the loop) --------------------------------------------


def asyncio_workloads(use_uvloop: bool = False) -> dict[str, Workload]:
    import asyncio

    if use_uvloop:
        import uvloop

        def run(coro: Any) -> float:
            return uvloop.run(coro)  # type: ignore[no-any-return]
    else:

        def run(coro: Any) -> float:
            return asyncio.run(coro)

    async def sequential() -> float:
        to_thread = asyncio.to_thread
        start = time.perf_counter()
        for _ in range(SEQUENTIAL_CALLS):
            await to_thread(noop)
        return time.perf_counter() - start

    async def concurrent() -> float:
        start = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(CONCURRENT_CALLS):
                group.create_task(asyncio.to_thread(noop))
        return time.perf_counter() - start

    return {
        "thread_sequential": lambda: (SEQUENTIAL_CALLS, run(sequential())),
        "thread_concurrent": lambda: (CONCURRENT_CALLS, run(concurrent())),
    }


# -- curio and anyio -----------------------------------------------------------------------------


def curio_workloads() -> dict[str, Workload]:
    import curio

    async def sequential() -> float:
        run_in_thread = curio.run_in_thread
        start = time.perf_counter()
        for _ in range(SEQUENTIAL_CALLS):
            await run_in_thread(noop)
        return time.perf_counter() - start

    async def concurrent() -> float:
        start = time.perf_counter()
        async with curio.TaskGroup() as group:
            for _ in range(CONCURRENT_CALLS):
                await group.spawn(curio.run_in_thread, noop)
        return time.perf_counter() - start

    return {
        "thread_sequential": lambda: (SEQUENTIAL_CALLS, curio.run(sequential)),
        "thread_concurrent": lambda: (CONCURRENT_CALLS, curio.run(concurrent)),
    }


def anyio_workloads() -> dict[str, Workload]:
    import anyio
    import anyio.to_thread

    async def sequential() -> float:
        run_sync = anyio.to_thread.run_sync
        start = time.perf_counter()
        for _ in range(SEQUENTIAL_CALLS):
            await run_sync(noop)
        return time.perf_counter() - start

    async def concurrent() -> float:
        start = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(CONCURRENT_CALLS):
                group.start_soon(anyio.to_thread.run_sync, noop)
        return time.perf_counter() - start

    return {
        "thread_sequential": lambda: (SEQUENTIAL_CALLS, anyio.run(sequential)),
        "thread_concurrent": lambda: (CONCURRENT_CALLS, anyio.run(concurrent)),
    }


FRAMEWORKS: dict[str, Callable[[], dict[str, Workload]]] = {
    "tether": tether_workloads,
    "trio": trio_workloads,
    "asyncio": asyncio_workloads,
    "uvloop": lambda: asyncio_workloads(use_uvloop=True),
    "curio": curio_workloads,
    "anyio": anyio_workloads,
}


def main(argv: list[str] | None = None) -> None:
    """Measure both thread workloads under tether, trio and asyncio (where importable)."""
    import argparse

    from .__main__ import main as harness_main

    parser = argparse.ArgumentParser(prog="python -m bench.threads", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--frameworks", default="tether,trio,asyncio,curio")
    args = parser.parse_args(argv)
    harness_main(
        [
            "--workloads",
            "thread_sequential,thread_concurrent",
            "--frameworks",
            args.frameworks,
            "--rounds",
            str(args.rounds),
        ]
    )


if __name__ == "__main__":
    main()
