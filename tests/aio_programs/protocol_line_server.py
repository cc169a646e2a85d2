import asyncio


class LineProtocol(asyncio.Protocol):
    def __init__(self, log):
        self.log = log
        self.buffer = b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            command = line.decode()
            self.log.append(command)
            if command == "quit":
                self.transport.write(b"bye\n")
                self.transport.close()
                return
            self.transport.write(f"{len(command)}\n".encode())


async def main():
    loop = asyncio.get_running_loop()
    log = []
    server = await loop.create_server(lambda: LineProtocol(log), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.writelines([b"hel", b"lo\nwor", b"ld!\n"])
    await writer.drain()
    print(await reader.readline(), await reader.readline())
    writer.write(b"quit\n")
    print(await reader.read())
    writer.close()
    await writer.wait_closed()
    print(log)
    server.close()
    await server.wait_closed()


asyncio.run(main())
