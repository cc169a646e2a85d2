import asyncio


async def runner(name, barrier, log):
    for phase in range(2):
        await asyncio.sleep(0.001 * len(name))
        log.append(f"{name} reached phase {phase}")
        index = await barrier.wait()
        if index == 0:
            log.append(f"phase {phase} complete")


async def main():
    barrier = asyncio.Barrier(3)
    log = []
    print("parties:", barrier.parties, "waiting:", barrier.n_waiting)
    await asyncio.gather(*(runner(n, barrier, log) for n in ("a", "bb", "ccc")))
    for line in log:
        print(line)
    print("broken:", barrier.broken)

    broken = asyncio.Barrier(2)
    t = asyncio.create_task(broken.wait())
    await asyncio.sleep(0)
    await broken.abort()
    try:
        await t
    except asyncio.BrokenBarrierError:
        print("waiter saw BrokenBarrierError")
    print("broken:", broken.broken)
    await broken.reset()
    print("after reset:", broken.broken)


asyncio.run(main())
