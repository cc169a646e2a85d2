import asyncio


async def waiter(name, event, log):
    log.append(f"{name} waiting")
    await event.wait()
    log.append(f"{name} released")


async def main():
    event = asyncio.Event()
    log = []
    tasks = [asyncio.create_task(waiter(n, event, log)) for n in ("one", "two", "three")]
    await asyncio.sleep(0.01)
    print("is_set:", event.is_set())
    event.set()
    await asyncio.gather(*tasks)
    print(log)
    print("wait on a set event returns:", await event.wait())
    event.clear()
    print("after clear:", event.is_set())
    try:
        await asyncio.wait_for(event.wait(), 0.01)
    except TimeoutError:
        print("wait timed out")


asyncio.run(main())
