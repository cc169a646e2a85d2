import asyncio


async def main():
    pq = asyncio.PriorityQueue()
    for priority, job in [(3, "low"), (1, "urgent"), (2, "normal"), (1, "also urgent")]:
        await pq.put((priority, job))
    while not pq.empty():
        print("priority:", await pq.get())
        pq.task_done()
    await pq.join()

    lq = asyncio.LifoQueue()
    for i in range(4):
        lq.put_nowait(i)
    print("lifo:", [lq.get_nowait() for _ in range(lq.qsize())])

    bounded = asyncio.Queue(maxsize=2)
    bounded.put_nowait("a")
    bounded.put_nowait("b")
    print("full:", bounded.full())
    try:
        bounded.put_nowait("c")
    except asyncio.QueueFull:
        print("QueueFull")
    putter = asyncio.create_task(bounded.put("c"))
    await asyncio.sleep(0)
    print("putter blocked:", not putter.done())
    print("got:", bounded.get_nowait())
    await putter
    print("remaining:", [bounded.get_nowait() for _ in range(bounded.qsize())])
    try:
        await asyncio.wait_for(bounded.get(), 0.01)
    except TimeoutError:
        print("get timed out on an empty queue")
    print("unbounded maxsize:", asyncio.Queue().maxsize)


asyncio.run(main())
