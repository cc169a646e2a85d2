import asyncio


async def set_after(fut, delay, value):
    await asyncio.sleep(delay)
    fut.set_result(value)


async def main():
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    print("done?", fut.done())
    asyncio.create_task(set_after(fut, 0.01, "hello"))
    print("awaited:", await fut)
    print("result:", fut.result(), "done?", fut.done())
    try:
        fut.set_result("again")
    except asyncio.InvalidStateError:
        print("InvalidStateError on second set_result")

    bad = loop.create_future()
    bad.set_exception(KeyError("missing"))
    try:
        await bad
    except KeyError as e:
        print("awaited exception:", repr(e))
    print("exception():", repr(bad.exception()))

    pending = asyncio.Future()
    try:
        pending.result()
    except asyncio.InvalidStateError as e:
        print("not ready:", e)
    pending.cancel()
    print("cancelled:", pending.cancelled())
    try:
        pending.exception()
    except asyncio.CancelledError:
        print("exception() on a cancelled future raises CancelledError")

    wrapped = asyncio.ensure_future(set_after(loop.create_future(), 0, None))
    print("ensure_future made a Task:", isinstance(wrapped, asyncio.Task))
    await wrapped
    print("ensure_future passes futures through:", asyncio.ensure_future(fut) is fut)
    print("isfuture:", asyncio.isfuture(fut), asyncio.isfuture(42))


asyncio.run(main())
