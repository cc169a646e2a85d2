import asyncio


async def fetch(i, sem, state):
    async with sem:
        state["active"] += 1
        state["peak"] = max(state["peak"], state["active"])
        await asyncio.sleep(0.005)
        state["active"] -= 1
        return i


async def main():
    sem = asyncio.Semaphore(3)
    state = {"active": 0, "peak": 0}
    results = await asyncio.gather(*(fetch(i, sem, state) for i in range(10)))
    print(results)
    print("peak concurrency:", state["peak"])
    print("locked:", sem.locked())
    sem.release()
    print("plain Semaphore can go above its start value")

    bounded = asyncio.BoundedSemaphore(1)
    await bounded.acquire()
    print("bounded locked:", bounded.locked())
    bounded.release()
    try:
        bounded.release()
    except ValueError as e:
        print("ValueError:", e)
    try:
        asyncio.Semaphore(-1)
    except ValueError as e:
        print("ValueError:", e)


asyncio.run(main())
