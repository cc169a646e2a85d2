import asyncio

connections = []


def on_client(reader, writer):
    # a plain function, not a coroutine: asyncio just calls it
    connections.append(writer.get_extra_info("peername")[0])
    writer.write(b"welcome\n")
    writer.close()


async def main():
    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for _ in range(2):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        print(await reader.readline(), await reader.read())
        writer.close()
        await writer.wait_closed()
    print(connections)
    server.close()
    await server.wait_closed()
    print("server loop:", server.get_loop() is asyncio.get_running_loop())


asyncio.run(main())
