import asyncio


async def consumer(name, cond, items, log):
    async with cond:
        await cond.wait_for(lambda: items)
        log.append(f"{name} took {items.pop(0)}")


async def main():
    cond = asyncio.Condition()
    items = []
    log = []
    consumers = [asyncio.create_task(consumer(f"c{i}", cond, items, log)) for i in range(3)]
    await asyncio.sleep(0.01)
    async with cond:
        items.append("first")
        cond.notify()
    await asyncio.sleep(0.01)
    print(log)
    async with cond:
        items.extend(["second", "third"])
        cond.notify_all()
    await asyncio.gather(*consumers)
    print(log)
    try:
        cond.notify()
    except RuntimeError as e:
        print("RuntimeError:", e)
    lock = asyncio.Lock()
    shared = asyncio.Condition(lock)
    async with shared:
        print("shares the lock:", lock.locked())


asyncio.run(main())
