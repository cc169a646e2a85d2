import asyncio


async def save(record, log):
    await asyncio.sleep(0.02)
    log.append(f"saved {record}")
    return record


async def main():
    log = []
    inner = asyncio.create_task(save("r1", log))
    try:
        await asyncio.wait_for(asyncio.shield(inner), timeout=0.005)
    except TimeoutError:
        print("caller gave up, inner cancelled?", inner.cancelled())
    print("inner result:", await inner)
    print(log)

    outer = asyncio.shield(save("r2", log))
    outer.cancel()
    try:
        await outer
    except asyncio.CancelledError:
        print("outer cancelled:", outer.cancelled())
    await asyncio.sleep(0.03)
    print(log)


asyncio.run(main())
