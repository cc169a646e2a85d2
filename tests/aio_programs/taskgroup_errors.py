import asyncio


async def ok(n):
    await asyncio.sleep(0.01 * n)
    return n


async def bad(n, exc):
    await asyncio.sleep(0.001 * n)
    raise exc


async def long_running(log):
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        log.append("long_running cancelled by the group")
        raise


async def main():
    async with asyncio.TaskGroup() as tg:
        t1 = tg.create_task(ok(1))
        t2 = tg.create_task(ok(2), name="second")
    print("results:", t1.result(), t2.result(), t2.get_name())

    log = []
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(long_running(log))
            tg.create_task(bad(0, ValueError("v")))
            tg.create_task(bad(0, TypeError("t")))
    except* ValueError as eg:
        print("ValueErrors:", [str(e) for e in eg.exceptions])
    except* TypeError as eg:
        print("TypeErrors:", [str(e) for e in eg.exceptions])
    print(log)

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(bad(1, KeyError("k")))
            await asyncio.sleep(1)
    except ExceptionGroup as eg:
        print("group message:", eg.message, len(eg.exceptions))

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(ok(1))
            raise LookupError("body failed")
    except* LookupError as eg:
        print("body error:", eg.exceptions[0])


asyncio.run(main())
