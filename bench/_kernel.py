"""Kernel workloads: spawning, switching, timeouts. Each returns (operations, seconds)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

SPAWN = 50_000
SWITCH = 500_000
SWITCH_TASKS = 100
TIMEOUTS = 100_000
TIMEOUTS_FIRING = 10_000

Workload = Callable[[], tuple[int, float]]


def _timed(run: Callable[[], Any], ops: int) -> tuple[int, float]:
    start = time.perf_counter()
    run()
    return ops, time.perf_counter() - start


# -- tether -----------------------------------------------------------------------------------


def tether_workloads() -> dict[str, Workload]:
    import tether

    async def one() -> None:
        await tether.sleep(0)

    async def spawn() -> None:
        async with tether.open_nursery() as nursery:
            for _ in range(SPAWN):
                nursery.start_soon(one)

    async def switches(n: int) -> None:
        for _ in range(n):
            await tether.sleep(0)

    async def switch_many() -> None:
        async with tether.open_nursery() as nursery:
            for _ in range(SWITCH_TASKS):
                nursery.start_soon(switches, SWITCH // SWITCH_TASKS)

    async def timeouts() -> None:
        for _ in range(TIMEOUTS):
            with tether.move_on_after(10):
                await tether.sleep(0)

    async def timeouts_firing() -> None:
        for _ in range(TIMEOUTS_FIRING):
            with tether.move_on_after(0):
                await tether.sleep(1)

    return {
        "spawn": lambda: _timed(lambda: tether.run(spawn), SPAWN),
        "switch": lambda: _timed(lambda: tether.run(switches, SWITCH), SWITCH),
        "switch100": lambda: _timed(lambda: tether.run(switch_many), SWITCH),
        "timeouts": lambda: _timed(lambda: tether.run(timeouts), TIMEOUTS),
        "timeouts_fire": lambda: _timed(lambda: tether.run(timeouts_firing), TIMEOUTS_FIRING),
    }


# -- trio -------------------------------------------------------------------------------------


def trio_workloads() -> dict[str, Workload]:
    import trio

    async def one() -> None:
        await trio.sleep(0)

    async def spawn() -> None:
        async with trio.open_nursery() as nursery:
            for _ in range(SPAWN):
                nursery.start_soon(one)

    async def switches(n: int) -> None:
        for _ in range(n):
            await trio.sleep(0)

    async def switch_many() -> None:
        async with trio.open_nursery() as nursery:
            for _ in range(SWITCH_TASKS):
                nursery.start_soon(switches, SWITCH // SWITCH_TASKS)

    async def timeouts() -> None:
        for _ in range(TIMEOUTS):
            with trio.move_on_after(10):
                await trio.sleep(0)

    async def timeouts_firing() -> None:
        for _ in range(TIMEOUTS_FIRING):
            with trio.move_on_after(0):
                await trio.sleep(1)

    return {
        "spawn": lambda: _timed(lambda: trio.run(spawn), SPAWN),
        "switch": lambda: _timed(lambda: trio.run(switches, SWITCH), SWITCH),
        "switch100": lambda: _timed(lambda: trio.run(switch_many), SWITCH),
        "timeouts": lambda: _timed(lambda: trio.run(timeouts), TIMEOUTS),
        "timeouts_fire": lambda: _timed(lambda: trio.run(timeouts_firing), TIMEOUTS_FIRING),
    }


# -- asyncio (and uvloop, which only swaps the loop) --------------------------------------------


def asyncio_workloads(use_uvloop: bool = False) -> dict[str, Workload]:
    import asyncio

    if use_uvloop:
        import uvloop

        def run(coro: Any) -> None:
            uvloop.run(coro)
    else:

        def run(coro: Any) -> None:
            asyncio.run(coro)

    async def one() -> None:
        await asyncio.sleep(0)

    async def spawn() -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(SPAWN):
                group.create_task(one())

    async def switches(n: int) -> None:
        for _ in range(n):
            await asyncio.sleep(0)

    async def switch_many() -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(SWITCH_TASKS):
                group.create_task(switches(SWITCH // SWITCH_TASKS))

    async def timeouts() -> None:
        for _ in range(TIMEOUTS):
            async with asyncio.timeout(10):
                await asyncio.sleep(0)

    async def timeouts_firing() -> None:
        for _ in range(TIMEOUTS_FIRING):
            try:
                async with asyncio.timeout(0):
                    await asyncio.sleep(1)
            except TimeoutError:
                pass

    return {
        "spawn": lambda: _timed(lambda: run(spawn()), SPAWN),
        "switch": lambda: _timed(lambda: run(switches(SWITCH)), SWITCH),
        "switch100": lambda: _timed(lambda: run(switch_many()), SWITCH),
        "timeouts": lambda: _timed(lambda: run(timeouts()), TIMEOUTS),
        "timeouts_fire": lambda: _timed(lambda: run(timeouts_firing()), TIMEOUTS_FIRING),
    }


# -- curio ------------------------------------------------------------------------------------


def curio_workloads() -> dict[str, Workload]:
    import curio

    async def one() -> None:
        await curio.sleep(0)

    async def spawn() -> None:
        async with curio.TaskGroup() as group:
            for _ in range(SPAWN):
                await group.spawn(one)

    async def switches(n: int) -> None:
        for _ in range(n):
            await curio.sleep(0)

    async def switch_many() -> None:
        async with curio.TaskGroup() as group:
            for _ in range(SWITCH_TASKS):
                await group.spawn(switches, SWITCH // SWITCH_TASKS)

    async def timeouts() -> None:
        for _ in range(TIMEOUTS):
            async with curio.ignore_after(10):
                await curio.sleep(0)

    async def timeouts_firing() -> None:
        for _ in range(TIMEOUTS_FIRING):
            async with curio.ignore_after(1e-9):
                await curio.sleep(1)

    return {
        "spawn": lambda: _timed(lambda: curio.run(spawn), SPAWN),
        "switch": lambda: _timed(lambda: curio.run(switches, SWITCH), SWITCH),
        "switch100": lambda: _timed(lambda: curio.run(switch_many), SWITCH),
        "timeouts": lambda: _timed(lambda: curio.run(timeouts), TIMEOUTS),
        "timeouts_fire": lambda: _timed(lambda: curio.run(timeouts_firing), TIMEOUTS_FIRING),
    }


# -- anyio (on asyncio) ---------------------------------------------------------------------------


def anyio_workloads() -> dict[str, Workload]:
    import anyio

    async def one() -> None:
        await anyio.sleep(0)

    async def spawn() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(SPAWN):
                group.start_soon(one)

    async def switches(n: int) -> None:
        for _ in range(n):
            await anyio.sleep(0)

    async def timeouts() -> None:
        for _ in range(TIMEOUTS):
            with anyio.move_on_after(10):
                await anyio.sleep(0)

    return {
        "spawn": lambda: _timed(lambda: anyio.run(spawn), SPAWN),
        "switch": lambda: _timed(lambda: anyio.run(switches, SWITCH), SWITCH),
        "timeouts": lambda: _timed(lambda: anyio.run(timeouts), TIMEOUTS),
    }


FRAMEWORKS: dict[str, Callable[[], dict[str, Workload]]] = {
    "tether": tether_workloads,
    "trio": trio_workloads,
    "asyncio": asyncio_workloads,
    "uvloop": lambda: asyncio_workloads(use_uvloop=True),
    "curio": curio_workloads,
    "anyio": anyio_workloads,
}
