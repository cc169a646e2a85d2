"""Channel workloads: ping-pong over two unbuffered channels, and a buffered pipeline.

* ``channel_pingpong``: two tasks, two unbuffered channels (``open_memory_channel(0)``),
  200,000 round trips: A sends on one channel, B receives it and sends it back on the
  other. Measures the hand-off to a waiting receiver plus two task switches per leg.
* ``channel_pipeline``: one producer, one consumer, a channel buffered to 100 items,
  1,000,000 items. Measures the buffered fast path (no parking while there is room).

Peers: trio's memory channels, and ``asyncio.Queue`` (asyncio has no rendezvous
channel, so ping-pong uses two ``Queue(maxsize=1)``: a ``put`` there does not wait for
the ``get``, which gives asyncio a slightly easier job).

Run it alone with ``python -m bench.channels`` (tether, trio, asyncio where importable,
each measurement in a fresh interpreter), or through the harness:
``python -m bench --workloads channel_pingpong,channel_pipeline``.
Each workload returns (operations, seconds); operations are round trips or items.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

PINGPONG_ROUNDS = 200_000
PIPELINE_ITEMS = 1_000_000
PIPELINE_BUFFER = 100

Workload = Callable[[], tuple[int, float]]


def _timed(run: Callable[[], Any], ops: int) -> tuple[int, float]:
    start = time.perf_counter()
    run()
    return ops, time.perf_counter() - start


# -- tether -----------------------------------------------------------------------------------


def tether_workloads() -> dict[str, Workload]:
    import tether

    async def pingpong() -> None:
        ping_send, ping_receive = tether.open_memory_channel[int](0)
        pong_send, pong_receive = tether.open_memory_channel[int](0)

        async def echo() -> None:
            receive, send = ping_receive.receive, pong_send.send
            for _ in range(PINGPONG_ROUNDS):
                await send(await receive())

        async with tether.open_nursery() as nursery:
            nursery.start_soon(echo)
            send, receive = ping_send.send, pong_receive.receive
            for i in range(PINGPONG_ROUNDS):
                await send(i)
                await receive()

    async def pipeline() -> None:
        send_channel, receive_channel = tether.open_memory_channel[int](PIPELINE_BUFFER)

        async def producer() -> None:
            send = send_channel.send
            for i in range(PIPELINE_ITEMS):
                await send(i)
            await send_channel.aclose()

        async with tether.open_nursery() as nursery:
            nursery.start_soon(producer)
            count = 0
            async for _ in receive_channel:
                count += 1
            assert count == PIPELINE_ITEMS

    return {
        "channel_pingpong": lambda: _timed(lambda: tether.run(pingpong), PINGPONG_ROUNDS),
        "channel_pipeline": lambda: _timed(lambda: tether.run(pipeline), PIPELINE_ITEMS),
    }


# -- trio -------------------------------------------------------------------------------------


def trio_workloads() -> dict[str, Workload]:
    import trio

    async def pingpong() -> None:
        ping_send, ping_receive = trio.open_memory_channel[int](0)
        pong_send, pong_receive = trio.open_memory_channel[int](0)

        async def echo() -> None:
            receive, send = ping_receive.receive, pong_send.send
            for _ in range(PINGPONG_ROUNDS):
                await send(await receive())

        async with trio.open_nursery() as nursery:
            nursery.start_soon(echo)
            send, receive = ping_send.send, pong_receive.receive
            for i in range(PINGPONG_ROUNDS):
                await send(i)
                await receive()

    async def pipeline() -> None:
        send_channel, receive_channel = trio.open_memory_channel[int](PIPELINE_BUFFER)

        async def producer() -> None:
            send = send_channel.send
            for i in range(PIPELINE_ITEMS):
                await send(i)
            await send_channel.aclose()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(producer)
            count = 0
            async for _ in receive_channel:
                count += 1
            assert count == PIPELINE_ITEMS

    return {
        "channel_pingpong": lambda: _timed(lambda: trio.run(pingpong), PINGPONG_ROUNDS),
        "channel_pipeline": lambda: _timed(lambda: trio.run(pipeline), PIPELINE_ITEMS),
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

    async def pingpong() -> None:
        ping: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        pong: asyncio.Queue[int] = asyncio.Queue(maxsize=1)

        async def echo() -> None:
            get, put = ping.get, pong.put
            for _ in range(PINGPONG_ROUNDS):
                await put(await get())

        async with asyncio.TaskGroup() as group:
            group.create_task(echo())
            put, get = ping.put, pong.get
            for i in range(PINGPONG_ROUNDS):
                await put(i)
                await get()

    async def pipeline() -> None:
        queue: asyncio.Queue[int | None] = asyncio.Queue(maxsize=PIPELINE_BUFFER)

        async def producer() -> None:
            put = queue.put
            for i in range(PIPELINE_ITEMS):
                await put(i)
            await put(None)

        async with asyncio.TaskGroup() as group:
            group.create_task(producer())
            get = queue.get
            count = 0
            while await get() is not None:
                count += 1
            assert count == PIPELINE_ITEMS

    return {
        "channel_pingpong": lambda: _timed(lambda: run(pingpong()), PINGPONG_ROUNDS),
        "channel_pipeline": lambda: _timed(lambda: run(pipeline()), PIPELINE_ITEMS),
    }


FRAMEWORKS: dict[str, Callable[[], dict[str, Workload]]] = {
    "tether": tether_workloads,
    "trio": trio_workloads,
    "asyncio": asyncio_workloads,
    "uvloop": lambda: asyncio_workloads(use_uvloop=True),
}


def main(argv: list[str] | None = None) -> None:
    """Measure both channel workloads under tether, trio and asyncio (where importable)."""
    import argparse

    from .__main__ import main as harness_main

    parser = argparse.ArgumentParser(prog="python -m bench.channels", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--frameworks", default="tether,trio,asyncio")
    args = parser.parse_args(argv)
    harness_main(
        [
            "--workloads",
            "channel_pingpong,channel_pipeline",
            "--frameworks",
            args.frameworks,
            "--rounds",
            str(args.rounds),
        ]
    )


if __name__ == "__main__":
    main()
