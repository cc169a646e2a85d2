import asyncio


async def service(name, log):
    try:
        while True:
            await asyncio.sleep(0.01)
    except asyncio.CancelledError:
        await asyncio.sleep(0.001)
        log.append(f"{name} flushed and stopped")
        raise


async def shutdown(log):
    current = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not current]
    print("cancelling", len(tasks), "tasks")
    for t in tasks:
        t.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    print("all CancelledError:", all(isinstance(r, asyncio.CancelledError) for r in results))
    print(sorted(log))


async def main():
    log = []
    for name in ("db", "web", "metrics"):
        asyncio.create_task(service(name, log), name=name)
    await asyncio.sleep(0.03)
    await shutdown(log)
    print("remaining:", [t.get_name() for t in asyncio.all_tasks()])


asyncio.run(main())
