"""TLS: tether.SSLStream, SSLListener, open_ssl_over_tcp_stream / _listeners,
serve_ssl_over_tcp, the TLS example and the TLS demo.

Certificates come from trustme (a throw-away CA). In-memory transports run under the
autojump clock, so timeouts (aclose's close_notify budget, cancellations) cost no real
time; real sockets bind to 127.0.0.1 port 0 only and are closed by every test.
"""

from __future__ import annotations

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
