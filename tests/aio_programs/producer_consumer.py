import asyncio


async def producer(queue, n):
    for i in range(n):
        await queue.put(i)
        print(f"produced {i}")
    await queue.put(None)


async def consumer(queue):
    total = 0
    while True:
        item = await queue.get()
        if item is None:
            queue.task_done()
            break
        print(f"consumed {item}")
        total += item
        queue.task_done()
    return total


async def main():
    queue = asyncio.Queue(maxsize=2)
    prod = asyncio.create_task(producer(queue, 5))
    cons = asyncio.create_task(consumer(queue))
    await prod
    await queue.join()
    print("total:", await cons)
    print("empty:", queue.empty(), "size:", queue.qsize(), "max:", queue.maxsize)


asyncio.run(main())
