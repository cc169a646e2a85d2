import asyncio
import threading
import time


def blocking(name, seconds, log):
    log.append(f"{name} runs in the main thread: {threading.current_thread() is threading.main_thread()}")
    time.sleep(seconds)
    return name.upper()


async def heartbeat(stop):
    beats = 0
    while not stop.is_set():
        beats += 1
        await asyncio.sleep(0.005)
    return beats


async def main():
    log = []
    stop = asyncio.Event()
    hb = asyncio.create_task(heartbeat(stop))
    results = await asyncio.gather(
        asyncio.to_thread(blocking, "a", 0.05, log),
        asyncio.to_thread(blocking, "b", 0.05, log),
    )
    stop.set()
    print(results)
    print(sorted(log))
    print("event loop kept running while threads blocked:", await hb > 2)
    print("kwargs:", await asyncio.to_thread(sorted, [3, 1, 2], reverse=True))
    try:
        await asyncio.to_thread(int, "not a number")
    except ValueError as e:
        print("ValueError:", e)


asyncio.run(main())
