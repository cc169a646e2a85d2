import asyncio


async def step(name, log, n):
    for i in range(n):
        log.append(f"{name}{i}")
        await asyncio.sleep(0)


async def main():
    log = []
    tasks = [asyncio.create_task(step(name, log, 3)) for name in "abc"]
    print("nothing ran yet:", log)
    await asyncio.gather(*tasks)
    print(log)

    log.clear()
    t1 = asyncio.create_task(step("x", log, 1))
    t2 = asyncio.create_task(step("y", log, 1))
    log.append("main before yield")
    await asyncio.sleep(0)
    log.append("main after yield")
    await t1
    await t2
    print(log)

    names = [asyncio.create_task(asyncio.sleep(0), name=f"job-{i}").get_name() for i in range(3)]
    print(names)
    await asyncio.sleep(0)


asyncio.run(main())
