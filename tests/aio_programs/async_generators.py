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

    three = asyncio.Event()

    async def consume():
        async for value in ticker(100, 0.001):
            print("tick", value)
            if value == 2:
                three.set()

    task = asyncio.create_task(consume())
    await three.wait()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        print("generator loop cancelled after three ticks")

asyncio.run(main())
