import asyncio


async def stage(name, inbox, outbox, fn):
    while True:
        item = await inbox.get()
        try:
            result = fn(item)
            if outbox is not None:
                await outbox.put(result)
            else:
                print(f"{name}: {result}")
        finally:
            inbox.task_done()


async def main():
    raw = asyncio.Queue()
    parsed = asyncio.Queue()
    workers = [
        asyncio.create_task(stage("parse", raw, parsed, int)),
        asyncio.create_task(stage("square", parsed, None, lambda n: n * n)),
    ]
    for text in ["1", "2", "3", "4"]:
        await raw.put(text)
    await raw.join()
    await parsed.join()
    print("unfinished tasks: 0 ->", raw.empty() and parsed.empty())
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    print("workers cancelled:", [w.cancelled() for w in workers])


asyncio.run(main())
