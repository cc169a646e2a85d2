import asyncio


async def eventually(value, delay):
    await asyncio.sleep(delay)
    return value


async def stubborn():
    try:
        await asyncio.sleep(1)
    finally:
        print("stubborn cleanup ran")


async def main():
    print(await asyncio.wait_for(eventually("fast", 0.01), timeout=1))
    try:
        await asyncio.wait_for(eventually("slow", 1), timeout=0.01)
    except asyncio.TimeoutError:
        print("timed out (asyncio.TimeoutError)")
    try:
        await asyncio.wait_for(stubborn(), 0.01)
    except TimeoutError:
        print("timed out (builtin TimeoutError)")
    print("None means no timeout:", await asyncio.wait_for(eventually(3, 0.01), None))
    task = asyncio.create_task(eventually("task", 1))
    try:
        await asyncio.wait_for(task, 0.01)
    except TimeoutError:
        print("task cancelled by wait_for:", task.cancelled())
    print("asyncio.TimeoutError is TimeoutError:", asyncio.TimeoutError is TimeoutError)


asyncio.run(main())
