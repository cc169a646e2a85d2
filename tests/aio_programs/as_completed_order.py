import asyncio


async def download(name, delay):
    await asyncio.sleep(delay)
    return f"{name} ({delay}s)"


async def main():
    jobs = [download("big", 0.03), download("small", 0.01), download("medium", 0.02)]
    for i, next_done in enumerate(asyncio.as_completed(jobs), 1):
        print(i, await next_done)
    try:
        for fut in asyncio.as_completed([download("never", 1)], timeout=0.01):
            await fut
    except TimeoutError:
        print("as_completed timed out")


asyncio.run(main())
