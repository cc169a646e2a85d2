"""tether.aio for ``python -m tether.demo``: an asyncio snippet, ported by its import line."""

from __future__ import annotations

__all__ = ["demo_aio"]


def demo_aio() -> None:
    """Run a typical asyncio snippet (a queue with workers, gather, and a wait_for
    timeout) on tether, changed only by ``import tether.aio as asyncio``.

    ``tether.aio.run`` is a ``tether.run`` of its own, so call this outside any run.
    """
    from . import aio as asyncio  # the one line a port changes: was `import asyncio`

    async def worker(name: str, queue: asyncio.Queue[int], results: list[str]) -> None:
        while True:
            n = await queue.get()
            await asyncio.sleep(0.001 * n)
            results.append(f"{name}:{n * n}")
            queue.task_done()

    async def main() -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        results: list[str] = []
        workers = [asyncio.create_task(worker(f"w{i}", queue, results)) for i in range(3)]
        for n in range(1, 7):
            queue.put_nowait(n)
        await queue.join()
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        squares = sorted(int(r.split(":")[1]) for r in results)
        print(f"   3 workers squared a queue of 6 numbers: {squares}")
        try:
            await asyncio.wait_for(asyncio.sleep(10), timeout=0.01)
        except asyncio.TimeoutError:
            print("   wait_for timed out; the sleeping task was cancelled, asyncio-style")
        names = sorted(t.get_name() for t in asyncio.all_tasks())
        print(f"   tasks left (each one lived in the run's nursery): {names}")

    asyncio.run(main())


if __name__ == "__main__":
    demo_aio()
