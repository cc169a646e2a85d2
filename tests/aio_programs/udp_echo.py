import asyncio


class EchoServer(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        print("server got", data.decode())
        self.transport.sendto(data.upper(), addr)


class Client(asyncio.DatagramProtocol):
    def __init__(self, messages, done):
        self.messages = messages
        self.done = done
        self.replies = []

    def connection_made(self, transport):
        self.transport = transport
        for m in self.messages:
            transport.sendto(m.encode())

    def datagram_received(self, data, addr):
        self.replies.append(data.decode())
        if len(self.replies) == len(self.messages):
            self.transport.close()

    def error_received(self, exc):
        print("error", exc)

    def connection_lost(self, exc):
        print("client closed", exc)
        self.done.set_result(self.replies)


async def main():
    loop = asyncio.get_running_loop()
    server_transport, _ = await loop.create_datagram_endpoint(
        EchoServer, local_addr=("127.0.0.1", 0)
    )
    addr = server_transport.get_extra_info("sockname")
    done = loop.create_future()
    await loop.create_datagram_endpoint(
        lambda: Client(["one", "two", "three"], done), remote_addr=addr
    )
    print("replies:", sorted(await done))
    server_transport.close()


asyncio.run(main())
