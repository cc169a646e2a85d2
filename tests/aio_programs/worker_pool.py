import asyncio
import random


async def worker(name, queue, done):
    while True:
        delay = await queue.get()
        await asyncio.sleep(delay)
        done.append((name, delay))
        queue.task_done()


async def main():
    rng = random.Random(7)
    queue = asyncio.Queue()
    for _ in range(12):
        queue.put_nowait(round(rng.uniform(0.001, 0.02), 3))
    done = []
    tasks = []
    for i in range(3):
        task = asyncio.create_task(worker(f"worker-{i}", queue, done))
        tasks.append(task)
    await queue.join()
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    print("processed", len(done), "items")
    print("all cancelled:", all(isinstance(r, asyncio.CancelledError) for r in results))
    print("workers used:", sorted({name for name, _ in done}))
    print("sum:", round(sum(d for _, d in done), 3))


asyncio.run(main())
