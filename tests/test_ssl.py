"""TLS: tether.SSLStream, SSLListener, open_ssl_over_tcp_stream / _listeners,
serve_ssl_over_tcp, the TLS example and the TLS demo.

Certificates come from trustme (a throw-away CA). In-memory transports run under the
autojump clock, so timeouts (aclose's close_notify budget, cancellations) cost no real
time; real sockets bind to 127.0.0.1 port 0 only and are closed by every test.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import ssl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trustme

import tether
from tether import (
    BrokenResourceError,
    BusyResourceError,
    ClosedResourceError,
    NeedHandshakeError,
    SSLListener,
    SSLStream,
)
from tether.abc import Stream
from tether.testing import (
    MockClock,
    assert_checkpoints,
    check_two_way_stream,
    lockstep_stream_pair,
    memory_stream_pair,
    wait_all_tasks_blocked,
)

ROOT = Path(__file__).resolve().parent.parent
HOSTNAME = "tether.example"

TransportPair = Callable[[], tuple[Any, Any]]

# ---------------------------------------------------------------------------------------
# Certificates and helpers


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def make_server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOSTNAME, "127.0.0.1").configure_cert(context)
    return context


def make_client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture(scope="module")
def server_ctx(ca: trustme.CA) -> ssl.SSLContext:
    return make_server_context(ca)


@pytest.fixture(scope="module")
def lockstep_server_ctx(ca: trustme.CA) -> ssl.SSLContext:
    """For lockstep transports (no buffering at all): a TLS 1.3 server sends session
    tickets right after the handshake, and over a lockstep stream that send waits for a
    client that is busy sending its own data. Real transports buffer; here, no tickets."""
    context = make_server_context(ca)
    context.num_tickets = 0
    return context


@pytest.fixture(scope="module")
def client_ctx(ca: trustme.CA) -> ssl.SSLContext:
    return make_client_context(ca)


def ssl_pair(
    client_ctx: ssl.SSLContext,
    server_ctx: ssl.SSLContext,
    transports: TransportPair = memory_stream_pair,
    *,
    hostname: str = HOSTNAME,
    https_compatible: bool = False,
) -> tuple[SSLStream[Any], SSLStream[Any]]:
    """A connected (client, server) pair, handshake not done."""
    client_transport, server_transport = transports()
    client = SSLStream(
        client_transport,
        client_ctx,
        server_hostname=hostname,
        https_compatible=https_compatible,
    )
    server = SSLStream(
        server_transport, server_ctx, server_side=True, https_compatible=https_compatible
    )
    return client, server


async def handshake(*streams: SSLStream[Any]) -> None:
    async with tether.open_nursery() as nursery:
        for stream in streams:
            nursery.start_soon(stream.do_handshake)


async def receive_exactly(stream: Stream, count: int) -> bytes:
    received = bytearray()
    while len(received) < count:
        chunk = await stream.receive_some(count - len(received))
        assert chunk, f"end of stream after {len(received)} of {count} bytes"
        received += chunk
    return bytes(received)


async def capture(fn: Callable[[], Any], into: list[BaseException | None]) -> None:
    try:
        await fn()
    except Exception as exc:
        into.append(exc)
    else:
        into.append(None)


async def handshake_or_close(stream: SSLStream[Any], into: list[BaseException | None]) -> None:
    """Handshake; on failure close the stream (as a real peer would: no TLS alert is
    sent, so the other side learns of it from the closed transport)."""
    await capture(stream.do_handshake, into)
    if into[-1] is not None:
        await stream.aclose()


# ---------------------------------------------------------------------------------------
# Conformance


async def test_conformance_memory_and_lockstep(
    autojump_clock: MockClock,
    client_ctx: ssl.SSLContext,
    server_ctx: ssl.SSLContext,
    lockstep_server_ctx: ssl.SSLContext,
) -> None:
    async def stream_maker() -> tuple[Stream, Stream]:
        return ssl_pair(client_ctx, server_ctx)

    async def clogged_stream_maker() -> tuple[Stream, Stream]:
        client, server = ssl_pair(client_ctx, lockstep_server_ctx, lockstep_stream_pair)
        # Handshake first: otherwise a receive_some meant to unclog the peer would itself
        # start the handshake by sending, and get stuck in turn.
        await handshake(client, server)
        return client, server

    await check_two_way_stream(stream_maker, clogged_stream_maker)


async def test_conformance_lockstep_only(
    autojump_clock: MockClock, client_ctx: ssl.SSLContext, lockstep_server_ctx: ssl.SSLContext
) -> None:
    async def stream_maker() -> tuple[Stream, Stream]:
        client, server = ssl_pair(client_ctx, lockstep_server_ctx, lockstep_stream_pair)
        await handshake(client, server)
        return client, server

    await check_two_way_stream(stream_maker, stream_maker)


async def test_conformance_tls12(autojump_clock: MockClock, ca: trustme.CA) -> None:
    client_ctx = make_client_context(ca)
    client_ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    server_ctx = make_server_context(ca)

    async def stream_maker() -> tuple[Stream, Stream]:
        client, server = ssl_pair(client_ctx, server_ctx)
        return client, server

    await check_two_way_stream(stream_maker, None)
    client, server = ssl_pair(client_ctx, server_ctx)
    await handshake(client, server)
    assert client.version() == server.version() == "TLSv1.2"


# ---------------------------------------------------------------------------------------
# Handshake


async def test_handshake_over_memory_streams(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, server_ctx)
    with pytest.raises(NeedHandshakeError, match="do_handshake"):
        client.getpeercert()
    with pytest.raises(NeedHandshakeError):
        server.version()
    # Attributes that exist before the handshake pass straight through.
    assert client.server_side is False
    assert server.server_side is True
    assert client.server_hostname == HOSTNAME
    assert client.context is client_ctx
    assert "getpeercert" in dir(client)
    with pytest.raises(AttributeError, match="no_such_thing"):
        client.no_such_thing
    assert "client open" in repr(client)
    assert "server open" in repr(server)

    await handshake(client, server)
    assert client.version() == server.version() == "TLSv1.3"
    assert client.cipher() == server.cipher()
    names = client.getpeercert()["subjectAltName"]
    assert ("DNS", HOSTNAME) in names
    assert server.getpeercert() is None  # no client certificate asked for
    assert client.selected_alpn_protocol() is None
    # Again: nothing to do, but still a checkpoint.
    with assert_checkpoints():
        await client.do_handshake()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(client.send_all, b"hello from the client")
        assert await receive_exactly(server, 21) == b"hello from the client"
        nursery.start_soon(server.send_all, b"and back")
        assert await receive_exactly(client, 8) == b"and back"
    await client.aclose()
    assert await server.receive_some() == b""
    await server.aclose()
    assert "closed" in repr(client)


async def test_handshake_over_lockstep_streams(
    client_ctx: ssl.SSLContext, lockstep_server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, lockstep_server_ctx, lockstep_stream_pair)
    # No explicit handshake: the first send_all / receive_some do it.
    async with tether.open_nursery() as nursery:
        nursery.start_soon(client.send_all, b"ping")
        assert await receive_exactly(server, 4) == b"ping"
    async with tether.open_nursery() as nursery:
        nursery.start_soon(server.send_all, b"pong")
        assert await receive_exactly(client, 4) == b"pong"
    assert client.version() == "TLSv1.3"
    async with tether.open_nursery() as nursery:
        nursery.start_soon(client.aclose)
        assert await server.receive_some() == b""
    await server.aclose()


async def test_concurrent_handshakes_share_one(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, server_ctx)
    async with tether.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(client.do_handshake)
        nursery.start_soon(client.receive_some, 1)  # also waits for the same handshake
        await wait_all_tasks_blocked()
        nursery.start_soon(server.do_handshake)
        await wait_all_tasks_blocked()
        await server.send_all(b"!")
    assert client.session_reused is False
    assert client.version() == "TLSv1.3"
    await client.aclose()
    await server.aclose()


async def test_alpn(ca: trustme.CA) -> None:
    client_ctx = make_client_context(ca)
    client_ctx.set_alpn_protocols(["h2", "http/1.1"])
    server_ctx = make_server_context(ca)
    server_ctx.set_alpn_protocols(["http/1.1"])
    client, server = ssl_pair(client_ctx, server_ctx)
    with pytest.raises(NeedHandshakeError):
        client.selected_alpn_protocol()
    await handshake(client, server)
    assert client.selected_alpn_protocol() == "http/1.1"
    assert server.selected_alpn_protocol() == "http/1.1"
    await client.aclose()
    await server.aclose()


async def test_hostname_mismatch_is_rejected(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, server_ctx, hostname="wrong.example")
    client_result: list[BaseException | None] = []
    server_result: list[BaseException | None] = []
    async with tether.open_nursery() as nursery:
        nursery.start_soon(handshake_or_close, client, client_result)
        nursery.start_soon(handshake_or_close, server, server_result)
    [client_error] = client_result
    assert isinstance(client_error, BrokenResourceError)
    assert isinstance(client_error.__cause__, ssl.SSLCertVerificationError)
    assert "wrong.example" in str(client_error.__cause__)
    # The server sees the connection end in the middle of the handshake.
    [server_error] = server_result
    assert isinstance(server_error, BrokenResourceError)
    assert isinstance(server_error.__cause__, ssl.SSLEOFError)
    with pytest.raises(ClosedResourceError):
        await client.send_all(b"x")


async def test_broken_stream_stays_broken(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, server_ctx, hostname="wrong.example")
    await server.transport_stream.aclose()
    with pytest.raises(BrokenResourceError):
        await client.do_handshake()
    with pytest.raises(BrokenResourceError):
        await client.send_all(b"x")
    with pytest.raises(BrokenResourceError):
        await client.receive_some()
    assert "broken" in repr(client)
    await client.aclose()  # a broken stream still closes
    await server.aclose()


async def test_unknown_ca_is_rejected(ca: trustme.CA, server_ctx: ssl.SSLContext) -> None:
    client, server = ssl_pair(ssl.create_default_context(), server_ctx)
    result: list[BaseException | None] = []
    async with tether.open_nursery() as nursery:
        nursery.start_soon(handshake_or_close, client, result)
        nursery.start_soon(handshake_or_close, server, [])
    [error] = result
    assert isinstance(error, BrokenResourceError)
    assert isinstance(error.__cause__, ssl.SSLCertVerificationError)
    await client.aclose()
    await server.aclose()


async def test_verification_off_only_if_the_context_says_so(server_ctx: ssl.SSLContext) -> None:
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    client, server = ssl_pair(insecure, server_ctx, hostname="anything.example")
    await handshake(client, server)
    assert client.version() == "TLSv1.3"
    await client.aclose()
    await server.aclose()


async def test_cancelled_handshake_can_resume(
    autojump_clock: MockClock, client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, server_ctx)
    # The server is not there yet: the client sends its hello and waits for an answer.
    with tether.move_on_after(5) as scope:
        await client.do_handshake()
    assert scope.cancelled_caught
    # Cancelled while waiting to receive: nothing was lost, the handshake goes on.
    await handshake(client, server)
    async with tether.open_nursery() as nursery:
        nursery.start_soon(client.send_all, b"after all")
        assert await receive_exactly(server, 9) == b"after all"
    await client.aclose()
    await server.aclose()


async def test_handshake_cancelled_while_sending_breaks_the_stream(
    autojump_clock: MockClock, client_ctx: ssl.SSLContext, lockstep_server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, lockstep_server_ctx, lockstep_stream_pair)
    # Over a lockstep stream the client's hello cannot even be handed over.
    with tether.move_on_after(5) as scope:
        await client.do_handshake()
    assert scope.cancelled_caught
    with pytest.raises(BrokenResourceError):
        await client.do_handshake()
    await client.aclose()
    await server.aclose()


async def test_ragged_eof_during_handshake_is_broken_even_if_https_compatible(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, server_ctx, https_compatible=True)
    # The server waits for a hello; the client's transport closes instead.
    await client.transport_stream.aclose()
    with pytest.raises(BrokenResourceError) as info:
        await server.receive_some()
    assert isinstance(info.value.__cause__, ssl.SSLEOFError)
    await client.aclose()
    await server.aclose()


# ---------------------------------------------------------------------------------------
# Data, EOF, closing


async def test_receive_some_gathers_records_and_checkpoints(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, server_ctx)
    await handshake(client, server)
    data = bytes(range(256)) * 400  # 102400 bytes: seven TLS records
    await server.send_all(data)
    first = await client.receive_some()
    assert len(first) > 16384  # more than one record in one call
    received = bytearray(first)
    # Decrypted data still buffered: no transport I/O, yet a checkpoint.
    with assert_checkpoints():
        received += await client.receive_some(10)
    # A cancelled receive_some loses nothing.
    with tether.CancelScope() as scope:
        scope.cancel()
        await client.receive_some(10)
    assert scope.cancelled_caught
    received += await receive_exactly(client, len(data) - len(received))
    assert received == data
    await client.aclose()
    await server.aclose()


async def test_large_and_odd_buffers(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, server_ctx)
    big = os.urandom(600_000)  # more than one write chunk
    words = memoryview(os.urandom(4000)).cast("I")  # a memoryview of 4-byte items
    async with tether.open_nursery() as nursery:

        async def sender() -> None:
            await client.send_all(memoryview(big))
            await client.send_all(words)
            await client.send_all(bytearray(b"end"))

        nursery.start_soon(sender)
        assert await receive_exactly(server, len(big)) == big
        assert await receive_exactly(server, 4000) == words.tobytes()
        assert await receive_exactly(server, 3) == b"end"
    await client.aclose()
    await server.aclose()


async def test_ragged_eof_is_an_error_by_default(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, server_ctx)
    await handshake(client, server)
    await server.send_all(b"last words")
    # The server's transport closes without close_notify (a truncation attack, or a
    # careless peer).
    await server.transport_stream.aclose()
    assert await receive_exactly(client, 10) == b"last words"
    with pytest.raises(BrokenResourceError) as info:
        await client.receive_some()
    assert isinstance(info.value.__cause__, ssl.SSLEOFError)
    with pytest.raises(BrokenResourceError):
        await client.receive_some()
    await client.aclose()
    await server.aclose()


async def test_ragged_eof_is_clean_when_https_compatible(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, server_ctx, https_compatible=True)
    await handshake(client, server)
    await server.send_all(b"last words")
    await server.transport_stream.aclose()
    assert await receive_exactly(client, 10) == b"last words"
    assert await client.receive_some() == b""
    assert await client.receive_some() == b""
    await client.aclose()
    await server.aclose()


async def test_https_compatible_aclose_sends_no_close_notify(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client_transport, server_transport = memory_stream_pair()
    client = SSLStream(
        client_transport, client_ctx, server_hostname=HOSTNAME.encode(), https_compatible=True
    )
    server = SSLStream(server_transport, server_ctx, server_side=True)
    await handshake(client, server)
    await client.aclose()
    # A strict peer notices that no close_notify came.
    with pytest.raises(BrokenResourceError):
        await server.receive_some()
    await server.aclose()


async def test_aclose_before_handshake_still_ends_cleanly(
    autojump_clock: MockClock, client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, server_ctx)
    async with tether.open_nursery() as nursery:
        nursery.start_soon(client.aclose)  # handshakes, then sends close_notify
        assert await server.receive_some() == b""
    await server.aclose()


async def test_aclose_never_hangs(
    autojump_clock: MockClock, client_ctx: ssl.SSLContext, lockstep_server_ctx: ssl.SSLContext
) -> None:
    from tether._streams._ssl import CLOSE_NOTIFY_TIMEOUT

    client, server = ssl_pair(client_ctx, lockstep_server_ctx, lockstep_stream_pair)
    await handshake(client, server)
    # The server never reads: close_notify cannot be delivered over a lockstep stream.
    start = tether.current_time()
    await client.aclose()
    assert tether.current_time() - start == pytest.approx(CLOSE_NOTIFY_TIMEOUT)
    with pytest.raises(ClosedResourceError):
        await client.receive_some()

    # The budget is adjustable per stream; an unanswered handshake is bounded too.
    client, server = ssl_pair(client_ctx, lockstep_server_ctx, lockstep_stream_pair)
    client.close_notify_timeout = 0.25
    start = tether.current_time()
    await client.aclose()
    assert tether.current_time() - start == pytest.approx(0.25)
    await server.aclose()


async def test_aclose_wakes_blocked_tasks(
    autojump_clock: MockClock, client_ctx: ssl.SSLContext, lockstep_server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, lockstep_server_ctx, lockstep_stream_pair)
    await handshake(client, server)
    results: dict[str, list[BaseException | None]] = {"send": [], "receive": []}
    async with tether.open_nursery() as nursery:
        nursery.start_soon(capture, lambda: client.send_all(b"x" * 100), results["send"])
        nursery.start_soon(capture, lambda: client.receive_some(), results["receive"])
        await wait_all_tasks_blocked()
        await client.aclose()  # another task is sending: no close_notify, just close
    assert [type(e) for e in results["send"]] == [ClosedResourceError]
    assert [type(e) for e in results["receive"]] == [ClosedResourceError]
    await server.aclose()


async def test_aclose_during_a_handshake_does_not_wait_for_it(
    autojump_clock: MockClock, client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, server_ctx)
    result: list[BaseException | None] = []
    async with tether.open_nursery() as nursery:
        nursery.start_soon(capture, client.do_handshake, result)  # the server is silent
        await wait_all_tasks_blocked()
        start = tether.current_time()
        await client.aclose()
        assert tether.current_time() == start
    assert [type(e) for e in result] == [ClosedResourceError]
    await server.aclose()


async def test_use_after_close(client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext) -> None:
    client, server = ssl_pair(client_ctx, server_ctx)
    await client.aclose()
    with assert_checkpoints():
        await client.aclose()
    for operation in (
        client.do_handshake,
        client.unwrap,
        client.wait_send_all_might_not_block,
        client.receive_some,
        lambda: client.send_all(b"x"),
    ):
        with pytest.raises(ClosedResourceError):
            await operation()
    await server.aclose()


async def test_cancelled_send_all_breaks_the_stream(
    autojump_clock: MockClock, client_ctx: ssl.SSLContext, lockstep_server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, lockstep_server_ctx, lockstep_stream_pair)
    await handshake(client, server)
    with tether.move_on_after(1) as scope:
        await client.send_all(b"nobody reads this")
    assert scope.cancelled_caught
    # Part of a TLS record may have gone out: the session cannot go on.
    with pytest.raises(BrokenResourceError):
        await client.send_all(b"more")
    await client.aclose()  # no close_notify on a broken stream: returns at once
    await server.aclose()


async def test_busy(
    autojump_clock: MockClock, client_ctx: ssl.SSLContext, lockstep_server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, lockstep_server_ctx, lockstep_stream_pair)
    await handshake(client, server)
    async with tether.open_nursery() as nursery:
        nursery.start_soon(client.receive_some)
        nursery.start_soon(client.send_all, b"x")
        await wait_all_tasks_blocked()
        with pytest.raises(BusyResourceError):
            await client.receive_some()
        with pytest.raises(BusyResourceError):
            await client.send_all(b"y")
        with pytest.raises(BusyResourceError):
            await client.wait_send_all_might_not_block()
        with pytest.raises(BusyResourceError):
            await client.unwrap()
        nursery.cancel_scope.cancel()
    await client.aclose()
    await server.aclose()


async def test_transport_errors_are_wrapped(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, server_ctx)
    await handshake(client, server)

    async def failing_hook() -> None:
        raise OSError("the cable was cut")

    client.transport_stream.send_stream.send_all_hook = failing_hook
    with pytest.raises(BrokenResourceError) as info:
        await client.send_all(b"x")
    assert isinstance(info.value.__cause__, OSError)
    await client.aclose()
    await server.aclose()


async def test_sender_waits_for_a_flush_in_progress(
    autojump_clock: MockClock, client_ctx: ssl.SSLContext, lockstep_server_ctx: ssl.SSLContext
) -> None:
    # Task 1 waits in wait_send_all_might_not_block, holding the transport's sending
    # side; task 2's handshake has a hello to send and must queue behind it.
    client, server = ssl_pair(client_ctx, lockstep_server_ctx, lockstep_stream_pair)
    async with tether.open_nursery() as nursery:
        nursery.start_soon(client.wait_send_all_might_not_block)
        await wait_all_tasks_blocked()
        nursery.start_soon(client.do_handshake)
        await wait_all_tasks_blocked()
        nursery.start_soon(server.do_handshake)
    assert client.version() == "TLSv1.3"
    # And the other way round: wait_send_all_might_not_block waits for a flush.
    client, server = ssl_pair(client_ctx, lockstep_server_ctx, lockstep_stream_pair)
    async with tether.open_nursery() as nursery:
        nursery.start_soon(client.do_handshake)
        await wait_all_tasks_blocked()
        nursery.start_soon(client.wait_send_all_might_not_block)
        await wait_all_tasks_blocked()
        nursery.start_soon(server.do_handshake)
    for stream in (client, server):
        await stream.aclose()


# ---------------------------------------------------------------------------------------
# unwrap


async def test_unwrap_both_sides_then_plain_data(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, server_ctx)
    await handshake(client, server)
    await client.send_all(b"encrypted")
    assert await receive_exactly(server, 9) == b"encrypted"

    client_result: list[tuple[Any, bytes]] = []

    async def client_side() -> None:
        client_result.append(await client.unwrap())

    async with tether.open_nursery() as nursery:
        nursery.start_soon(client_side)
        await wait_all_tasks_blocked()
        server_transport, server_trailing = await server.unwrap()
        assert server_trailing == b""
        # Plain data right behind the server's close_notify.
        await server_transport.send_all(b"plain text")
    client_transport, client_trailing = client_result[0]
    assert client_transport is client.transport_stream
    assert server_transport is server.transport_stream
    rest = client_trailing
    while len(rest) < 10:
        rest += await client_transport.receive_some()
    assert rest == b"plain text"
    await client_transport.send_all(b"plain reply")
    assert await receive_exactly(server_transport, 11) == b"plain reply"
    # The SSLStreams are closed; their transports are not.
    with pytest.raises(ClosedResourceError):
        await client.send_all(b"x")
    await client_transport.aclose()
    await server_transport.aclose()


async def test_unwrap_does_the_handshake_first(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    client, server = ssl_pair(client_ctx, server_ctx)
    async with tether.open_nursery() as nursery:
        nursery.start_soon(client.unwrap)
        nursery.start_soon(server.unwrap)
    await client.transport_stream.aclose()
    await server.transport_stream.aclose()


# ---------------------------------------------------------------------------------------
# Over TCP: listeners, helpers, serving


def port_of(listener: SSLListener[Any]) -> int:
    tcp_listener = listener.transport_listener
    assert isinstance(tcp_listener, tether.SocketListener)
    port: int = tcp_listener.socket.getsockname()[1]
    return port


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")


@needs_proc
async def test_tcp_round_trip_leaves_no_fd(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    before = open_fds()
    [tcp_listener] = await tether.open_tcp_listeners(0, host="127.0.0.1")
    listener = SSLListener(tcp_listener, server_ctx)
    assert "SSLListener" in repr(listener)
    port = tcp_listener.socket.getsockname()[1]
    async with listener:
        async with tether.open_nursery() as nursery:

            async def serve_one() -> None:
                async with await listener.accept() as stream:
                    assert stream.server_side
                    data = await receive_exactly(stream, 5)
                    await stream.send_all(data.upper())
                    assert await stream.receive_some() == b""

            nursery.start_soon(serve_one)
            client = await tether.open_ssl_over_tcp_stream(
                "127.0.0.1", port, ssl_context=client_ctx
            )
            async with client:
                assert isinstance(client.transport_stream, tether.SocketStream)
                await client.send_all(b"hello")
                assert await receive_exactly(client, 5) == b"HELLO"
                assert client.getpeercert()["subjectAltName"][-1] == ("IP Address", "127.0.0.1")
    assert open_fds() == before


@needs_proc
async def test_serve_ssl_over_tcp(client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext) -> None:
    before = open_fds()

    async def echo(stream: SSLStream[tether.SocketStream]) -> None:
        async for chunk in stream:
            await stream.send_all(chunk)

    async with tether.open_nursery() as nursery:
        serve = functools.partial(tether.serve_ssl_over_tcp, host="127.0.0.1")
        listeners = await nursery.start(serve, echo, 0, server_ctx)
        assert all(isinstance(listener, SSLListener) for listener in listeners)
        port = port_of(listeners[0])
        for host in ("127.0.0.1", b"127.0.0.1"):
            async with await tether.open_ssl_over_tcp_stream(
                host, port, ssl_context=client_ctx, happy_eyeballs_delay=None
            ) as client:
                await client.send_all(b"echo me")
                assert await receive_exactly(client, 7) == b"echo me"
        nursery.cancel_scope.cancel()
    assert open_fds() == before


async def test_https_compatible_listeners(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext
) -> None:
    listeners = await tether.open_ssl_over_tcp_listeners(
        0, server_ctx, host="127.0.0.1", https_compatible=True
    )
    [listener] = listeners
    port = port_of(listener)
    async with listener:
        client = await tether.open_ssl_over_tcp_stream(
            "127.0.0.1", port, ssl_context=client_ctx, https_compatible=True
        )
        server = await listener.accept()
        async with client, server:
            await handshake(client, server)
            # (the client reads, so that nothing is left unread in its socket: closing
            # a socket with unread data resets the connection)
            await server.send_all(b"hi")
            assert await receive_exactly(client, 2) == b"hi"
            await client.aclose()  # no close_notify...
            assert await server.receive_some() == b""  # ...and that is fine here


async def test_default_context_verifies(server_ctx: ssl.SSLContext) -> None:
    [listener] = await tether.open_ssl_over_tcp_listeners(0, server_ctx, host="127.0.0.1")
    port = port_of(listener)
    async with listener:
        # No ssl_context: the system's CAs, which do not include our throw-away CA.
        client = await tether.open_ssl_over_tcp_stream("127.0.0.1", port)
        server = await listener.accept()
        result: list[BaseException | None] = []
        async with client, server:
            async with tether.open_nursery() as nursery:
                nursery.start_soon(handshake_or_close, client, result)
                nursery.start_soon(handshake_or_close, server, [])
        [error] = result
        assert isinstance(error, BrokenResourceError)
        assert isinstance(error.__cause__, ssl.SSLCertVerificationError)


async def test_open_ssl_over_tcp_stream_closes_the_socket_on_error() -> None:
    [tcp_listener] = await tether.open_tcp_listeners(0, host="127.0.0.1")
    port = tcp_listener.socket.getsockname()[1]
    async with tcp_listener:
        server_only = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with pytest.raises(ssl.SSLError, match="client socket"):
            await tether.open_ssl_over_tcp_stream("127.0.0.1", port, ssl_context=server_only)
        # (the connection attempt was accepted by the kernel; close our end of it)
        stream = await tcp_listener.accept()
        await stream.aclose()


# ---------------------------------------------------------------------------------------
# Example and demo


def test_example_imports() -> None:
    path = ROOT / "examples" / "tls_client.py"
    spec = importlib.util.spec_from_file_location("tls_client_example", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.main)
    assert module.HOST == "example.com"


async def test_demo(capsys: pytest.CaptureFixture[str]) -> None:
    from tether._demo_tls import demo_tls

    await demo_tls()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert "TLSv1.3" in lines[1]
    assert "echoed" in lines[2]


async def test_demo_without_trustme(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tether._demo_tls import demo_tls

    monkeypatch.setitem(sys.modules, "trustme", None)
    await demo_tls()
    assert "skipped" in capsys.readouterr().out
