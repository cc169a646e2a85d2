import asyncio


class Resource:
    def __init__(self, name):
        self.name = name

    async def __aenter__(self):
        print("open", self.name)
        return self

    async def __aexit__(self, *exc):
        await asyncio.sleep(0.001)
        print("close", self.name, "on", exc[0].__name__ if exc[0] else "success")


async def uses_resources():
    async with Resource("db"):
        async with Resource("cache"):
            await asyncio.sleep(1)


async def swallows():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        print("swallowed the cancellation")
    await asyncio.sleep(0.001)
    return "kept going"


async def main():
    t = asyncio.create_task(uses_resources())
    await asyncio.sleep(0.01)
    t.cancel()
    await asyncio.gather(t, return_exceptions=True)
    print("t cancelled:", t.cancelled())

    s = asyncio.create_task(swallows())
    await asyncio.sleep(0.01)
    s.cancel()
    print("result:", await s, "cancelled:", s.cancelled())

    u = asyncio.create_task(swallows())
    await asyncio.sleep(0.01)
    u.cancel()
    u.uncancel()
    print("after uncancel:", u.cancelling(), await u)


asyncio.run(main())
