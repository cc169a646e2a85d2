import asyncio

PAGES = {
    "/": ["/a", "/b"],
    "/a": ["/a/1", "/b"],
    "/b": ["/", "/b/1", "/b/2"],
    "/a/1": [],
    "/b/1": ["/missing"],
    "/b/2": [],
}


async def fetch(url):
    await asyncio.sleep(0.001 * len(url))
    if url not in PAGES:
        raise LookupError(f"404 {url}")
    return PAGES[url]


async def crawl(start, concurrency):
    seen = {start}
    errors = []
    queue = asyncio.Queue()
    queue.put_nowait(start)
    sem = asyncio.Semaphore(concurrency)

    async def worker():
        while True:
            url = await queue.get()
            try:
                async with sem:
                    links = await fetch(url)
                for link in links:
                    if link not in seen:
                        seen.add(link)
                        queue.put_nowait(link)
            except LookupError as e:
                errors.append(str(e))
            finally:
                queue.task_done()

    workers = [asyncio.create_task(worker()) for _ in range(4)]
    await queue.join()
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    return sorted(seen), errors


async def main():
    seen, errors = await crawl("/", concurrency=2)
    print("seen:", seen)
    print("errors:", errors)


asyncio.run(main())
