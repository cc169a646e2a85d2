import asyncio


def handler(loop, context):
    exc = context.get("exception")
    print("handler:", context["message"].split(" at ")[0], "|", type(exc).__name__, exc)


async def faulty():
    raise LookupError("lost")


def bad_callback():
    raise ArithmeticError("callback failed")


async def main():
    loop = asyncio.get_running_loop()
    print("default handler:", loop.get_exception_handler())
    loop.set_exception_handler(handler)
    loop.call_soon(bad_callback)
    await asyncio.sleep(0.01)
    loop.call_exception_handler({"message": "custom report", "exception": KeyError("k")})
    print("handler set:", loop.get_exception_handler() is handler)
    retrieved = asyncio.create_task(faulty())
    await asyncio.sleep(0.01)
    print("retrieved:", repr(retrieved.exception()))


asyncio.run(main())
print("after the run")
