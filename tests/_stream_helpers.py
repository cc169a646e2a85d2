"""Helpers shared by the streams-tier tests (test_socket_stream, test_tcp, test_unix,
test_serve, test_buffered). Not a conftest: import what you use explicitly.

``no_leaked_fds`` is a plain (sync) fixture, so it looks at /proc/self/fd before the
test's ``tether.run`` starts and after it has ended: the run's own descriptors (epoll,
wake-up pipe) are gone by then, and anything left open belongs to the test or to the
code under test.
"""

from __future__ import annotations

import contextlib
import os
import socket as stdlib_socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

import tether
from tether.testing import open_stream_to_socket_listener, wait_all_tasks_blocked

_FD_DIR = "/proc/self/fd"

StreamPair = tuple[tether.SocketStream, tether.SocketStream]
PairMaker = Callable[[], Awaitable[StreamPair]]


def open_fds() -> dict[str, str]:
    """The process's open file descriptors and what they point to."""
    fds = {}
    for name in os.listdir(_FD_DIR):
        try:
            fds[name] = os.readlink(os.path.join(_FD_DIR, name))
        except OSError:
            pass  # the descriptor listdir itself used, closed by now
    return fds


@contextlib.contextmanager
def fds_left_unchanged() -> Iterator[None]:
    """Fail if the block leaves a file descriptor open (where /proc/self/fd exists)."""
    if not os.path.isdir(_FD_DIR):
        yield
        return
    before = open_fds()
    yield
    leaked = {fd: target for fd, target in open_fds().items() if before.get(fd) != target}
    assert not leaked, f"file descriptors left open: {leaked}"


@pytest.fixture
def no_leaked_fds() -> Iterator[None]:
    """Fail a test that leaves a file descriptor open (where /proc/self/fd exists)."""
    with fds_left_unchanged():
        yield


needs_unix = pytest.mark.skipif(not hasattr(stdlib_socket, "AF_UNIX"), reason="no AF_UNIX")


def has_ipv6_loopback() -> bool:
    if not stdlib_socket.has_ipv6:
        return False
    try:
        with stdlib_socket.socket(stdlib_socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback (::1)")


async def tcp_stream_pair() -> StreamPair:
    """A connected (client, server) pair of SocketStreams over TCP on 127.0.0.1."""
    listeners = await tether.open_tcp_listeners(0, host="127.0.0.1")
    async with listeners[0] as listener:
        client = await open_stream_to_socket_listener(listener)
        server = await listener.accept()
    return client, server


async def socketpair_streams() -> StreamPair:
    """A connected pair of SocketStreams over a unix socketpair."""
    left, right = tether.socket.socketpair()
    return tether.SocketStream(left), tether.SocketStream(right)


def shrink_buffers(stream: tether.SocketStream) -> None:
    """Small kernel buffers, so that filling them is quick (but not so small that TCP
    falls back on zero-window probe timers when the reader frees a little room)."""
    for option in (stdlib_socket.SO_SNDBUF, stdlib_socket.SO_RCVBUF):
        stream.setsockopt(stdlib_socket.SOL_SOCKET, option, 65536)


async def clog(stream: tether.SocketStream) -> int:
    """Write into ``stream`` until the kernel takes no more (its send buffer and the
    peer's receive buffer are full); return how many bytes that took."""
    chunk = b"\0" * 65536
    sent = 0

    async def writer() -> None:
        nonlocal sent
        while True:
            sent += await stream.socket.send(chunk)

    async with tether.open_nursery() as nursery:
        nursery.start_soon(writer)
        await wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    return sent


async def drain(stream: tether.SocketStream, count: int) -> None:
    """Receive and discard exactly ``count`` bytes."""
    while count:
        data = await stream.receive_some(min(count, 65536))
        assert data, "end of stream while draining"
        count -= len(data)


def clogged(maker: PairMaker) -> PairMaker:
    """A maker whose socket streams are clogged in both directions."""

    async def clogged_maker() -> StreamPair:
        left, right = await maker()
        for stream in (left, right):
            shrink_buffers(stream)
        await clog(left)
        await clog(right)
        return left, right

    return clogged_maker


class ScriptedSocket(stdlib_socket.socket):
    """A real stdlib socket whose ``accept`` raises the scripted errors first.

    Wrapped with ``tether.socket.from_stdlib_socket`` it becomes an ordinary tether socket
    (``SocketType`` is final, so fakes are built one level down, where the syscalls are).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.accept_errors: list[OSError] = []
        self.accept_calls = 0

    def accept(self) -> tuple[stdlib_socket.socket, Any]:
        self.accept_calls += 1
        if self.accept_errors:
            raise self.accept_errors.pop(0)
        return super().accept()


def scripted_tcp_listener(*errors: OSError) -> tuple[tether.SocketListener, ScriptedSocket]:
    """A SocketListener on 127.0.0.1 whose first accepts fail with ``errors``."""
    raw = ScriptedSocket(stdlib_socket.AF_INET, stdlib_socket.SOCK_STREAM)
    try:
        raw.bind(("127.0.0.1", 0))
        raw.listen()
        raw.accept_errors.extend(errors)
        return tether.SocketListener(tether.socket.from_stdlib_socket(raw)), raw
    except BaseException:
        raw.close()
        raise
