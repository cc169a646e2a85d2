import asyncio
import os
import tempfile


async def handle(reader, writer):
    request = await reader.readline()
    writer.write(b"you said: " + request)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "app.sock")
        server = await asyncio.start_unix_server(handle, path=path)
        print("socket file exists:", os.path.exists(path))
        async with server:
            for word in ("ping", "pong"):
                reader, writer = await asyncio.open_unix_connection(path)
                writer.write(word.encode() + b"\n")
                await writer.drain()
                print((await reader.read()).decode().strip())
                writer.close()
                await writer.wait_closed()


asyncio.run(main())
