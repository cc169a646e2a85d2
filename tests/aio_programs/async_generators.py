import asyncio


async def ticker(n, delay):
    for i in range(n):
        await asyncio.sleep(delay)
        yield i


async def squares(source):
    async for value in source:
        yield value * value


class Countdown:
    def __init__(self, start):
        self.current = start

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.current <= 0:
            raise StopAsyncIteration
        await asyncio.sleep(0)
        self.current -= 1
        return self.current + 1


async def main():
    print([x async for x in squares(ticker(5, 0.001))])
    print([x async for x in Countdown(3)])
    gen = ticker(100, 0.001)
    async for value in gen:
        if value == 2:
            break
    await gen.aclose()
    print("closed early at 2")

    async def timed():
        async for value in ticker(100, 0.01):
            print("tick", value)

    try:
        await asyncio.wait_for(timed(), 0.035)
    except TimeoutError:
        print("generator loop timed out")


asyncio.run(main())
