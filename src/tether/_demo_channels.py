"""A small producer/consumer pipeline for ``python -m tether.demo``."""

from __future__ import annotations

from ._channel import MemoryReceiveChannel, MemorySendChannel, open_memory_channel
from ._core import open_nursery

__all__ = ["demo_channels"]


async def demo_channels() -> None:
    """Run a three-stage pipeline: a producer, two workers, a collector.

    The producer sends numbers into a small buffered channel; two workers (each with its
    own clone of both channels) square them and pass the results on; the collector reads
    until every worker has closed its end, which ends the ``async for`` loop.
    """
    print("channels: producer -> 2 workers -> collector, over memory channels")
    jobs_send, jobs_receive = open_memory_channel[int](2)
    results_send, results_receive = open_memory_channel[tuple[str, int, int]](0)

    async def producer(outbox: MemorySendChannel[int]) -> None:
        async with outbox:
            for number in range(1, 7):
                await outbox.send(number)

    async def worker(
        name: str,
        inbox: MemoryReceiveChannel[int],
        outbox: MemorySendChannel[tuple[str, int, int]],
    ) -> None:
        async with inbox, outbox:
            async for number in inbox:
                await outbox.send((name, number, number * number))

    async with open_nursery() as nursery:
        # Each task gets its own handles; the originals are closed here, so the channels
        # end exactly when the last task closes its clone.
        async with jobs_send, jobs_receive, results_send:
            nursery.start_soon(producer, jobs_send.clone())
            for name in ("worker-a", "worker-b"):
                nursery.start_soon(worker, name, jobs_receive.clone(), results_send.clone())
        total = 0
        async for name, number, square in results_receive:
            print(f"  {name} squared {number} -> {square}")
            total += square
        stats = results_receive.statistics()
    print(
        f"  sum of squares {total}; all senders closed "
        f"(open send handles: {stats.open_send_channels}), so the loop ended by itself"
    )
