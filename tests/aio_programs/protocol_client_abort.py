import asyncio


class Server(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if data.startswith(b"close"):
            self.transport.write(b"closing now")
            self.transport.close()
            print("server closing:", self.transport.is_closing())
        else:
            self.transport.write(data)

    def connection_lost(self, exc):
        print("server lost:", exc)


class Client(asyncio.Protocol):
    def __init__(self, lost):
        self.lost = lost
        self.data = b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.data += data

    def eof_received(self):
        print("client eof, got:", self.data)

    def connection_lost(self, exc):
        self.lost.set_result(exc)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    lost = loop.create_future()
    transport, client = await loop.create_connection(lambda: Client(lost), "127.0.0.1", port)
    transport.write(b"close please")
    print("client connection_lost with:", await lost)

    lost = loop.create_future()
    transport, client = await loop.create_connection(lambda: Client(lost), "127.0.0.1", port)
    print("transport protocol is ours:", transport.get_protocol() is client)
    transport.write(b"echo me")
    await asyncio.sleep(0.02)
    print("buffer empty:", transport.get_write_buffer_size())
    transport.abort()
    print("aborted, closing:", transport.is_closing())
    print("abort connection_lost:", await lost, client.data)
    await asyncio.sleep(0.02)
    server.close()
    await server.wait_closed()


asyncio.run(main())
