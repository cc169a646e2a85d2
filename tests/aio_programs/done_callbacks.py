import asyncio
import functools


def report(label, fut):
    if fut.cancelled():
        print(label, "cancelled")
    elif fut.exception() is not None:
        print(label, "failed:", repr(fut.exception()))
    else:
        print(label, "->", fut.result())


async def compute(x):
    await asyncio.sleep(0.001 * x)
    if x == 2:
        raise ZeroDivisionError("no twos")
    return x * x


async def main():
    tasks = []
    for x in (1, 2, 3):
        t = asyncio.create_task(compute(x))
        t.add_done_callback(functools.partial(report, f"task {x}"))
        tasks.append(t)
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(0)

    fut = asyncio.get_running_loop().create_future()
    cb = functools.partial(report, "removed")
    fut.add_done_callback(cb)
    fut.add_done_callback(functools.partial(report, "kept"))
    print("removed count:", fut.remove_done_callback(cb))
    fut.set_result("value")
    await asyncio.sleep(0)

    late = asyncio.get_running_loop().create_future()
    late.cancel()
    late.add_done_callback(functools.partial(report, "added after done"))
    print("callback not run yet")
    await asyncio.sleep(0)

    order = []
    f2 = asyncio.get_running_loop().create_future()
    for i in range(4):
        f2.add_done_callback(lambda f, i=i: order.append(i))
    f2.set_result(None)
    await asyncio.sleep(0)
    print("callback order:", order)


asyncio.run(main())
