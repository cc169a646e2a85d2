"""TLS workloads: a client and a server in one process, over loopback TCP, TLS 1.3.

* ``tls_pingpong``: 20,000 round trips of a 64-byte message (the client sends, the
  server echoes). Measures one TLS record each way plus the framework's stream path.
* ``tls_bulk``: the client sends 128 MiB in 64 KiB writes, the server reads it all and
  answers one byte. Measures encryption, decryption and buffering (bytes/s).

Both ends live in the measured framework, so both ends' costs count. The certificates
come from ``trustme`` (a throw-away CA), made before the clock starts, as are the
connection and its handshake; only the transfer is timed.

Peers: ``trio.SSLStream``, and asyncio streams with ``ssl=`` (also under uvloop, whose
glue around the ``ssl`` module is compiled). Every framework drives the same ``ssl``
module through memory BIOs.
Run it with ``python -m bench --workloads tls_pingpong,tls_bulk``.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any

ROUND_TRIPS = 20_000
MESSAGE = b"x" * 64
BULK_BYTES = 128 * 1024 * 1024
CHUNK = b"x" * 65536

Workload = Callable[[], tuple[int, float]]


def contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1, and a client context trusting it."""
    import trustme

    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    for context in (server, client):
        context.minimum_version = ssl.TLSVersion.TLSv1_3
    return server, client


class _Timer:
    """The client side starts and stops it; the workload returns what it measured."""

    def __init__(self) -> None:
        self.start = 0.0
        self.seconds = 0.0

    def begin(self) -> None:
        self.start = time.perf_counter()

    def end(self) -> None:
        self.seconds = time.perf_counter() - self.start


async def _exactly(receive: Callable[[int], Awaitable[bytes]], count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = await receive(count - len(data))
        if not chunk:
            raise EOFError("the peer closed the connection")
        data += chunk
    return data


# -- tether and trio (the same code: tether mirrors Trio's API) ---------------------------------


def trio_like_workloads(lib: Any) -> dict[str, Workload]:
    """The workloads for ``lib``, which is ``tether`` or ``trio``."""

    async def serve_and_connect(
        server_job: Callable[[Any], Awaitable[None]], client_job: Callable[[Any], Awaitable[None]]
    ) -> None:
        server_ctx, client_ctx = contexts()
        (listener,) = await lib.open_tcp_listeners(0, host="127.0.0.1")
        port = listener.socket.getsockname()[1]

        async def server() -> None:
            stream = lib.SSLStream(await listener.accept(), server_ctx, server_side=True)
            await server_job(stream)
            await stream.aclose()

        async with lib.open_nursery() as nursery:
            nursery.start_soon(server)
            client = await lib.open_ssl_over_tcp_stream("127.0.0.1", port, ssl_context=client_ctx)
            await client.do_handshake()
            await client_job(client)
            await client.aclose()
        await listener.aclose()

    def pingpong() -> tuple[int, float]:
        timer = _Timer()

        async def server_job(stream: Any) -> None:
            for _ in range(ROUND_TRIPS):
                await stream.send_all(await _exactly(stream.receive_some, len(MESSAGE)))

        async def client_job(stream: Any) -> None:
            timer.begin()
            for _ in range(ROUND_TRIPS):
                await stream.send_all(MESSAGE)
                await _exactly(stream.receive_some, len(MESSAGE))
            timer.end()

        lib.run(serve_and_connect, server_job, client_job)
        return ROUND_TRIPS, timer.seconds

    def bulk() -> tuple[int, float]:
        timer = _Timer()

        async def server_job(stream: Any) -> None:
            received = 0
            while received < BULK_BYTES:
                received += len(await stream.receive_some(262144))
            await stream.send_all(b"!")

        async def client_job(stream: Any) -> None:
            timer.begin()
            for _ in range(BULK_BYTES // len(CHUNK)):
                await stream.send_all(CHUNK)
            await _exactly(stream.receive_some, 1)
            timer.end()

        lib.run(serve_and_connect, server_job, client_job)
        return BULK_BYTES, timer.seconds

    return {"tls_pingpong": pingpong, "tls_bulk": bulk}


def tether_workloads() -> dict[str, Workload]:
    import tether

    return trio_like_workloads(tether)


def trio_workloads() -> dict[str, Workload]:
    import trio

    return trio_like_workloads(trio)


# -- asyncio (and uvloop) -----------------------------------------------------------------------


def asyncio_workloads(use_uvloop: bool = False) -> dict[str, Workload]:
    import asyncio

    def run(main: Callable[[], Awaitable[None]]) -> None:
        if use_uvloop:
            import uvloop

            uvloop.run(main())
        else:
            asyncio.run(main())  # type: ignore[arg-type]

    async def serve_and_connect(
        server_job: Callable[[Any, Any], Awaitable[None]],
        client_job: Callable[[Any, Any], Awaitable[None]],
    ) -> None:
        server_ctx, client_ctx = contexts()
        finished = asyncio.Event()

        async def handle(reader: Any, writer: Any) -> None:
            await server_job(reader, writer)
            writer.close()
            finished.set()

        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx)
        await client_job(reader, writer)
        writer.close()
        await finished.wait()
        server.close()
        await server.wait_closed()

    def pingpong() -> tuple[int, float]:
        timer = _Timer()

        async def server_job(reader: Any, writer: Any) -> None:
            for _ in range(ROUND_TRIPS):
                writer.write(await reader.readexactly(len(MESSAGE)))
                await writer.drain()

        async def client_job(reader: Any, writer: Any) -> None:
            timer.begin()
            for _ in range(ROUND_TRIPS):
                writer.write(MESSAGE)
                await writer.drain()
                await reader.readexactly(len(MESSAGE))
            timer.end()

        run(lambda: serve_and_connect(server_job, client_job))
        return ROUND_TRIPS, timer.seconds

    def bulk() -> tuple[int, float]:
        timer = _Timer()

        async def server_job(reader: Any, writer: Any) -> None:
            received = 0
            while received < BULK_BYTES:
                received += len(await reader.read(262144))
            writer.write(b"!")
            await writer.drain()

        async def client_job(reader: Any, writer: Any) -> None:
            timer.begin()
            for _ in range(BULK_BYTES // len(CHUNK)):
                writer.write(CHUNK)
                await writer.drain()
            await reader.readexactly(1)
            timer.end()

        run(lambda: serve_and_connect(server_job, client_job))
        return BULK_BYTES, timer.seconds

    return {"tls_pingpong": pingpong, "tls_bulk": bulk}


FRAMEWORKS: dict[str, Callable[[], dict[str, Workload]]] = {
    "tether": tether_workloads,
    "trio": trio_workloads,
    "asyncio": asyncio_workloads,
    "uvloop": lambda: asyncio_workloads(use_uvloop=True),
}
