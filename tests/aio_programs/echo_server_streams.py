import asyncio


async def handle_echo(reader, writer):
    data = await reader.read(100)
    message = data.decode()
    peer_is_local = writer.get_extra_info("peername")[0] == "127.0.0.1"
    print(f"server received {message!r} from localhost: {peer_is_local}")
    writer.write(data)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def tcp_echo_client(port, message):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    print(f"client sends {message!r}")
    writer.write(message.encode())
    await writer.drain()
    data = await reader.read(100)
    print(f"client received {data.decode()!r}")
    print("then eof:", await reader.read(100), reader.at_eof())
    writer.close()
    await writer.wait_closed()
    print("closing:", writer.is_closing())


async def main():
    server = await asyncio.start_server(handle_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print("serving:", server.is_serving())
    async with server:
        await tcp_echo_client(port, "Hello World!")
        await tcp_echo_client(port, "again")
    print("serving after close:", server.is_serving())


asyncio.run(main())
