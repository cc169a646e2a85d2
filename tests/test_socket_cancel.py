"""tether.socket: checkpoints, cancellation, closing and misuse.

Every async method of SocketType is a checkpoint, whether or not it has to wait: a task
that is already cancelled gets Cancelled *before* anything happens to the socket. A
method cancelled while waiting leaves the socket usable, except connect, which closes
it (as Trio documents: the state of a half-made connection is unknown). Closing a socket
wakes the tasks waiting on it with ClosedResourceError; using a closed socket raises
OSError(EBADF), as the stdlib does; two tasks receiving (or sending) on one socket at
the same time is a BusyResourceError.
"""

from __future__ import annotations

import errno
import io
import socket as stdlib_socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import tether
import tether.socket as tsocket
from _helpers import fill_send_buffer
from test_socket import (  # the fd-leak fixture is autouse here too
    needs_unix,
    no_leaked_fds,  # noqa: F401
    tcp_listener,
    tcp_pair,
)
from tether.testing import MockClock, assert_checkpoints, wait_all_tasks_blocked

needs_msg = pytest.mark.skipif(
    not hasattr(stdlib_socket.socket, "sendmsg"), reason="no sendmsg/recvmsg here"
)

SocketOp = Callable[[tsocket.SocketType, tsocket.SocketType], Awaitable[object]]

# Operations that can complete at once on a socketpair whose peer has sent b"data":
# (name, operation on (sock, peer)). Each must still be a full checkpoint.
READY_OPS: list[tuple[str, SocketOp]] = [
    ("recv", lambda s, p: s.recv(10)),
    ("recv_into", lambda s, p: s.recv_into(bytearray(10))),
    ("recvfrom", lambda s, p: s.recvfrom(10)),
    ("recvfrom_into", lambda s, p: s.recvfrom_into(bytearray(10))),
    ("send", lambda s, p: s.send(b"x")),
    ("wait_writable", lambda s, p: s.wait_writable()),
    ("wait_readable", lambda s, p: s.wait_readable()),
]
if hasattr(stdlib_socket.socket, "sendmsg"):
    READY_OPS += [
        ("recvmsg", lambda s, p: s.recvmsg(10)),
        ("recvmsg_into", lambda s, p: s.recvmsg_into([bytearray(10)])),
        ("sendmsg", lambda s, p: s.sendmsg([b"x"])),
    ]


async def ready_pair() -> tuple[tsocket.SocketType, tsocket.SocketType]:
    """A socketpair (sock, peer) where the peer has sent b"data" to sock."""
    sock, peer = tsocket.socketpair()
    await peer.send(b"data")
    return sock, peer


# -- checkpoints ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "op"), READY_OPS, ids=[name for name, _ in READY_OPS])
async def test_ready_operations_are_still_checkpoints(name: str, op: SocketOp) -> None:
    sock, peer = await ready_pair()
    with sock, peer:
        with assert_checkpoints():
            await op(sock, peer)


@pytest.mark.parametrize(("name", "op"), READY_OPS, ids=[name for name, _ in READY_OPS])
async def test_a_cancelled_task_is_stopped_before_the_operation(name: str, op: SocketOp) -> None:
    sock, peer = await ready_pair()
    with sock, peer:
        with tether.CancelScope() as scope:
            scope.cancel()
            await op(sock, peer)
        assert scope.cancelled_caught
        # Nothing happened: the data is still waiting and nothing was sent to the peer.
        assert await sock.recv(10) == b"data"
        assert not peer.is_readable()


async def test_udp_operations_are_checkpoints() -> None:
    with tsocket.socket(type=tsocket.SOCK_DGRAM) as a, tsocket.socket(type=tsocket.SOCK_DGRAM) as b:
        with assert_checkpoints():
            await a.bind(("127.0.0.1", 0))
        await b.bind(("127.0.0.1", 0))
        with assert_checkpoints():
            await a.sendto(b"1", b.getsockname())
        with assert_checkpoints():
            await a.sendto(b"2", 0, b.getsockname())
        if hasattr(stdlib_socket.socket, "sendmsg"):
            with assert_checkpoints():
                await a.sendmsg([b"3"], [], 0, b.getsockname())
        with tether.CancelScope() as scope:
            scope.cancel()
            await a.sendto(b"never", b.getsockname())
        assert scope.cancelled_caught
        with assert_checkpoints():
            await b.connect(a.getsockname())
        expected = [b"1", b"2", b"3"] if hasattr(stdlib_socket.socket, "sendmsg") else [b"1", b"2"]
        assert [(await b.recvfrom(10))[0] for _ in expected] == expected
        assert not b.is_readable()  # "never" was not sent


async def test_accept_and_connect_are_checkpoints() -> None:
    with await tcp_listener() as listener, tsocket.socket() as client:
        with assert_checkpoints():
            await client.connect(listener.getsockname())
        with assert_checkpoints():
            server, _ = await listener.accept()  # the connection is already queued
        server.close()


@needs_unix
async def test_unix_bind_and_connect_are_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with tsocket.socket(tsocket.AF_UNIX) as listener, tsocket.socket(tsocket.AF_UNIX) as client:
        with assert_checkpoints():
            await listener.bind("s")
        listener.listen()
        with assert_checkpoints():
            await client.connect("s")
        server, _ = await listener.accept()
        server.close()


async def test_sendfile_is_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"contents")
    a, b = tsocket.socketpair()
    with a, b, path.open("rb") as file:
        with assert_checkpoints():
            await a.sendfile(file)
        with assert_checkpoints():
            await a.sendfile(io.BytesIO(b"copied"))
        with assert_checkpoints():
            await a.sendfile(io.BytesIO(b""))
        with tether.CancelScope() as scope:
            scope.cancel()
            await a.sendfile(file, 0)
        assert scope.cancelled_caught
        assert await b.recv(100) == b"contentscopied"


async def test_a_cancelled_accept_takes_no_connection() -> None:
    with await tcp_listener() as listener, tsocket.socket() as client:
        await client.connect(listener.getsockname())
        with tether.CancelScope() as scope:
            scope.cancel()
            await listener.accept()
        assert scope.cancelled_caught
        server, address = await listener.accept()  # still queued
        with server:
            assert address == client.getsockname()


# -- cancelling a wait ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "op",
    [
        lambda s: s.recv(10),
        lambda s: s.recv_into(bytearray(10)),
        lambda s: s.recvfrom(10),
        lambda s: s.wait_readable(),
    ],
    ids=["recv", "recv_into", "recvfrom", "wait_readable"],
)
async def test_cancelling_a_blocked_receive_leaves_the_socket_usable(
    autojump_clock: MockClock, op: Callable[[tsocket.SocketType], Awaitable[object]]
) -> None:
    a, b = tsocket.socketpair()
    with a, b:
        with tether.move_on_after(5) as scope:
            await op(b)
        assert scope.cancelled_caught
        await a.send(b"after")
        assert await b.recv(10) == b"after"


async def test_cancelling_a_blocked_send_leaves_the_socket_usable(
    autojump_clock: MockClock,
) -> None:
    raw_a, raw_b = stdlib_socket.socketpair()
    a, b = tsocket.from_stdlib_socket(raw_a), tsocket.from_stdlib_socket(raw_b)
    with a, b:
        fill_send_buffer(raw_a)
        with tether.move_on_after(5) as scope:
            await a.send(b"blocked")
        assert scope.cancelled_caught
        assert a.fileno() != -1
        await b.recv(1)  # make a little room; the socket still works
        assert await b.send(b"reply") == 5


async def test_cancelling_a_blocked_accept_leaves_the_listener_usable(
    autojump_clock: MockClock,
) -> None:
    with await tcp_listener() as listener:
        with tether.move_on_after(5) as scope:
            await listener.accept()
        assert scope.cancelled_caught
        with tsocket.socket() as client:
            await client.connect(listener.getsockname())
            server, _ = await listener.accept()
            server.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's backlog rules")
async def test_cancelling_a_connect_in_progress_closes_the_socket(
    autojump_clock: MockClock,
) -> None:
    # A listener with backlog 0 queues one connection; Linux drops the SYNs of the next
    # connection attempt while that one is not accepted, so it stays in progress.
    with await tcp_listener() as listener, tsocket.socket() as first:
        listener.listen(0)
        await first.connect(listener.getsockname())
        second = tsocket.socket()
        with second:
            with tether.move_on_after(5) as scope:
                await second.connect(listener.getsockname())
            assert scope.cancelled_caught
            assert second.fileno() == -1  # closed: a half-made connection is unusable
            with pytest.raises(OSError) as info:
                await second.send(b"x")
            assert info.value.errno == errno.EBADF


async def test_connect_cancelled_before_it_starts_closes_the_socket_too() -> None:
    with await tcp_listener() as listener:
        sock = tsocket.socket()
        with tether.CancelScope() as scope:
            scope.cancel()
            await sock.connect(listener.getsockname())
        assert scope.cancelled_caught
        assert sock.fileno() == -1


async def test_connect_cancelled_while_resolving_closes_the_socket(
    autojump_clock: MockClock,
) -> None:
    class SlowResolver(tether.abc.HostnameResolver):
        async def getaddrinfo(self, *args: Any, **kwargs: Any) -> list[Any]:
            await tether.sleep_forever()
            raise AssertionError("unreachable")

        async def getnameinfo(self, *args: Any, **kwargs: Any) -> tuple[str, str]:
            raise AssertionError("unused")

    tsocket.set_custom_hostname_resolver(SlowResolver())
    sock = tsocket.socket()
    with tether.move_on_after(1) as scope:
        await sock.connect(("slow.test", 80))
    assert scope.cancelled_caught
    assert sock.fileno() == -1


# -- closing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "op",
    [
        lambda s: s.recv(10),
        lambda s: s.recv_into(bytearray(10)),
        lambda s: s.recvfrom(10),
        lambda s: s.wait_readable(),
        lambda s: s.recvmsg(10) if hasattr(s, "recvmsg") else s.recv(10),
    ],
    ids=["recv", "recv_into", "recvfrom", "wait_readable", "recvmsg"],
)
async def test_closing_wakes_a_waiting_receiver_with_closed_resource_error(
    op: Callable[[tsocket.SocketType], Awaitable[object]],
) -> None:
    a, b = tsocket.socketpair()
    errors: list[BaseException] = []

    async def receiver() -> None:
        try:
            await op(b)
        except tether.ClosedResourceError as exc:
            errors.append(exc)

    with a:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(receiver)
            await wait_all_tasks_blocked()
            b.close()
        assert len(errors) == 1


async def test_closing_wakes_a_waiting_sender_and_acceptor() -> None:
    raw_a, raw_b = stdlib_socket.socketpair()
    a, b = tsocket.from_stdlib_socket(raw_a), tsocket.from_stdlib_socket(raw_b)
    fill_send_buffer(raw_a)
    listener = await tcp_listener()
    woken: list[str] = []

    async def expect_closed(name: str, fn: Callable[[], Awaitable[object]]) -> None:
        with pytest.raises(tether.ClosedResourceError):
            await fn()
        woken.append(name)

    with b:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(expect_closed, "send", lambda: a.send(b"x"))
            nursery.start_soon(expect_closed, "accept", listener.accept)
            await wait_all_tasks_blocked()
            with a, listener:
                pass  # the context managers close both
        assert sorted(woken) == ["accept", "send"]


# Every operation on a closed socket: OSError(EBADF), like the stdlib's own socket.
CLOSED_ASYNC_OPS: list[tuple[str, Callable[[tsocket.SocketType], Awaitable[object]]]] = [
    ("recv", lambda s: s.recv(1)),
    ("recv_into", lambda s: s.recv_into(bytearray(1))),
    ("recvfrom", lambda s: s.recvfrom(1)),
    ("recvfrom_into", lambda s: s.recvfrom_into(bytearray(1))),
    ("send", lambda s: s.send(b"x")),
    ("sendto", lambda s: s.sendto(b"x", ("127.0.0.1", 9))),
    ("accept", lambda s: s.accept()),
    ("connect", lambda s: s.connect(("127.0.0.1", 9))),
    ("bind", lambda s: s.bind(("127.0.0.1", 0))),
    ("wait_readable", lambda s: s.wait_readable()),
    ("wait_writable", lambda s: s.wait_writable()),
    ("sendfile", lambda s: s.sendfile(io.BytesIO(b"abc"))),
]
if hasattr(stdlib_socket.socket, "sendmsg"):
    CLOSED_ASYNC_OPS += [
        ("sendmsg", lambda s: s.sendmsg([b"x"])),
        ("recvmsg", lambda s: s.recvmsg(1)),
        ("recvmsg_into", lambda s: s.recvmsg_into([bytearray(1)])),
    ]


@pytest.mark.parametrize(
    ("name", "op"), CLOSED_ASYNC_OPS, ids=[name for name, _ in CLOSED_ASYNC_OPS]
)
async def test_async_operations_on_a_closed_socket_raise_ebadf(
    name: str, op: Callable[[tsocket.SocketType], Awaitable[object]]
) -> None:
    sock = tsocket.socket()
    sock.close()
    with pytest.raises(OSError) as info:
        await op(sock)
    assert info.value.errno == errno.EBADF


async def test_sendfile_from_a_real_file_on_a_closed_socket_raises_ebadf(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    sock = tsocket.socket()
    sock.close()
    with path.open("rb") as file, pytest.raises(OSError) as info:
        await sock.sendfile(file)
    assert info.value.errno == errno.EBADF


@pytest.mark.parametrize(
    "op",
    [
        lambda s: s.is_readable(),
        lambda s: s.getsockname(),
        lambda s: s.getpeername(),
        lambda s: s.listen(),
        lambda s: s.shutdown(tsocket.SHUT_RDWR),
        lambda s: s.getsockopt(tsocket.SOL_SOCKET, tsocket.SO_TYPE),
        lambda s: s.setsockopt(tsocket.SOL_SOCKET, tsocket.SO_REUSEADDR, 1),
        lambda s: s.dup(),
        lambda s: s.get_inheritable(),
    ],
    ids=[
        "is_readable",
        "getsockname",
        "getpeername",
        "listen",
        "shutdown",
        "getsockopt",
        "setsockopt",
        "dup",
        "get_inheritable",
    ],
)
async def test_sync_operations_on_a_closed_socket_raise_ebadf(
    op: Callable[[tsocket.SocketType], object],
) -> None:
    sock = tsocket.socket()
    sock.close()
    with pytest.raises(OSError) as info:
        op(sock)
    assert info.value.errno == errno.EBADF
    assert sock.fileno() == -1
    assert sock.detach() == -1
    assert not sock.did_shutdown_SHUT_WR


# -- two tasks on one socket ------------------------------------------------------------------


async def test_two_tasks_receiving_at_once_is_a_busy_resource_error() -> None:
    a, b = tsocket.socketpair()
    got: list[bytes] = []

    async def first_reader() -> None:
        got.append(await b.recv(10))

    with a, b:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(first_reader)
            await wait_all_tasks_blocked()
            with pytest.raises(tether.BusyResourceError):
                await b.recv(10)
            with pytest.raises(tether.BusyResourceError):
                await b.wait_readable()
            await a.send(b"first")
        assert got == [b"first"]  # the first reader was not disturbed
        await a.send(b"again")
        assert await b.recv(10) == b"again"  # and the socket is free again


async def test_two_tasks_sending_at_once_is_a_busy_resource_error() -> None:
    raw_a, raw_b = stdlib_socket.socketpair()
    a, b = tsocket.from_stdlib_socket(raw_a), tsocket.from_stdlib_socket(raw_b)
    fill_send_buffer(raw_a)

    async def blocked_sender() -> None:
        with pytest.raises(tether.ClosedResourceError):
            await a.send(b"x")

    with b:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(blocked_sender)
            await wait_all_tasks_blocked()
            with pytest.raises(tether.BusyResourceError):
                await a.send(b"y")
            a.close()  # wakes the first sender


async def test_one_task_may_receive_while_another_sends() -> None:
    client, server = await tcp_pair()
    got: list[bytes] = []

    async def reader() -> None:
        got.append(await client.recv(10))

    with client, server:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(reader)
            await wait_all_tasks_blocked()
            await client.send(b"out")  # a different direction: not busy
            assert await server.recv(10) == b"out"
            await server.send(b"in")
        assert got == [b"in"]


# -- name resolution ------------------------------------------------------------------------


async def test_getnameinfo_in_a_worker_thread_can_be_abandoned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    started, release = threading.Event(), threading.Event()

    def stuck(sockaddr: Any, flags: int) -> tuple[str, str]:
        started.set()
        release.wait(10)
        return "late", "0"

    monkeypatch.setattr(stdlib_socket, "getnameinfo", stuck)
    scope = tether.CancelScope()
    results: list[object] = []

    async def lookup() -> None:
        with scope:
            results.append(await tsocket.getnameinfo(("127.0.0.1", 80), 0))

    try:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(lookup)
            assert await tether.to_thread.run_sync(started.wait, 10)
            scope.cancel()
        assert scope.cancelled_caught
        assert results == []
    finally:
        release.set()


async def test_getnameinfo_default_resolver_answers() -> None:
    host, port = await tsocket.getnameinfo(("127.0.0.1", 80), tsocket.NI_NUMERICHOST)
    assert host == "127.0.0.1"
    assert port in ("http", "80")  # depending on /etc/services
