import asyncio
import concurrent.futures
import hashlib


def blocking_io(n):
    with open("/dev/zero", "rb") as f:
        return len(f.read(n))


def cpu_bound(n):
    return hashlib.sha256(str(n).encode()).hexdigest()[:12]


def fails():
    raise OSError("disk on fire")


async def main():
    loop = asyncio.get_running_loop()
    print("default pool:", await loop.run_in_executor(None, blocking_io, 10))
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = await asyncio.gather(*(loop.run_in_executor(pool, cpu_bound, i) for i in range(3)))
        print("thread pool:", results)
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        # functions from the stdlib: they pickle the same however this file was started
        print("process pool:", await loop.run_in_executor(pool, pow, 2, 100))
        print("process pool map:", await asyncio.gather(*(loop.run_in_executor(pool, abs, -i) for i in range(3))))
    try:
        await loop.run_in_executor(None, fails)
    except OSError as e:
        print("error from the executor:", e)
    fut = loop.run_in_executor(None, sum, range(10))
    print("is a future:", asyncio.isfuture(fut), await fut)


if __name__ == "__main__":
    asyncio.run(main())
