"""Serving: serve_listeners and serve_tcp (serve_unix is in test_unix.py), and an echo
server put through its paces: many clients at once, half-close, a large transfer,
cancellation in the middle of send_all, and no descriptor left behind.

The behaviour that needs time (backing off when accept() runs out of descriptors, grace
periods) runs under the autojump clock with fake listeners; the rest on loopback TCP.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable

import pytest

import tether
from _stream_helpers import (
    no_leaked_fds,  # noqa: F401  (a fixture, used through pytestmark)
    open_fds,
)
from tether.abc import Listener, Stream
from tether.testing import (
    MockClock,
    memory_stream_pair,
    open_stream_to_socket_listener,
    wait_all_tasks_blocked,
)

pytestmark = pytest.mark.usefixtures("no_leaked_fds")

Handler = Callable[[tether.SocketStream], Awaitable[object]]


async def echo(stream: tether.SocketStream) -> None:
    """The echo handler: send back everything, until the client's end of stream."""
    async for chunk in stream:
        await stream.send_all(chunk)


async def start_tcp_server(nursery: tether.Nursery, handler: Handler) -> tether.SocketListener:
    listeners: list[tether.SocketListener] = await nursery.start(
        functools.partial(tether.serve_tcp, handler, 0, host="127.0.0.1")
    )
    [listener] = listeners
    return listener


async def receive_all(stream: Stream) -> bytes:
    data = bytearray()
    async for chunk in stream:
        data += chunk
    return bytes(data)


# -- serve_tcp / serve_listeners ---------------------------------------------------------------


async def test_serve_tcp_reports_its_listeners_and_serves() -> None:
    async with tether.open_nursery() as nursery:
        listener = await start_tcp_server(nursery, echo)
        assert isinstance(listener, tether.SocketListener)
        host, port = listener.socket.getsockname()
        assert host == "127.0.0.1"
        async with await tether.open_tcp_stream(host, port) as client:
            await client.send_all(b"ping")
            assert await client.receive_some() == b"ping"
        nursery.cancel_scope.cancel()
    assert listener.socket.fileno() == -1  # serve_tcp closed its listener


async def test_the_stream_is_closed_when_the_handler_returns() -> None:
    async def greet(stream: tether.SocketStream) -> None:
        await stream.send_all(b"hello and goodbye")

    async with tether.open_nursery() as nursery:
        listener = await start_tcp_server(nursery, greet)
        async with await open_stream_to_socket_listener(listener) as client:
            assert await receive_all(client) == b"hello and goodbye"
        nursery.cancel_scope.cancel()


async def test_a_handler_error_is_not_swallowed() -> None:
    # As in Trio: a crashing handler crashes the server, like any task error.
    server_side: list[tether.SocketStream] = []

    async def crash(stream: tether.SocketStream) -> None:
        server_side.append(stream)
        raise ValueError("handler bug")

    listeners: list[tether.SocketListener] = []

    async def serve_and_connect() -> None:
        async with tether.open_nursery() as nursery:
            listeners.append(await start_tcp_server(nursery, crash))
            async with await open_stream_to_socket_listener(listeners[0]) as client:
                assert await receive_all(client) == b""  # the stream was closed

    with pytest.raises(ExceptionGroup) as info:
        await serve_and_connect()
    assert info.group_contains(ValueError, match="handler bug", depth=None)
    assert server_side[0].socket.fileno() == -1
    assert listeners[0].socket.fileno() == -1


async def test_handlers_run_in_the_handler_nursery() -> None:
    finished = tether.Event()
    handler_tasks: list[tether.lowlevel.Task] = []

    async def slow_echo(stream: tether.SocketStream) -> None:
        handler_tasks.append(tether.lowlevel.current_task())
        await finished.wait()
        await echo(stream)

    async with tether.open_nursery() as handler_nursery:
        with tether.CancelScope() as server_scope:
            async with tether.open_nursery() as server_nursery:
                listeners = await server_nursery.start(
                    functools.partial(
                        tether.serve_listeners,
                        slow_echo,
                        await tether.open_tcp_listeners(0, host="127.0.0.1"),
                        handler_nursery=handler_nursery,
                    )
                )
                client = await open_stream_to_socket_listener(listeners[0])
                await wait_all_tasks_blocked()
                assert handler_tasks[0].parent_nursery is handler_nursery
                # Stopping the server does not stop a handler that lives elsewhere.
                server_scope.cancel()
        assert listeners[0].socket.fileno() == -1
        async with client:
            finished.set()
            await client.send_all(b"still here")
            assert await client.receive_some() == b"still here"


async def test_serve_listeners_on_several_listeners() -> None:
    first = await tether.open_tcp_listeners(0, host="127.0.0.1")
    second = await tether.open_tcp_listeners(0, host="127.0.0.1")
    listeners = [*first, *second]
    async with tether.open_nursery() as nursery:
        started = await nursery.start(tether.serve_listeners, echo, listeners)
        assert started == listeners
        for listener in listeners:
            async with await open_stream_to_socket_listener(listener) as client:
                await client.send_all(b"x")
                assert await client.receive_some() == b"x"
        nursery.cancel_scope.cancel()
    assert all(listener.socket.fileno() == -1 for listener in listeners)


class ScriptedListener(Listener[Stream]):
    """A fake listener: each accept() takes the next item of ``script`` (an error to
    raise or a stream to return), then waits forever. Records when it was called."""

    def __init__(self, *script: OSError | Stream) -> None:
        self.script = list(script)
        self.calls: list[float] = []
        self.closed = False

    async def accept(self) -> Stream:
        self.calls.append(tether.current_time())
        await tether.lowlevel.checkpoint()
        if not self.script:
            await tether.sleep_forever()
        item = self.script.pop(0)
        if isinstance(item, OSError):
            raise item
        return item

    async def aclose(self) -> None:
        self.closed = True
        await tether.lowlevel.checkpoint()


async def test_running_out_of_descriptors_backs_off_and_retries(
    autojump_clock: MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    server_end, client_end = memory_stream_pair()
    listener = ScriptedListener(
        OSError(errno.EMFILE, "Too many open files"),
        OSError(errno.ENFILE, "Too many open files in system"),
        server_end,
    )

    async def hello(stream: Stream) -> None:
        await stream.send_all(b"hello")

    async with tether.open_nursery() as nursery:
        await nursery.start(tether.serve_listeners, hello, [listener])
        assert await client_end.receive_some() == b"hello"
        await wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    # Each failure costs a 100 ms pause, then accepting goes on.
    assert listener.calls == pytest.approx([0.0, 0.1, 0.2, 0.2])
    assert listener.closed
    messages = [r.getMessage() for r in caplog.records if r.name == "tether.serve_listeners"]
    assert len(messages) == 2
    assert "EMFILE" in messages[0]
    assert "ENFILE" in messages[1]
    assert all(r.levelno == logging.ERROR for r in caplog.records)
    await client_end.aclose()


async def test_other_accept_errors_stop_the_server(autojump_clock: MockClock) -> None:
    listener = ScriptedListener(OSError(errno.EINVAL, "listener is broken"))

    async def never(stream: Stream) -> None:
        raise AssertionError("no connection was accepted")

    with pytest.raises(ExceptionGroup) as info:
        async with tether.open_nursery() as nursery:
            await nursery.start(tether.serve_listeners, never, [listener])
    assert info.group_contains(OSError, match="listener is broken", depth=None)
    assert listener.closed


async def test_graceful_shutdown(autojump_clock: MockClock) -> None:
    # On request_shutdown: stop accepting and close the listeners at once, let the
    # handlers in flight finish within the grace period, then return normally.
    server_end, client_end = memory_stream_pair()
    listener = ScriptedListener(server_end)
    log: list[str] = []

    async def handler(stream: Stream) -> None:
        await tether.wait_shutdown_requested()
        log.append(f"asked to stop at {tether.current_time()}")
        await tether.sleep(2)  # finishing up
        await stream.send_all(b"bye")
        log.append("finished")

    with tether.CancelScope() as scope:
        async with tether.open_nursery() as nursery:
            await nursery.start(tether.serve_listeners, handler, [listener])
            await wait_all_tasks_blocked()
            await tether.sleep(1)
            scope.request_shutdown(grace_period=5)
            await wait_all_tasks_blocked()
            assert listener.closed  # no more connections, straight away
    assert not scope.cancelled_caught
    assert log == ["asked to stop at 1.0", "finished"]
    assert tether.current_time() == pytest.approx(3.0)
    assert await receive_all(client_end) == b"bye"


async def test_graceful_shutdown_cancels_stragglers(autojump_clock: MockClock) -> None:
    server_end, client_end = memory_stream_pair()
    listener = ScriptedListener(server_end)

    async def stubborn(stream: Stream) -> None:
        await tether.sleep_forever()

    with tether.CancelScope() as scope:
        async with tether.open_nursery() as nursery:
            await nursery.start(tether.serve_listeners, stubborn, [listener])
            await wait_all_tasks_blocked()
            scope.request_shutdown(grace_period=5)
    assert scope.cancelled_caught
    assert tether.current_time() == pytest.approx(5.0)
    assert listener.closed
    assert await client_end.receive_some() == b""  # the handler's stream was closed


# -- an echo server put through its paces -----------------------------------------------------


async def test_echo_server_with_200_concurrent_clients() -> None:
    fds_before = open_fds()
    clients = 200
    received: dict[int, bytes] = {}

    def payload(i: int) -> bytes:
        return random.Random(i).randbytes(10_000 + 97 * i)

    async def client(listener: tether.SocketListener, i: int) -> None:
        async with await open_stream_to_socket_listener(listener) as stream:
            async with tether.open_nursery() as nursery:

                async def send() -> None:
                    await stream.send_all(payload(i))
                    await stream.send_eof()

                nursery.start_soon(send)
                received[i] = await receive_all(stream)

    async with tether.open_nursery() as nursery:
        listener = await start_tcp_server(nursery, echo)
        async with tether.open_nursery() as clients_nursery:
            for i in range(clients):
                clients_nursery.start_soon(client, listener, i)
        nursery.cancel_scope.cancel()
    assert sorted(received) == list(range(clients))
    for i, data in received.items():
        assert data == payload(i), f"client {i} got its bytes back altered"
    # Every connection, both ends, and the listener are closed again.
    assert open_fds() == fds_before


async def test_echo_half_close() -> None:
    async def count(stream: tether.SocketStream) -> None:
        # Reads until the client's EOF, then answers on the still-open direction.
        data = await receive_all(stream)
        await stream.send_all(f"got {len(data)} bytes".encode())

    async with tether.open_nursery() as nursery:
        listener = await start_tcp_server(nursery, count)
        async with await open_stream_to_socket_listener(listener) as client:
            await client.send_all(b"a" * 12345)
            await client.send_eof()
            assert await receive_all(client) == b"got 12345 bytes"
        nursery.cancel_scope.cancel()


async def test_echo_64_mib_intact() -> None:
    size = 64 * 1024 * 1024
    chunk = random.Random(64).randbytes(1024 * 1024)
    expected = hashlib.sha256()
    for i in range(64):
        expected.update(chunk[i:] + chunk[:i])
    received = hashlib.sha256()
    total = 0
    started = time.perf_counter()

    async with tether.open_nursery() as nursery:
        listener = await start_tcp_server(nursery, echo)
        async with await open_stream_to_socket_listener(listener) as client:

            async def send() -> None:
                for i in range(64):
                    await client.send_all(chunk[i:] + chunk[:i])
                await client.send_eof()

            async with tether.open_nursery() as transfer:
                transfer.start_soon(send)
                async for data in client:
                    received.update(data)
                    total += len(data)
        nursery.cancel_scope.cancel()
    assert total == size
    assert received.hexdigest() == expected.hexdigest()
    elapsed = time.perf_counter() - started
    assert elapsed < 60, f"64 MiB echoed in {elapsed:.1f} s"


async def test_cancelled_send_all_then_close() -> None:
    # Cancelling send_all leaves the stream in an unknown state (some data went out):
    # closing is what is left to do, and the peer sees a prefix of the data, then EOF.
    data = random.Random(7).randbytes(32 * 1024 * 1024)
    peer_got: list[bytes] = []
    may_read = tether.Event()

    async def reader(stream: tether.SocketStream) -> None:
        await may_read.wait()
        peer_got.append(await receive_all(stream))

    async with tether.open_nursery() as nursery:
        listener = await start_tcp_server(nursery, reader)
        client = await open_stream_to_socket_listener(listener)
        with tether.CancelScope() as scope:
            async with tether.open_nursery() as sender:
                sender.start_soon(client.send_all, data)
                await wait_all_tasks_blocked()  # blocked: the peer reads nothing yet
                scope.cancel()
        assert scope.cancelled_caught
        await client.aclose()
        may_read.set()
        await wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    [got] = peer_got
    assert 0 < len(got) < len(data)
    assert got == data[: len(got)]
    with pytest.raises(tether.ClosedResourceError):
        await client.send_all(b"x")


async def test_no_descriptor_left_after_a_server_with_live_connections() -> None:
    # Connections still open when the server is cancelled are closed with it.
    before = os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else []
    clients = []
    async with tether.open_nursery() as nursery:
        listener = await start_tcp_server(nursery, echo)
        for _ in range(5):
            client = await open_stream_to_socket_listener(listener)
            await client.send_all(b"x")
            assert await client.receive_some() == b"x"
            clients.append(client)
        nursery.cancel_scope.cancel()
    for client in clients:
        assert await client.receive_some() == b""  # the server side was closed
        await client.aclose()
    if before:
        assert sorted(os.listdir("/proc/self/fd")) == sorted(before)
