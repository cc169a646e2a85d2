import asyncio


class Flaky:
    def __init__(self, failures):
        self.failures = failures
        self.calls = 0

    async def __call__(self):
        self.calls += 1
        await asyncio.sleep(0.001)
        if self.calls <= self.failures:
            raise ConnectionError(f"attempt {self.calls} failed")
        return f"succeeded on attempt {self.calls}"


async def retry(fn, attempts, base_delay):
    for attempt in range(1, attempts + 1):
        try:
            return await asyncio.wait_for(fn(), timeout=0.5)
        except ConnectionError as e:
            print("  ", e)
            if attempt == attempts:
                raise
            await asyncio.sleep(base_delay * 2 ** (attempt - 1))


async def main():
    print(await retry(Flaky(2), attempts=5, base_delay=0.001))
    try:
        await retry(Flaky(10), attempts=3, base_delay=0.001)
    except ConnectionError as e:
        print("gave up:", e)


asyncio.run(main())
