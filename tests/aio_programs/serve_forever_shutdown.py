import asyncio


async def handle(reader, writer):
    data = await reader.readline()
    writer.write(b"ok " + data)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def client(port, text):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(text.encode() + b"\n")
    await writer.drain()
    reply = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return reply.decode().strip()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, start_serving=False)
    port = server.sockets[0].getsockname()[1]
    serving = asyncio.create_task(server.serve_forever())
    await asyncio.sleep(0)
    print("serving:", server.is_serving())
    print(await asyncio.gather(*(client(port, f"request {i}") for i in range(3))))
    serving.cancel()
    try:
        await serving
    except asyncio.CancelledError:
        print("serve_forever cancelled")
    await server.wait_closed()
    print("serving:", server.is_serving())
    try:
        await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        print("connection refused after shutdown")


asyncio.run(main())
