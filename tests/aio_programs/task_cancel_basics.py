import asyncio


async def ticker(log):
    n = 0
    try:
        while True:
            await asyncio.sleep(0.01)
            n += 1
    except asyncio.CancelledError:
        log.append(f"ticker stopped after some ticks: {n > 0}")
        raise


async def main():
    log = []
    task = asyncio.create_task(ticker(log), name="ticker")
    await asyncio.sleep(0.035)
    print("cancel() returned", task.cancel())
    print("cancelling:", task.cancelling())
    try:
        await task
    except asyncio.CancelledError:
        print("awaiting the task raised CancelledError")
    print("cancelled:", task.cancelled(), "done:", task.done())
    print("cancel again:", task.cancel())
    print(log)

    task = asyncio.create_task(asyncio.sleep(1))
    await asyncio.sleep(0)
    task.cancel(msg="shutting down")
    try:
        await task
    except asyncio.CancelledError as e:
        print("message:", e.args)
    try:
        task.result()
    except asyncio.CancelledError:
        print("result() raises CancelledError too")

    finished = asyncio.create_task(asyncio.sleep(0, result="done"))
    await finished
    print("cancel a finished task:", finished.cancel(), finished.result())

    never_started = asyncio.create_task(asyncio.sleep(0))
    never_started.cancel()
    try:
        await never_started
    except asyncio.CancelledError:
        print("cancelled before it started:", never_started.cancelled())


asyncio.run(main())
