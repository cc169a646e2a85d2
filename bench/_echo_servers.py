"""Echo servers, one per framework, for the echo benchmark.

``python -m bench._echo_servers FRAMEWORK`` listens on 127.0.0.1 (a free port), prints
the port, and echoes until killed. It pins itself to CPU 0; the load generator takes the
last CPU.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

CHUNK = 65536


def _announce(port: int) -> None:
    print(port, flush=True)


def tether_server() -> None:
    import tether

    async def echo(stream: Any) -> None:
        try:
            while data := await stream.receive_some(CHUNK):
                await stream.send_all(data)
        except tether.BrokenResourceError:
            pass

    async def main() -> None:
        async with tether.open_nursery() as nursery:
            listeners = await nursery.start(tether.serve_tcp, echo, 0)
            _announce(listeners[0].socket.getsockname()[1])

    tether.run(main)


def trio_server() -> None:
    import trio

    async def echo(stream: Any) -> None:
        try:
            while data := await stream.receive_some(CHUNK):
                await stream.send_all(data)
        except trio.BrokenResourceError:
            pass

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(trio.serve_tcp, echo, 0)
            _announce(listeners[0].socket.getsockname()[1])

    trio.run(main)


def curio_server() -> None:
    import curio

    async def echo(client: Any, address: Any) -> None:
        while data := await client.recv(CHUNK):
            await client.sendall(data)

    async def main() -> None:
        sock = curio.socket.socket(curio.socket.AF_INET, curio.socket.SOCK_STREAM)
        sock.setsockopt(curio.socket.SOL_SOCKET, curio.socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        _announce(sock.getsockname()[1])
        async with sock:
            while True:
                client, address = await sock.accept()
                client.setsockopt(curio.socket.IPPROTO_TCP, curio.socket.TCP_NODELAY, 1)
                await curio.spawn(echo, client, address, daemon=True)

    curio.run(main)


def asyncio_server(mode: str, use_uvloop: bool) -> None:
    import asyncio

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    class Echo(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            self.transport.write(data)

    async def main() -> None:
        if mode == "streams":
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
        else:
            loop = asyncio.get_running_loop()
            server = await loop.create_server(Echo, "127.0.0.1", 0)
        _announce(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    if use_uvloop:
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())


def epoll_server() -> None:
    """No framework: a bare epoll loop, the 'Python limit' for this workload."""
    import select

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    listener.setblocking(False)
    _announce(listener.getsockname()[1])
    ep = select.epoll()
    ep.register(listener.fileno(), select.EPOLLIN)
    conns: dict[int, socket.socket] = {}
    pending: dict[int, bytes] = {}
    while True:
        for fd, event in ep.poll():
            if fd == listener.fileno():
                conn, _ = listener.accept()
                conn.setblocking(False)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conns[conn.fileno()] = conn
                ep.register(conn.fileno(), select.EPOLLIN)
                continue
            conn = conns[fd]
            if event & select.EPOLLOUT:
                data = pending.pop(fd)
                sent = conn.send(data)
                if sent < len(data):
                    pending[fd] = data[sent:]
                else:
                    ep.modify(fd, select.EPOLLIN)
                continue
            try:
                data = conn.recv(CHUNK)
            except ConnectionError:
                data = b""
            if not data:
                ep.unregister(fd)
                conns.pop(fd).close()
                continue
            try:
                sent = conn.send(data)
            except BlockingIOError:
                sent = 0
            if sent < len(data):
                pending[fd] = data[sent:]
                ep.modify(fd, select.EPOLLOUT)


SERVERS = {
    "tether": tether_server,
    "trio": trio_server,
    "curio": curio_server,
    "asyncio": lambda: asyncio_server("streams", False),
    "asyncio-protocol": lambda: asyncio_server("protocol", False),
    "uvloop": lambda: asyncio_server("streams", True),
    "uvloop-protocol": lambda: asyncio_server("protocol", True),
    "python-epoll": epoll_server,
}


if __name__ == "__main__":
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {0})
    SERVERS[sys.argv[1]]()
