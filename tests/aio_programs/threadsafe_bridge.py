import asyncio
import concurrent.futures
import threading


async def add(a, b):
    await asyncio.sleep(0.001)
    return a + b


async def explode():
    raise RuntimeError("from the loop")


def worker(loop, results):
    fut = asyncio.run_coroutine_threadsafe(add(2, 3), loop)
    results.append(fut.result(timeout=5))
    bad = asyncio.run_coroutine_threadsafe(explode(), loop)
    try:
        bad.result(timeout=5)
    except RuntimeError as e:
        results.append(f"error: {e}")
    done = threading.Event()
    loop.call_soon_threadsafe(lambda: (results.append("callback on loop"), done.set()))
    done.wait(5)
    results.append(isinstance(fut, concurrent.futures.Future))


async def main():
    loop = asyncio.get_running_loop()
    results = []
    t = threading.Thread(target=worker, args=(loop, results))
    t.start()
    await asyncio.to_thread(t.join)
    print(results)

    with concurrent.futures.ThreadPoolExecutor() as pool:
        cf = pool.submit(pow, 3, 4)
        print("wrap_future:", await asyncio.wrap_future(cf))
        cf_err = pool.submit(divmod, 1, 0)
        try:
            await asyncio.wrap_future(cf_err)
        except ZeroDivisionError:
            print("wrap_future carried ZeroDivisionError")

    fut = loop.create_future()
    threading.Thread(target=lambda: loop.call_soon_threadsafe(fut.set_result, "set from a thread")).start()
    print(await fut)


asyncio.run(main())
