import asyncio

log = []


async def slow(name):
    try:
        await asyncio.sleep(10)
        return name
    except asyncio.CancelledError:
        log.append(f"{name} cancelled")
        raise


async def failing():
    await asyncio.sleep(0.01)
    raise RuntimeError("failure")


async def main():
    a = asyncio.create_task(slow("a"))
    b = asyncio.create_task(slow("b"))
    try:
        await asyncio.gather(a, b, failing())
    except RuntimeError as e:
        print("first error:", e)
    # gather does not cancel the siblings when one fails
    print("a done?", a.done(), "b done?", b.done())
    a.cancel()
    b.cancel()
    await asyncio.sleep(0)
    print(sorted(log))
    print("a cancelled?", a.cancelled())


asyncio.run(main())
