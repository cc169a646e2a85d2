import asyncio
import contextvars

request_id = contextvars.ContextVar("request_id", default="none")


async def log(msg):
    await asyncio.sleep(0)
    return f"[{request_id.get()}] {msg}"


async def handle(rid):
    request_id.set(rid)
    first = await log("start")
    await asyncio.sleep(0.001 * (3 - int(rid[-1])))
    second = await log("end")
    return first, second


async def main():
    results = await asyncio.gather(*(handle(f"req-{i}") for i in range(3)))
    for pair in results:
        print(pair)
    print("main still sees:", request_id.get())
    request_id.set("main")
    task = asyncio.create_task(log("copied at creation"))
    request_id.set("changed later")
    print(await task)
    ctx = contextvars.copy_context()
    ctx.run(request_id.set, "explicit")
    print(await asyncio.create_task(log("explicit context"), context=ctx))
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    loop.call_soon(lambda: fut.set_result(request_id.get()), context=ctx)
    print("call_soon context:", await fut)
    print("to_thread sees:", await asyncio.to_thread(request_id.get))


asyncio.run(main())
