import asyncio
import socket


class Collector(asyncio.Protocol):
    def __init__(self, log, done):
        self.log = log
        self.done = done
        self.received = 0

    def connection_made(self, transport):
        self.transport = transport
        print("reading:", transport.is_reading(), "can_write_eof:", transport.can_write_eof())
        print("sockname is local:", transport.get_extra_info("sockname")[0] == "127.0.0.1")
        print("is a stream socket:", transport.get_extra_info("socket").type == socket.SOCK_STREAM)
        print("unknown key:", transport.get_extra_info("nonsense", "default"))
        transport.pause_reading()
        print("paused, reading:", transport.is_reading())
        asyncio.get_running_loop().call_later(0.02, self.resume)

    def resume(self):
        self.log.append(f"resuming with {self.received} bytes so far")
        self.transport.resume_reading()

    def data_received(self, data):
        self.received += len(data)

    def eof_received(self):
        self.log.append(f"eof after {self.received} bytes")
        self.transport.writelines([b"thanks ", b"for ", str(self.received).encode()])
        self.transport.write_eof()
        asyncio.get_running_loop().call_later(0.01, self.transport.close)
        return True

    def connection_lost(self, exc):
        self.log.append(f"lost: {exc}")
        self.done.set_result(None)


async def main():
    loop = asyncio.get_running_loop()
    log = []
    done = loop.create_future()
    server = await loop.create_server(lambda: Collector(log, done), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"x" * 3000)
    writer.write_eof()
    await writer.drain()
    print("reply:", await reader.read())
    writer.close()
    await writer.wait_closed()
    await done
    print(log)
    server.close()
    await server.wait_closed()


asyncio.run(main())
