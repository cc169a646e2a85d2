import asyncio

async def worker(name, q, results):
    while True:
        item = await q.get()
        await asyncio.sleep(0.01)
        results.append((name, item * item))
        q.task_done()

async def cancellable():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        print("caught cancel, cleaning up")
        await asyncio.sleep(0.01)
        return "swallowed"

async def boom():
    raise ValueError("bad")

async def main():
    q = asyncio.Queue()
    results = []
    workers = [asyncio.create_task(worker(f"w{i}", q, results)) for i in range(3)]
    for i in range(6): q.put_nowait(i)
    await q.join()
    for w in workers: w.cancel()
    print(sorted(r[1] for r in results))
    print(await asyncio.gather(asyncio.sleep(0.02, "a"), asyncio.sleep(0.01, "b")))
    print(await asyncio.gather(boom(), asyncio.sleep(0, 1), return_exceptions=True))
    t = asyncio.create_task(cancellable())
    await asyncio.sleep(0.01)
    t.cancel()
    print("result:", await t)
    try:
        await asyncio.wait_for(asyncio.sleep(1), 0.05)
    except TimeoutError:
        print("wait_for timed out")
    try:
        async with asyncio.timeout(0.05):
            await asyncio.sleep(1)
    except TimeoutError:
        print("timeout() fired")
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(asyncio.sleep(1))
            tg.create_task(boom())
    except* ValueError as eg:
        print("taskgroup:", [str(e) for e in eg.exceptions])
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    loop.call_later(0.01, fut.set_result, 42)
    loop.call_soon(print, "call_soon 1"); loop.call_soon(print, "call_soon 2")
    print("future:", await fut)
    print("executor:", await loop.run_in_executor(None, sum, [1, 2, 3]))
    print("to_thread:", await asyncio.to_thread(len, "abcd"))
    done, pending = await asyncio.wait([asyncio.create_task(asyncio.sleep(0.01, "x")), asyncio.create_task(asyncio.sleep(1))], return_when=asyncio.FIRST_COMPLETED)
    print(len(done), len(pending)); [p.cancel() for p in pending]
    for c in asyncio.as_completed([asyncio.sleep(0.02, 2), asyncio.sleep(0.01, 1)]):
        print("as_completed", await c)
    asyncio.create_task(boom())  # never retrieved
    await asyncio.sleep(0.01)
    print("current:", asyncio.current_task().get_name())
asyncio.run(main())
