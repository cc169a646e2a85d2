import asyncio, threading, concurrent.futures

async def compute(x):
    await asyncio.sleep(0.01)
    return x * 2

def tick(loop, n):
    print("tick", n)
    if n < 3:
        loop.call_later(0.01, tick, loop, n + 1)
    else:
        loop.stop()

async def uses_threads(loop):
    def in_thread():
        fut = asyncio.run_coroutine_threadsafe(compute(21), loop)
        return fut.result(timeout=5)
    print("from thread:", await loop.run_in_executor(None, in_thread))
    cf = concurrent.futures.ThreadPoolExecutor(1).submit(pow, 2, 10)
    print("wrapped:", await asyncio.wrap_future(cf))
    ev = asyncio.Event(); lock = asyncio.Lock(); sem = asyncio.BoundedSemaphore(2)
    async with lock, sem:
        print("locked:", lock.locked(), sem.locked())
    try:
        sem.release()
    except ValueError as e:
        print("bounded:", e)
    cond = asyncio.Condition()
    async def waiter():
        async with cond:
            await cond.wait_for(lambda: ev.is_set())
            print("condition ok")
    t = asyncio.ensure_future(waiter())
    await asyncio.sleep(0)
    async with cond:
        ev.set(); cond.notify_all()
    await t
    b = asyncio.Barrier(2)
    print(sorted(await asyncio.gather(b.wait(), b.wait())))
    q = asyncio.PriorityQueue()
    for p in [3, 1, 2]: q.put_nowait((p, str(p)))
    print([q.get_nowait()[1] for _ in range(3)])
    try: q.get_nowait()
    except asyncio.QueueEmpty: print("empty")
    lq = asyncio.LifoQueue(maxsize=1); lq.put_nowait(1)
    try: lq.put_nowait(2)
    except asyncio.QueueFull: print("full")
    s = asyncio.shield(compute(5))
    print("shield:", await s)

loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
print(loop.run_until_complete(compute(4)))
loop.run_until_complete(uses_threads(loop))
loop.call_soon(tick, loop, 1)
loop.run_forever()
loop.close()
print("closed", loop.is_closed())
