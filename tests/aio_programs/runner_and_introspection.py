import asyncio


async def child(n):
    await asyncio.sleep(0.01)
    return asyncio.current_task().get_name(), n


async def report():
    me = asyncio.current_task()
    kids = [asyncio.create_task(child(i), name=f"child-{i}") for i in range(3)]
    await asyncio.sleep(0)
    names = sorted(t.get_name() for t in asyncio.all_tasks())
    print("all tasks:", names)
    print("main is in all_tasks:", me in asyncio.all_tasks())
    print(await asyncio.gather(*kids))
    print("after gather:", len(asyncio.all_tasks()))
    me.set_name("renamed")
    return me.get_name()


async def add(a, b):
    return a + b


def main():
    with asyncio.Runner() as runner:
        print(runner.run(report()))
        print(runner.run(add(1, 2)))
        loop = runner.get_loop()
        print("loop open inside:", not loop.is_closed())
    print("loop closed after:", loop.is_closed())
    try:
        asyncio.current_task()
    except RuntimeError as e:
        print("current_task outside a loop:", e)
    try:
        asyncio.all_tasks()
    except RuntimeError as e:
        print("all_tasks outside a loop:", e)


main()
