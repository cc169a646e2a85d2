import asyncio


def note(log, what):
    log.append(what)


async def main():
    loop = asyncio.get_running_loop()
    log = []
    loop.call_later(0.02, note, log, "later 0.02")
    loop.call_later(0.01, note, log, "later 0.01")
    loop.call_at(loop.time() + 0.015, note, log, "at +0.015")
    for i in range(3):
        loop.call_soon(note, log, f"soon {i}")
    handle = loop.call_soon(note, log, "cancelled soon")
    handle.cancel()
    timer = loop.call_later(0.005, note, log, "cancelled timer")
    timer.cancel()
    print("handle cancelled:", handle.cancelled(), timer.cancelled())
    await asyncio.sleep(0)
    print(log)
    await asyncio.sleep(0.05)
    print(log)

    def chain(n):
        log.append(f"chain {n}")
        if n < 3:
            loop.call_soon(chain, n + 1)

    log.clear()
    loop.call_soon(chain, 1)
    loop.call_soon(note, log, "after chain start")
    await asyncio.sleep(0.01)
    print(log)

    log.clear()
    loop.call_later(0.01, note, log, "same deadline A")
    loop.call_later(0.01, note, log, "same deadline B")
    await asyncio.sleep(0.02)
    print(log)
    print("when is a float:", isinstance(loop.call_later(1, print).when(), float))


asyncio.run(main())
