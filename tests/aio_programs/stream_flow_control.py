import asyncio


async def slow_reader(reader, writer, log):
    await asyncio.sleep(0.02)
    total = 0
    while chunk := await reader.read(4096):
        total += len(chunk)
    log.append(f"server read {total} bytes")
    writer.write(b"done")
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main():
    log = []
    server = await asyncio.start_server(
        lambda r, w: slow_reader(r, w, log), "127.0.0.1", 0, limit=1024
    )
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = b"0123456789" * 50_000
    for i in range(0, len(payload), 25_000):
        writer.write(payload[i:i + 25_000])
        await writer.drain()
    writer.write_eof()
    print("transport:", writer.transport.is_closing(), writer.transport.get_extra_info("peername")[0])
    print(await reader.read())
    print(log)
    try:
        writer.write(b"too late")
    except RuntimeError as e:
        print("RuntimeError:", e)
    writer.close()
    print("closing:", writer.is_closing())
    await writer.wait_closed()
    try:
        await writer.drain()
    except ConnectionResetError as e:
        print("drain after close:", e)
    server.close()
    await server.wait_closed()


asyncio.run(main())
