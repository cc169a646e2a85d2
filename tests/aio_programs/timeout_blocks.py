import asyncio


async def main():
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(1)
    except TimeoutError:
        print("timeout expired")

    async with asyncio.timeout(1) as cm:
        await asyncio.sleep(0.001)
    print("not expired:", cm.expired())

    try:
        async with asyncio.timeout_at(loop.time() + 0.01) as cm:
            await asyncio.sleep(1)
    except TimeoutError:
        print("timeout_at expired:", cm.expired())

    async with asyncio.timeout(None) as cm:
        print("deadline:", cm.when())
        cm.reschedule(loop.time() + 10)
        print("rescheduled:", cm.when() is not None)
        await asyncio.sleep(0)

    try:
        async with asyncio.timeout(0.01):
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                print("inner saw CancelledError")
                raise
    except TimeoutError as e:
        print("outer saw", type(e).__name__, "caused by", type(e.__cause__).__name__)

    try:
        async with asyncio.timeout(0.05):
            async with asyncio.timeout(0.01):
                await asyncio.sleep(1)
    except TimeoutError:
        print("inner timeout propagated out of the outer block")


asyncio.run(main())
