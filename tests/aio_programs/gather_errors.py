import asyncio


async def fetch(n):
    await asyncio.sleep(0.001 * n)
    if n % 3 == 0:
        raise ValueError(f"bad item {n}")
    return n * 10


async def main():
    results = await asyncio.gather(*(fetch(i) for i in range(1, 7)), return_exceptions=True)
    for r in results:
        if isinstance(r, Exception):
            print("error:", type(r).__name__, r)
        else:
            print("ok:", r)
    try:
        await asyncio.gather(fetch(1), fetch(3), fetch(4))
    except ValueError as e:
        print("gather raised:", e)
    print("empty gather:", await asyncio.gather())
    outer = asyncio.gather(fetch(1), fetch(2))
    print("gather is a future:", asyncio.isfuture(outer))
    print(await outer)


asyncio.run(main())
