import asyncio


class EchoServerProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        print("server: connection made, local:", transport.get_extra_info("peername")[0])

    def data_received(self, data):
        print("server: data received", data)
        self.transport.write(data.upper())

    def eof_received(self):
        print("server: eof received")

    def connection_lost(self, exc):
        print("server: connection lost", exc)


class EchoClientProtocol(asyncio.Protocol):
    def __init__(self, message, on_con_lost):
        self.message = message
        self.on_con_lost = on_con_lost
        self.received = []

    def connection_made(self, transport):
        transport.write(self.message.encode())
        print("client: sent", self.message)
        self.transport = transport

    def data_received(self, data):
        self.received.append(data)
        if b"".join(self.received) == self.message.upper().encode():
            self.transport.close()

    def connection_lost(self, exc):
        print("client: connection lost", exc)
        self.on_con_lost.set_result(b"".join(self.received))


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(EchoServerProtocol, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    on_con_lost = loop.create_future()
    transport, protocol = await loop.create_connection(
        lambda: EchoClientProtocol("hello protocol", on_con_lost), "127.0.0.1", port
    )
    print("client got:", await on_con_lost)
    print("transport closing:", transport.is_closing())
    await asyncio.sleep(0.01)
    server.close()
    await server.wait_closed()
    print("done")


asyncio.run(main())
