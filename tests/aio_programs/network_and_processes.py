import asyncio, sys, signal, os

async def handle(reader, writer):
    while line := await reader.readline():
        writer.write(line.upper())
        await writer.drain()
    writer.close()
    await writer.wait_closed()

class EchoProto(asyncio.Protocol):
    def connection_made(self, transport): self.t = transport
    def data_received(self, data): self.t.write(b"proto:" + data)
    def eof_received(self): print("server saw eof"); return False
    def connection_lost(self, exc): print("server connection lost", exc)

class Client(asyncio.Protocol):
    def __init__(self, done): self.done = done
    def connection_made(self, t): t.write(b"hi"); self.t = t
    def data_received(self, d): print("client got", d); self.t.close()
    def connection_lost(self, exc): self.done.set_result("closed")

class Udp(asyncio.DatagramProtocol):
    def connection_made(self, t): self.t = t
    def datagram_received(self, data, addr): self.t.sendto(data[::-1], addr)

class UdpClient(asyncio.DatagramProtocol):
    def __init__(self, fut): self.fut = fut
    def datagram_received(self, data, addr): self.fut.set_result(data)

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"hello\nworld\n"); await w.drain()
        print(await r.readline(), await r.readexactly(6))
        w.write_eof()
        print("eof:", await r.read(), r.at_eof())
        w.close(); await w.wait_closed()
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(EchoProto, "127.0.0.1", 0)
    done = loop.create_future()
    await loop.create_connection(lambda: Client(done), "127.0.0.1", srv.sockets[0].getsockname()[1])
    print(await done)
    await asyncio.sleep(0.05)
    srv.close(); await srv.wait_closed()
    t, _ = await loop.create_datagram_endpoint(Udp, local_addr=("127.0.0.1", 0))
    fut = loop.create_future()
    ct, _ = await loop.create_datagram_endpoint(lambda: UdpClient(fut), remote_addr=t.get_extra_info("sockname"))
    ct.sendto(b"abc")
    print("udp:", await fut)
    ct.close(); t.close()
    p = await asyncio.create_subprocess_exec(sys.executable, "-c", "import sys; print(sys.stdin.read().upper())", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    out, _ = await p.communicate(b"piped")
    print("subprocess:", out, p.returncode)
    p = await asyncio.create_subprocess_shell("echo shell", stdout=asyncio.subprocess.PIPE)
    print("shell:", (await p.stdout.read()).strip(), await p.wait())
    got = loop.create_future()
    loop.add_signal_handler(signal.SIGUSR1, got.set_result, "usr1")
    os.kill(os.getpid(), signal.SIGUSR1)
    print("signal:", await got)
    print(loop.remove_signal_handler(signal.SIGUSR1))

asyncio.run(main())
