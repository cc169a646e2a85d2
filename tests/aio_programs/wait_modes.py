import asyncio


async def job(name, delay, fail=False):
    await asyncio.sleep(delay)
    if fail:
        raise RuntimeError(name)
    return name


async def main():
    tasks = [asyncio.create_task(job(n, d)) for n, d in [("a", 0.03), ("b", 0.01), ("c", 0.02)]]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    print("first:", [t.result() for t in done], "pending:", len(pending))
    done, pending = await asyncio.wait(pending)
    print("rest:", sorted(t.result() for t in done), len(pending))

    tasks = [
        asyncio.create_task(job("x", 0.01, fail=True)),
        asyncio.create_task(job("y", 0.005)),
        asyncio.create_task(job("z", 0.5)),
    ]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for t in sorted(done, key=lambda t: tasks.index(t)):
        print("done:", repr(t.exception()) if t.exception() else t.result())
    print("pending:", len(pending))
    for t in pending:
        t.cancel()

    done, pending = await asyncio.wait([asyncio.create_task(job("slow", 1))], timeout=0.01)
    print("after timeout:", len(done), len(pending))
    for t in pending:
        t.cancel()
        try:
            await t
        except asyncio.CancelledError:
            print("cancelled slow:", t.cancelled())
    try:
        await asyncio.wait([])
    except ValueError as e:
        print("ValueError:", e)


asyncio.run(main())
