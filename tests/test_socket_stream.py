"""SocketStream and SocketListener: the streams over tether.socket.

The conformance checkers run on SocketStream over TCP (made by open_tcp_stream) and over
a unix socketpair, and on StapledStream; the rest checks what the checkers do not: the
socket options, the attribute, errors for the wrong kind of socket, broken connections
and the listener. Everything is on loopback; no test leaves a descriptor open.
"""

from __future__ import annotations

import errno
import socket as stdlib_socket

import pytest

import tether
from _stream_helpers import (
    ScriptedSocket,
    StreamPair,
    clog,
    clogged,
    drain,
    needs_unix,
    no_leaked_fds,  # noqa: F401  (a fixture, used through pytestmark)
    scripted_tcp_listener,
    shrink_buffers,
    socketpair_streams,
    tcp_stream_pair,
)
from tether.testing import (
    MemoryReceiveStream,
    MemorySendStream,
    assert_checkpoints,
    check_half_closeable_stream,
    check_two_way_stream,
    memory_stream_one_way_pair,
    open_stream_to_socket_listener,
    wait_all_tasks_blocked,
)

pytestmark = pytest.mark.usefixtures("no_leaked_fds")


async def open_tcp_stream_pair() -> StreamPair:
    """Like tcp_stream_pair, but the client end comes from open_tcp_stream."""
    listeners = await tether.open_tcp_listeners(0, host="127.0.0.1")
    async with listeners[0] as listener:
        port = listener.socket.getsockname()[1]
        client = await tether.open_tcp_stream("127.0.0.1", port)
        server = await listener.accept()
    return client, server


# -- the conformance checkers ------------------------------------------------------------------


async def test_checkers_pass_on_tcp_socket_streams() -> None:
    await check_half_closeable_stream(open_tcp_stream_pair, clogged(open_tcp_stream_pair))


@needs_unix
async def test_checkers_pass_on_unix_socketpair_streams() -> None:
    await check_half_closeable_stream(socketpair_streams, clogged(socketpair_streams))


async def test_checkers_pass_on_stapled_socket_streams() -> None:
    Stapled = tether.StapledStream[tether.SocketStream, tether.SocketStream]

    async def stapled() -> tuple[Stapled, Stapled]:
        # Each direction over its own connection; send_eof goes to SocketStream.send_eof.
        a_client, a_server = await tcp_stream_pair()
        b_client, b_server = await tcp_stream_pair()
        return tether.StapledStream(a_client, b_client), tether.StapledStream(b_server, a_server)

    async def clogged_stapled() -> tuple[Stapled, Stapled]:
        left, right = await stapled()
        for end in (left, right):
            for stream in (end.send_stream, end.receive_stream):
                shrink_buffers(stream)
        await clog(left.send_stream)
        await clog(right.send_stream)
        return left, right

    await check_half_closeable_stream(stapled, clogged_stapled)


async def test_checkers_pass_on_stapled_memory_streams() -> None:
    Stapled = tether.StapledStream[MemorySendStream, MemoryReceiveStream]

    async def stapled() -> tuple[Stapled, Stapled]:
        # Memory send streams have no send_eof: StapledStream.send_eof closes them.
        left_send, right_receive = memory_stream_one_way_pair()
        right_send, left_receive = memory_stream_one_way_pair()
        return (
            tether.StapledStream(left_send, left_receive),
            tether.StapledStream(right_send, right_receive),
        )

    await check_two_way_stream(stapled, None)
    await check_half_closeable_stream(stapled, None)


# -- SocketStream ------------------------------------------------------------------------------


async def test_tcp_nodelay_is_on_by_default() -> None:
    client, server = await tcp_stream_pair()
    async with client, server:
        for stream in (client, server):
            assert stream.getsockopt(stdlib_socket.IPPROTO_TCP, stdlib_socket.TCP_NODELAY)
            assert stream.socket.getsockopt(stdlib_socket.IPPROTO_TCP, stdlib_socket.TCP_NODELAY)


@needs_unix
async def test_unix_streams_do_not_try_tcp_options() -> None:
    # TCP_NODELAY is a TCP option; a unix socketpair is accepted as it is.
    left, right = await socketpair_streams()
    async with left, right:
        assert left.socket.family == stdlib_socket.AF_UNIX
        await left.send_all(b"ok")
        assert await right.receive_some() == b"ok"


async def test_setsockopt_and_getsockopt_reach_the_socket() -> None:
    client, server = await tcp_stream_pair()
    async with client, server:
        client.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_KEEPALIVE, 1)
        assert client.getsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_KEEPALIVE)
        assert client.socket.getsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_KEEPALIVE)
        client.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_KEEPALIVE, 0)
        assert client.getsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_KEEPALIVE) == 0
        # With a buffer size the raw bytes come back.
        raw = client.getsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_KEEPALIVE, 4)
        assert isinstance(raw, bytes)
        assert len(raw) == 4
        # A bytes value is passed through as is.
        client.setsockopt(
            stdlib_socket.SOL_SOCKET, stdlib_socket.SO_KEEPALIVE, (1).to_bytes(4, "little")
        )
        assert client.getsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_KEEPALIVE)
        with pytest.raises(TypeError, match="length"):
            client.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_KEEPALIVE, None)  # type: ignore[call-overload]
        # value=None with a length goes to the socket as such (the kernel refuses NULL here).
        with pytest.raises(OSError):
            client.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_KEEPALIVE, None, 4)


async def test_socket_attribute_and_repr() -> None:
    sock = tether.socket.socket()
    stream = tether.SocketStream(sock)
    async with stream:
        assert stream.socket is sock
        assert "SocketStream" in repr(stream)
    assert sock.fileno() == -1


async def test_send_all_and_receive_some() -> None:
    client, server = await tcp_stream_pair()
    async with client, server:
        await client.send_all(b"abc")
        await client.send_all(bytearray(b"def"))
        await client.send_all(memoryview(b"xxghixx")[2:5])
        received = b""
        while len(received) < 9:
            received += await server.receive_some()
        assert received == b"abcdefghi"
        await server.send_all(b"0123456789")
        first = await client.receive_some(4)
        assert first == b"0123"
        rest = b""
        while len(rest) < 6:
            rest += await client.receive_some(100)
        assert rest == b"456789"
        with pytest.raises(ValueError, match="max_bytes"):
            await client.receive_some(0)
        with pytest.raises(TypeError):  # a float is refused, as by the stdlib
            await client.receive_some(2.5)  # type: ignore[arg-type]


async def test_send_all_of_nothing_is_a_checkpoint() -> None:
    client, server = await tcp_stream_pair()
    async with client, server:
        with assert_checkpoints():
            await client.send_all(b"")


async def test_send_eof() -> None:
    client, server = await tcp_stream_pair()
    async with client, server:
        await client.send_all(b"last words")
        with assert_checkpoints():
            await client.send_eof()
        assert client.socket.did_shutdown_SHUT_WR
        received = b""
        while chunk := await server.receive_some():
            received += chunk
        assert received == b"last words"
        assert await server.receive_some() == b""  # and again: EOF stays EOF
        with pytest.raises(tether.ClosedResourceError, match="EOF"):
            await client.send_all(b"more")
        with assert_checkpoints():
            await client.send_eof()  # idempotent
        # The other direction still works.
        await server.send_all(b"reply")
        assert await client.receive_some() == b"reply"


async def test_concurrent_senders_and_receivers_are_busy() -> None:
    client, server = await tcp_stream_pair()
    async with client, server:
        shrink_buffers(client)
        shrink_buffers(server)
        clogged_bytes = await clog(client)
        async with tether.open_nursery() as nursery:
            nursery.start_soon(client.send_all, b"x" * 100_000)
            nursery.start_soon(client.receive_some)
            await wait_all_tasks_blocked()
            with pytest.raises(tether.BusyResourceError, match="sending"):
                await client.send_all(b"y")
            with pytest.raises(tether.BusyResourceError, match="sending"):
                await client.wait_send_all_might_not_block()
            with pytest.raises(tether.BusyResourceError, match="sending"):
                await client.send_eof()
            with pytest.raises(tether.BusyResourceError, match="receiving"):
                await client.receive_some()
            # Unclog: the blocked send_all finishes, then let the receiver go.
            await drain(server, clogged_bytes + 100_000)
            await server.send_all(b"!")
        # Both blocked calls completed; the stream is usable again.
        await client.send_all(b"z")
        assert await server.receive_some() == b"z"


async def test_wait_send_all_might_not_block() -> None:
    client, server = await tcp_stream_pair()
    async with client, server:
        with assert_checkpoints():
            await client.wait_send_all_might_not_block()  # room: returns at once
        shrink_buffers(client)
        shrink_buffers(server)
        clogged_bytes = await clog(client)
        done = False

        async def waiter() -> None:
            nonlocal done
            await client.wait_send_all_might_not_block()
            done = True

        async with tether.open_nursery() as nursery:
            nursery.start_soon(waiter)
            await wait_all_tasks_blocked()
            assert not done
            await drain(server, clogged_bytes)
        assert done


async def test_closed_stream_raises_closed_resource_error() -> None:
    client, server = await tcp_stream_pair()
    async with server:
        await client.aclose()
        with assert_checkpoints():
            await client.aclose()  # idempotent, and a checkpoint
        with pytest.raises(tether.ClosedResourceError):
            await client.send_all(b"x")
        with pytest.raises(tether.ClosedResourceError):
            await client.wait_send_all_might_not_block()
        with pytest.raises(tether.ClosedResourceError):
            await client.send_eof()
        with pytest.raises(tether.ClosedResourceError):
            await client.receive_some()
        assert await server.receive_some() == b""


async def test_closing_wakes_a_blocked_receiver() -> None:
    client, server = await tcp_stream_pair()
    async with server:

        async def receive() -> None:
            with pytest.raises(tether.ClosedResourceError):
                await client.receive_some()

        async with tether.open_nursery() as nursery:
            nursery.start_soon(receive)
            await wait_all_tasks_blocked()
            await client.aclose()


async def test_reset_connection_is_broken() -> None:
    client, server = await tcp_stream_pair()
    async with client:
        await client.send_all(b"never read")
        await tether.testing.wait_all_tasks_blocked()
        # Closing with unread data makes the kernel reset the connection.
        await server.aclose()
        with pytest.raises(tether.BrokenResourceError) as info:
            await client.receive_some()
        assert isinstance(info.value.__cause__, ConnectionResetError)

        async def send_until_broken() -> None:
            for _ in range(100):  # the first send may still be taken by the kernel
                await client.send_all(b"x" * 65536)

        with pytest.raises(tether.BrokenResourceError) as info:
            await send_until_broken()
        assert isinstance(info.value.__cause__, OSError)


async def test_send_eof_on_a_reset_connection_is_broken() -> None:
    client, server = await tcp_stream_pair()
    async with client:
        await client.send_all(b"never read")
        await server.aclose()
        # shutdown() on a connection the peer reset: ENOTCONN, reported as broken.
        with pytest.raises(tether.BrokenResourceError):
            await client.send_eof()


async def test_cancelled_send_all_leaves_the_stream_closable() -> None:
    client, server = await tcp_stream_pair()
    async with client, server:
        shrink_buffers(client)
        shrink_buffers(server)
        await clog(client)
        with tether.move_on_after(10) as scope:
            async with tether.open_nursery() as nursery:
                nursery.start_soon(client.send_all, b"x" * 1_000_000)
                await wait_all_tasks_blocked()
                scope.cancel()
        assert scope.cancelled_caught
        # Part of the data may have gone out: all that is safe is to close (the checkers
        # verify aclose works); here, the sending lock was released.
        await client.send_eof()


async def test_wrong_kinds_of_socket_are_refused() -> None:
    with tether.socket.socket(type=stdlib_socket.SOCK_DGRAM) as udp:
        with pytest.raises(ValueError, match="SOCK_STREAM"):
            tether.SocketStream(udp)
        with pytest.raises(ValueError, match="SOCK_STREAM"):
            tether.SocketListener(udp)
    with stdlib_socket.socket() as plain:
        with pytest.raises(TypeError, match=r"tether\.socket\.SocketType"):
            tether.SocketStream(plain)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"tether\.socket\.SocketType"):
            tether.SocketListener(plain)  # type: ignore[arg-type]


# -- SocketListener ----------------------------------------------------------------------------


async def test_listener_accepts_socket_streams() -> None:
    sock = tether.socket.socket()
    await sock.bind(("127.0.0.1", 0))
    sock.listen()
    listener = tether.SocketListener(sock)
    async with listener:
        assert listener.socket is sock
        assert "SocketListener" in repr(listener)
        client = await open_stream_to_socket_listener(listener)
        server = await listener.accept()
        async with client, server:
            assert isinstance(server, tether.SocketStream)
            assert server.getsockopt(stdlib_socket.IPPROTO_TCP, stdlib_socket.TCP_NODELAY)
            assert server.socket.getpeername() == client.socket.getsockname()
            await client.send_all(b"hello")
            assert await server.receive_some() == b"hello"
    assert sock.fileno() == -1


async def test_listener_requires_a_listening_socket() -> None:
    with tether.socket.socket() as sock:
        await sock.bind(("127.0.0.1", 0))
        with pytest.raises(ValueError, match="listen"):
            tether.SocketListener(sock)


async def test_closed_listener() -> None:
    listeners = await tether.open_tcp_listeners(0, host="127.0.0.1")
    listener = listeners[0]
    await listener.aclose()
    with assert_checkpoints():
        await listener.aclose()
    with pytest.raises(tether.ClosedResourceError):
        await listener.accept()


async def test_closing_a_listener_wakes_a_blocked_accept() -> None:
    [listener] = await tether.open_tcp_listeners(0, host="127.0.0.1")

    async def accept() -> None:
        with pytest.raises(tether.ClosedResourceError):
            await listener.accept()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(accept)
        await wait_all_tasks_blocked()
        await listener.aclose()


async def test_accept_skips_errors_about_one_connection() -> None:
    # A connection aborted before we took it is not the listener's problem.
    listener, raw = scripted_tcp_listener(
        OSError(errno.ECONNABORTED, "aborted"), OSError(errno.EPROTO, "protocol error")
    )
    async with listener:
        client = await open_stream_to_socket_listener(listener)
        server = await listener.accept()
        async with client, server:
            assert raw.accept_calls == 3
            await server.send_all(b"ok")
            assert await client.receive_some() == b"ok"


async def test_accept_raises_other_errors() -> None:
    listener, raw = scripted_tcp_listener(
        OSError(errno.EMFILE, "too many open files"), OSError(errno.EBADF, "bad fd")
    )
    async with listener:
        with pytest.raises(OSError, match="too many") as info:
            await listener.accept()
        assert info.value.errno == errno.EMFILE
        # EBADF means the socket is gone: reported as a closed listener.
        with pytest.raises(tether.ClosedResourceError):
            await listener.accept()
        assert isinstance(raw, ScriptedSocket)


async def test_two_tasks_accepting_at_once() -> None:
    [listener] = await tether.open_tcp_listeners(0, host="127.0.0.1")
    async with listener:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(listener.accept)
            await wait_all_tasks_blocked()
            with pytest.raises(tether.BusyResourceError):
                await listener.accept()
            nursery.cancel_scope.cancel()
