"""Threads for ``python -m tether.demo``: to_thread, from_thread and a bridge channel."""

from __future__ import annotations

import hashlib
import threading

from . import from_thread, to_thread
from ._bridge_channel import BridgeReceiveChannel, BridgeSendChannel, open_bridge_channel
from ._core import open_nursery

__all__ = ["demo_threads"]


async def demo_threads() -> None:
    """Offload blocking work to threads and talk back to the loop from them.

    1. ``to_thread.run_sync``: hash a few blocks in a worker thread while the loop stays
       free; each thread reports to the loop with ``from_thread.run_sync``.
    2. A bridge channel: a plain thread produces lines with ``send_blocking`` and a task
       consumes them with ``async for``; a second bridge carries answers back to a
       thread that reads them with a plain ``for``.
    """
    loop_thread = threading.current_thread().name
    print(f"    the loop: the loop runs in {loop_thread!r}")

    def report(block: int, digest: str) -> None:
        # Runs in the loop's thread, called from a worker through from_thread.run_sync.
        print(f"   from_thread: block {block} hashed -> {digest[:12]}... (printed in the loop)")

    def hash_block(block: int) -> str:
        digest = hashlib.sha256(bytes([block]) * 1_000_000).hexdigest()
        from_thread.run_sync(report, block, digest)
        return threading.current_thread().name

    for block in range(3):
        worker = await to_thread.run_sync(hash_block, block, thread_name=f"hasher-{block}")
        print(f"   to_thread: block {block} ran in worker thread {worker!r}")

    print("   bridge: a plain thread -> a task -> another plain thread")
    lines_send, lines_receive = open_bridge_channel(2)
    answers_send, answers_receive = open_bridge_channel(2)

    def producer(outbox: BridgeSendChannel[str]) -> None:
        with outbox:
            for word in ("alpha", "beta", "gamma"):
                outbox.send_blocking(word)

    def consumer(inbox: BridgeReceiveChannel[str]) -> list[str]:
        with inbox:
            return list(inbox)  # a plain for loop, ending when the senders close

    async def shout(inbox: BridgeReceiveChannel[str], outbox: BridgeSendChannel[str]) -> None:
        async with inbox, outbox:
            async for word in inbox:
                await outbox.send(word.upper())

    async with open_nursery() as nursery:
        nursery.start_soon(to_thread.run_sync, producer, lines_send)
        nursery.start_soon(shout, lines_receive, answers_send)
        results = await to_thread.run_sync(consumer, answers_receive)
    print(f"   the thread at the end received {results}")
