import asyncio


async def periodic(name, interval, count, log):
    for i in range(count):
        await asyncio.sleep(interval)
        log.append(f"{name} {i}")


def main():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    log = []
    t1 = loop.create_task(periodic("fast", 0.01, 3, log))
    t2 = loop.create_task(periodic("slow", 0.025, 2, log))
    gathered = asyncio.gather(t1, t2)
    gathered.add_done_callback(lambda _: loop.stop())
    print("running before:", loop.is_running())
    loop.run_forever()
    print(log)
    print("results:", gathered.result())
    print(loop.run_until_complete(asyncio.sleep(0.001, "run_until_complete result")))
    try:
        loop.run_until_complete(periodic("boom", "not a number", 1, log))
    except TypeError:
        print("TypeError came out of run_until_complete")
    loop.call_soon(loop.stop)
    loop.run_forever()
    print("stopped again")
    loop.close()
    print("closed:", loop.is_closed())
    coro = asyncio.sleep(0)
    try:
        loop.run_until_complete(coro)
    except RuntimeError as e:
        print("RuntimeError:", e)
    finally:
        coro.close()


main()
