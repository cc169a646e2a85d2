import asyncio

counter = 0


async def unsafe_increment():
    global counter
    value = counter
    await asyncio.sleep(0)
    counter = value + 1


async def safe_increment(lock):
    global counter
    async with lock:
        value = counter
        await asyncio.sleep(0)
        counter = value + 1


async def main():
    global counter
    await asyncio.gather(*(unsafe_increment() for _ in range(10)))
    print("without a lock:", counter)
    counter = 0
    lock = asyncio.Lock()
    await asyncio.gather(*(safe_increment(lock) for _ in range(10)))
    print("with a lock:", counter)
    await lock.acquire()
    print("locked:", lock.locked())
    lock.release()
    print("locked:", lock.locked())
    try:
        lock.release()
    except RuntimeError as e:
        print("RuntimeError:", e)

    order = []

    async def holder(i):
        async with lock:
            order.append(i)
            await asyncio.sleep(0.001)

    await asyncio.gather(*(holder(i) for i in range(5)))
    print("fifo:", order)


asyncio.run(main())
