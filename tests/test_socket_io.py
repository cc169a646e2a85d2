"""tether.socket.SocketType: its I/O methods and its plain (synchronous) ones.

TCP and UDP on 127.0.0.1 (and ::1 where the machine has it), unix sockets under tmp_path,
socketpairs. Blocking is provoked for real (a full send buffer, a receive with nothing
to read) and observed with wait_all_tasks_blocked(), never with sleeps. Checkpoints,
cancellation and closing are in test_socket_cancel.py.
"""

from __future__ import annotations

import array
import io
import os
import socket as stdlib_socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tether
import tether.socket as tsocket
from _helpers import drain, fill_send_buffer
from test_socket import (  # the fd-leak fixture is autouse here too
    needs_ipv6,
    needs_unix,
    no_leaked_fds,  # noqa: F401
    tcp_listener,
    tcp_pair,
)
from tether.testing import wait_all_tasks_blocked


@pytest.fixture
def raw_pair() -> Iterator[
    tuple[stdlib_socket.socket, stdlib_socket.socket, tsocket.SocketType, tsocket.SocketType]
]:
    """A stdlib socketpair and tether sockets owning each end: the raw ends let a test
    fill or drain the kernel buffers without going through the code under test."""
    raw_a, raw_b = stdlib_socket.socketpair()
    a, b = tsocket.from_stdlib_socket(raw_a), tsocket.from_stdlib_socket(raw_b)
    with a, b:
        yield raw_a, raw_b, a, b


@pytest.fixture
def sock_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A unix socket path in tmp_path, relative (tmp_path may exceed sun_path's ~108 bytes)."""
    monkeypatch.chdir(tmp_path)
    return Path("t.sock")


async def udp_socket() -> tsocket.SocketType:
    sock = tsocket.socket(tsocket.AF_INET, tsocket.SOCK_DGRAM)
    await sock.bind(("127.0.0.1", 0))
    return sock


# -- stream I/O ---------------------------------------------------------------------------------


async def test_tcp_send_and_recv_round_trip() -> None:
    client, server = await tcp_pair()
    with client, server:
        assert await client.send(b"hello") == 5
        assert await server.recv(100) == b"hello"
        assert await server.send(memoryview(b"world")) == 5
        assert await client.recv(3) == b"wor"
        assert await client.recv(3) == b"ld"
        assert client.getpeername() == server.getsockname()


async def test_recv_waits_for_data() -> None:
    a, b = tsocket.socketpair()
    got: list[bytes] = []

    async def reader() -> None:
        got.append(await b.recv(10))

    with a, b:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(reader)
            await wait_all_tasks_blocked()
            assert got == []  # blocked: nothing to read yet
            await a.send(b"late")
        assert got == [b"late"]


async def test_recv_with_flags_peeks() -> None:
    a, b = tsocket.socketpair()
    with a, b:
        await a.send(b"abc")
        assert await b.recv(10, tsocket.MSG_PEEK) == b"abc"
        assert await b.recv(10) == b"abc"


async def test_recv_into_fills_the_buffer_and_honours_nbytes() -> None:
    a, b = tsocket.socketpair()
    with a, b:
        await a.send(b"abcdef")
        buf = bytearray(10)
        assert await b.recv_into(buf, 2) == 2
        assert buf[:2] == b"ab"
        view = memoryview(buf)[2:]
        assert await b.recv_into(view) == 4
        assert bytes(buf[:6]) == b"abcdef"


async def test_recv_into_waits_for_data() -> None:
    a, b = tsocket.socketpair()
    buf = bytearray(4)
    counts: list[int] = []

    async def reader() -> None:
        counts.append(await b.recv_into(buf))

    with a, b:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(reader)
            await wait_all_tasks_blocked()
            assert counts == []
            await a.send(b"wxyz")
        assert (counts, buf) == ([4], bytearray(b"wxyz"))


async def test_send_waits_while_the_buffer_is_full(
    raw_pair: tuple[stdlib_socket.socket, stdlib_socket.socket, Any, Any],
) -> None:
    raw_a, raw_b, a, _ = raw_pair
    filled = fill_send_buffer(raw_a)
    sent: list[int] = []

    async def writer() -> None:
        sent.append(await a.send(b"more"))

    async with tether.open_nursery() as nursery:
        nursery.start_soon(writer)
        await wait_all_tasks_blocked()
        assert sent == []  # the kernel has no room
        received = 0
        while not sent:
            received += drain(raw_b)
            await wait_all_tasks_blocked()
    assert sent == [4]
    received += drain(raw_b)
    assert received == filled + 4


async def test_shutdown_sends_eof_and_records_shut_wr() -> None:
    client, server = await tcp_pair()
    with client, server:
        states = [client.did_shutdown_SHUT_WR]
        client.shutdown(tsocket.SHUT_RD)
        states.append(client.did_shutdown_SHUT_WR)
        client.shutdown(tsocket.SHUT_WR)
        states.append(client.did_shutdown_SHUT_WR)
        assert states == [False, False, True]
        assert await server.recv(10) == b""  # EOF
        assert server.is_readable()  # EOF counts as readable
        server.shutdown(tsocket.SHUT_RDWR)
        assert server.did_shutdown_SHUT_WR is True


async def test_is_readable_reflects_pending_data() -> None:
    a, b = tsocket.socketpair()
    with a, b:
        assert not b.is_readable()
        await a.send(b"x")
        assert b.is_readable()
        await b.recv(1)
        assert not b.is_readable()


async def test_wait_readable_and_wait_writable_methods() -> None:
    a, b = tsocket.socketpair()
    woke: list[str] = []

    async def waiter() -> None:
        await b.wait_readable()
        woke.append("readable")

    with a, b:
        await a.wait_writable()  # an empty send buffer: returns at once
        async with tether.open_nursery() as nursery:
            nursery.start_soon(waiter)
            await wait_all_tasks_blocked()
            assert woke == []
            await a.send(b"x")
        assert woke == ["readable"]
        assert await b.recv(1) == b"x"  # waiting did not consume anything


async def test_wait_writable_waits_for_room(
    raw_pair: tuple[stdlib_socket.socket, stdlib_socket.socket, Any, Any],
) -> None:
    raw_a, raw_b, a, _ = raw_pair
    fill_send_buffer(raw_a)
    woke: list[bool] = []

    async def waiter() -> None:
        await a.wait_writable()
        woke.append(True)

    async with tether.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await wait_all_tasks_blocked()
        assert woke == []
        while not woke:
            drain(raw_b)
            await wait_all_tasks_blocked()


# -- listening and accepting ----------------------------------------------------------------


async def test_accept_waits_for_a_connection_and_returns_a_tether_socket() -> None:
    accepted: list[tuple[tsocket.SocketType, Any]] = []
    with await tcp_listener() as listener:

        async def acceptor() -> None:
            accepted.append(await listener.accept())

        async with tether.open_nursery() as nursery:
            nursery.start_soon(acceptor)
            await wait_all_tasks_blocked()
            assert accepted == []
            with tsocket.socket() as client:
                await client.connect(listener.getsockname())
                await wait_all_tasks_blocked()
                [(server, address)] = accepted
                with server:
                    assert isinstance(server, tsocket.SocketType)
                    assert os.get_blocking(server.fileno()) is False
                    assert address == client.getsockname()
                    await client.send(b"ping")
                    assert await server.recv(4) == b"ping"


async def test_listen_with_explicit_backlog() -> None:
    with tsocket.socket() as sock:
        await sock.bind(("127.0.0.1", 0))
        sock.listen(3)
        assert sock.getsockopt(tsocket.SOL_SOCKET, stdlib_socket.SO_ACCEPTCONN) == 1


async def test_connect_to_a_port_nobody_listens_on_is_refused() -> None:
    # A bound but non-listening socket holds the port, so the refusal is certain.
    with tsocket.socket() as holder, tsocket.socket() as client:
        await holder.bind(("127.0.0.1", 0))
        with pytest.raises(ConnectionRefusedError):
            await client.connect(holder.getsockname())
        assert client.fileno() != -1  # an ordinary error leaves the socket open


@needs_ipv6
async def test_tcp_over_ipv6_loopback() -> None:
    client, server = await tcp_pair("::1")
    with client, server:
        assert client.family == tsocket.AF_INET6
        await client.send(b"six")
        assert await server.recv(3) == b"six"
        assert server.getpeername()[:2] == client.getsockname()[:2]


# -- datagrams ----------------------------------------------------------------------------


async def test_udp_sendto_and_recvfrom() -> None:
    with await udp_socket() as a, await udp_socket() as b:
        assert await a.sendto(b"one", b.getsockname()) == 3
        assert await b.recvfrom(100) == (b"one", a.getsockname())
        assert await b.sendto(b"two", 0, a.getsockname()) == 3  # the flags form
        assert await a.recvfrom(100, 0) == (b"two", b.getsockname())


async def test_sendto_takes_one_or_two_arguments_after_data() -> None:
    with await udp_socket() as a:
        with pytest.raises(TypeError):
            await a.sendto(b"x")
        with pytest.raises(TypeError):
            await a.sendto(b"x", 0, a.getsockname(), "extra")


async def test_recvfrom_into() -> None:
    with await udp_socket() as a, await udp_socket() as b:
        await a.sendto(b"datagram", b.getsockname())
        buf = bytearray(16)
        nbytes, sender = await b.recvfrom_into(buf)
        assert (nbytes, bytes(buf[:nbytes]), sender) == (8, b"datagram", a.getsockname())
        await a.sendto(b"datagram", b.getsockname())
        nbytes, _ = await b.recvfrom_into(buf, 4)
        assert (nbytes, bytes(buf[:4])) == (4, b"data")  # the rest of the datagram is lost


async def test_recvfrom_waits_for_a_datagram() -> None:
    got: list[tuple[bytes, Any]] = []
    with await udp_socket() as a, await udp_socket() as b:

        async def reader() -> None:
            got.append(await b.recvfrom(10))

        async with tether.open_nursery() as nursery:
            nursery.start_soon(reader)
            await wait_all_tasks_blocked()
            assert got == []
            await a.sendto(b"hi", b.getsockname())
        assert got == [(b"hi", a.getsockname())]


async def test_empty_host_means_this_machine_when_sending() -> None:
    with await udp_socket() as a, await udp_socket() as b:
        await a.sendto(b"local", ("", b.getsockname()[1]))
        assert await b.recvfrom(10) == (b"local", a.getsockname())


async def test_broadcast_host_is_translated(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Any] = []
    real_getaddrinfo = stdlib_socket.getaddrinfo

    def spy(host: Any, *args: Any) -> Any:
        asked.append(host)
        return real_getaddrinfo(host, *args)

    monkeypatch.setattr(stdlib_socket, "getaddrinfo", spy)
    with tsocket.socket(type=tsocket.SOCK_DGRAM) as sock:
        # No SO_BROADCAST, so the kernel refuses and nothing goes out on the network.
        with pytest.raises(PermissionError):
            await sock.connect(("<broadcast>", 9))
    assert asked == [b"255.255.255.255"]


@needs_ipv6
async def test_udp_over_ipv6() -> None:
    with (
        tsocket.socket(tsocket.AF_INET6, tsocket.SOCK_DGRAM) as a,
        tsocket.socket(tsocket.AF_INET6, tsocket.SOCK_DGRAM) as b,
    ):
        await a.bind(("::1", 0))
        await b.bind(("::1", 0))
        await a.sendto(b"v6", b.getsockname())
        data, sender = await b.recvfrom(10)
        assert (data, sender[:2]) == (b"v6", a.getsockname()[:2])


# -- sendmsg / recvmsg ------------------------------------------------------------------------

needs_msg = pytest.mark.skipif(
    not hasattr(stdlib_socket.socket, "sendmsg"), reason="no sendmsg/recvmsg here"
)


@needs_msg
async def test_sendmsg_gathers_and_recvmsg_reads() -> None:
    a, b = tsocket.socketpair()
    with a, b:
        assert await a.sendmsg([b"ab", b"cd", memoryview(b"ef")]) == 6
        data, ancdata, flags, _ = await b.recvmsg(100)
        assert (data, ancdata, flags) == (b"abcdef", [], 0)


@needs_msg
@needs_unix
async def test_file_descriptors_pass_with_scm_rights() -> None:
    a, b = tsocket.socketpair()
    read_end, write_end = os.pipe()
    try:
        with a, b:
            fds = array.array("i", [read_end])
            await a.sendmsg([b"F"], [(tsocket.SOL_SOCKET, tsocket.SCM_RIGHTS, fds)])
            data, ancdata, _, _ = await b.recvmsg(1, stdlib_socket.CMSG_SPACE(fds.itemsize))
            assert data == b"F"
            [(level, kind, payload)] = ancdata
            assert (level, kind) == (tsocket.SOL_SOCKET, tsocket.SCM_RIGHTS)
            [received] = array.array("i", payload)
            try:
                assert received != read_end
                os.write(write_end, b"through")
                assert os.read(received, 7) == b"through"
            finally:
                os.close(received)
    finally:
        os.close(read_end)
        os.close(write_end)


@needs_msg
async def test_recvmsg_into_scatters() -> None:
    a, b = tsocket.socketpair()
    with a, b:
        await a.send(b"12345")
        first, second = bytearray(2), bytearray(5)
        nbytes, ancdata, flags, _ = await b.recvmsg_into([first, second])
        assert (nbytes, ancdata, flags) == (5, [], 0)
        assert (first, second[:3]) == (bytearray(b"12"), bytearray(b"345"))


@needs_msg
async def test_sendmsg_to_an_address_and_recvmsg_sender() -> None:
    with await udp_socket() as a, await udp_socket() as b:
        assert await a.sendmsg([b"x", b"y"], [], 0, b.getsockname()) == 2
        data, _, _, sender = await b.recvmsg(10)
        assert (data, sender) == (b"xy", a.getsockname())


@needs_msg
async def test_recvmsg_waits_for_data() -> None:
    a, b = tsocket.socketpair()
    got: list[bytes] = []

    async def reader() -> None:
        got.append((await b.recvmsg(10))[0])

    with a, b:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(reader)
            await wait_all_tasks_blocked()
            assert got == []
            await a.sendmsg([b"m"])
        assert got == [b"m"]


# -- unix sockets -------------------------------------------------------------------------------


@needs_unix
@pytest.mark.parametrize("as_type", [str, bytes, Path])
async def test_unix_stream_by_path(sock_path: Path, as_type: type) -> None:
    address: Any = as_type(os.fsencode(sock_path)) if as_type is bytes else as_type(sock_path)
    with tsocket.socket(tsocket.AF_UNIX) as listener, tsocket.socket(tsocket.AF_UNIX) as client:
        await listener.bind(address)
        listener.listen()
        assert sock_path.exists()
        await client.connect(address)
        server, _ = await listener.accept()
        with server:
            await client.send(b"unix")
            assert await server.recv(10) == b"unix"
            assert os.fsdecode(listener.getsockname()) == str(sock_path)


@needs_unix
async def test_unix_datagrams(sock_path: Path) -> None:
    with (
        tsocket.socket(tsocket.AF_UNIX, tsocket.SOCK_DGRAM) as a,
        tsocket.socket(tsocket.AF_UNIX, tsocket.SOCK_DGRAM) as b,
    ):
        await b.bind(sock_path)
        await a.sendto(b"dgram", sock_path)
        data, _ = await b.recvfrom(10)
        assert data == b"dgram"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's backlog rules")
async def test_unix_connect_to_a_full_backlog_raises_instead_of_lying(sock_path: Path) -> None:
    # Linux answers a non-blocking unix connect with EAGAIN when the listener's backlog is
    # full; the socket is then *not* connected, so connect must not report success.
    with (
        tsocket.socket(tsocket.AF_UNIX) as listener,
        tsocket.socket(tsocket.AF_UNIX) as first,
        tsocket.socket(tsocket.AF_UNIX) as second,
    ):
        await listener.bind(sock_path)
        listener.listen(0)  # room for one pending connection
        await first.connect(sock_path)
        with pytest.raises(BlockingIOError):
            await second.connect(sock_path)
        assert second.fileno() != -1
        with pytest.raises(OSError):
            second.getpeername()


@pytest.mark.skipif(not hasattr(stdlib_socket, "AF_NETLINK"), reason="no AF_NETLINK")
async def test_other_families_take_addresses_as_they_are() -> None:
    try:
        sock = tsocket.socket(stdlib_socket.AF_NETLINK, tsocket.SOCK_RAW, 0)  # NETLINK_ROUTE
    except OSError:
        pytest.skip("netlink sockets are not allowed here")
    with sock:
        await sock.bind((0, 0))  # the kernel picks the port id
        port_id, groups = sock.getsockname()
        assert port_id != 0
        assert groups == 0


# -- sendfile -----------------------------------------------------------------------------------


@pytest.fixture
def data_file(tmp_path: Path) -> Iterator[io.BufferedReader]:
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 4)  # 1024 bytes
    with path.open("rb") as file:
        yield file


async def test_sendfile_sends_the_whole_file(data_file: io.BufferedReader) -> None:
    a, b = tsocket.socketpair()
    with a, b:
        assert await a.sendfile(data_file) == 1024
        assert data_file.tell() == 1024
        received = b""
        while len(received) < 1024:
            received += await b.recv(4096)
        assert received == bytes(range(256)) * 4


async def test_sendfile_with_offset_and_count(data_file: io.BufferedReader) -> None:
    a, b = tsocket.socketpair()
    with a, b:
        assert await a.sendfile(data_file, 10, 5) == 5
        assert data_file.tell() == 15
        assert await b.recv(100) == bytes(range(10, 15))
        assert await a.sendfile(data_file, 1020) == 4  # stops at the end of the file
        assert await b.recv(100) == bytes(range(252, 256))


async def test_sendfile_rejects_a_non_positive_count(data_file: io.BufferedReader) -> None:
    a, b = tsocket.socketpair()
    with a, b:
        for count in (0, -1):
            with pytest.raises(ValueError, match="count"):
                await a.sendfile(data_file, 0, count)


async def test_sendfile_of_an_empty_file_sends_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    a, b = tsocket.socketpair()
    with a, b, (tmp_path / "empty").open("rb") as file:
        assert await a.sendfile(file) == 0
        assert file.tell() == 0
        assert not b.is_readable()


async def test_sendfile_falls_back_to_copying_for_in_memory_files() -> None:
    a, b = tsocket.socketpair()
    with a, b:
        source = io.BytesIO(b"0123456789")
        assert await a.sendfile(source, 2, 5) == 5
        assert source.tell() == 7
        assert await b.recv(100) == b"23456"
        assert await a.sendfile(io.BytesIO(b"")) == 0
        assert await a.sendfile(io.BytesIO(b"abc")) == 3
        assert await b.recv(100) == b"abc"


async def test_sendfile_falls_back_when_the_kernel_cannot_sendfile_from_it() -> None:
    # os.sendfile refuses a pipe as its source (EINVAL): the data is copied instead.
    read_end, write_end = os.pipe()
    os.write(write_end, b"piped data")
    os.close(write_end)
    a, b = tsocket.socketpair()
    with a, b, open(read_end, "rb") as source:
        assert await a.sendfile(source) == 10
        assert await b.recv(100) == b"piped data"


async def test_sendfile_waits_for_room_in_the_send_buffer(tmp_path: Path) -> None:
    size = 4 << 20  # more than any socket buffer
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(1024) * (size // 1024))
    a, b = tsocket.socketpair()
    received = bytearray()

    async def reader() -> None:
        while len(received) < size:
            received.extend(await b.recv(1 << 16))

    with a, b, path.open("rb") as file:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(reader)
            assert await a.sendfile(file) == size
        assert file.tell() == size
    assert received == path.read_bytes()


async def test_sendfile_error_midway_is_raised_and_the_file_positioned(
    data_file: io.BufferedReader,
) -> None:
    a, b = tsocket.socketpair()
    with a:
        b.close()
        with pytest.raises(BrokenPipeError):
            await a.sendfile(data_file)
        assert data_file.tell() == 0  # nothing was sent


# -- the synchronous methods ------------------------------------------------------------------


async def test_socket_options() -> None:
    with tsocket.socket() as sock:
        sock.setsockopt(tsocket.SOL_SOCKET, tsocket.SO_REUSEADDR, 1)
        assert sock.getsockopt(tsocket.SOL_SOCKET, tsocket.SO_REUSEADDR) != 0
        sock.setsockopt(tsocket.IPPROTO_TCP, tsocket.TCP_NODELAY, True)
        assert sock.getsockopt(tsocket.IPPROTO_TCP, tsocket.TCP_NODELAY) != 0
        linger = sock.getsockopt(tsocket.SOL_SOCKET, tsocket.SO_LINGER, 8)
        assert isinstance(linger, bytes)
        assert len(linger) == 8
        sock.setsockopt(tsocket.SOL_SOCKET, tsocket.SO_LINGER, linger)  # a buffer value
        assert sock.getsockopt(tsocket.SOL_SOCKET, tsocket.SO_TYPE) == tsocket.SOCK_STREAM


async def test_setsockopt_with_optlen_and_its_misuses() -> None:
    with tsocket.socket() as sock:
        with pytest.raises(TypeError, match="optlen"):
            sock.setsockopt(tsocket.SOL_SOCKET, tsocket.SO_REUSEADDR, None)  # type: ignore[call-overload]
        with pytest.raises(TypeError, match="optlen"):
            sock.setsockopt(tsocket.SOL_SOCKET, tsocket.SO_REUSEADDR, 1, 4)  # type: ignore[call-overload]
        if sys.platform.startswith("linux"):
            # The (None, optlen) form reaches the kernel: it is for options whose value is
            # a NULL pointer with a length; SO_REUSEADDR rejects it, proving it got there.
            with pytest.raises(OSError):
                sock.setsockopt(tsocket.SOL_SOCKET, tsocket.SO_REUSEADDR, None, 4)


async def test_inheritable_flag() -> None:
    with tsocket.socket() as sock:
        assert sock.get_inheritable() is False  # PEP 446
        sock.set_inheritable(True)
        assert sock.get_inheritable() is True
        assert os.get_inheritable(sock.fileno())
        sock.set_inheritable(False)
        assert sock.get_inheritable() is False


async def test_dup_gives_an_independent_tether_socket() -> None:
    a, b = tsocket.socketpair()
    with a, b:
        twin = a.dup()
        assert isinstance(twin, tsocket.SocketType)
        assert twin.fileno() != a.fileno()
        assert (twin.family, twin.type) == (a.family, a.type)
        with twin:
            await twin.send(b"via the duplicate")
            assert await b.recv(100) == b"via the duplicate"
        assert a.fileno() != -1  # closing the duplicate left the original open
        await a.send(b"still here")
        assert await b.recv(100) == b"still here"


async def test_detach_gives_up_the_fd() -> None:
    sock = tsocket.socket()
    fd = sock.detach()
    assert sock.fileno() == -1
    sock.close()  # nothing to close
    os.fstat(fd)  # still open
    with stdlib_socket.socket(fileno=fd) as raw:
        assert raw.family == stdlib_socket.AF_INET


async def test_stdlib_only_methods_are_absent() -> None:
    # Timeouts and blocking mode are replaced by cancellation; makefile and sendall would
    # need a synchronous socket. There is no attribute passthrough to the stdlib socket.
    with tsocket.socket() as sock:
        for name in (
            "setblocking",
            "settimeout",
            "gettimeout",
            "makefile",
            "sendall",
            "recv_fds",
            "_sock_extra",
        ):
            assert not hasattr(sock, name), name
        with pytest.raises(AttributeError):
            sock.anything = 1  # type: ignore[attr-defined]


async def test_addresses_and_metadata() -> None:
    client, server = await tcp_pair()
    with client, server:
        host, port = client.getsockname()
        assert host == "127.0.0.1"
        assert port > 0
        assert client.getpeername() == server.getsockname()
        assert client.proto == 0
        assert repr(client).startswith("<tether.socket.SocketType")


def test_sockets_can_be_made_and_closed_outside_a_run() -> None:
    sock = tsocket.socket(tsocket.AF_INET, tsocket.SOCK_DGRAM)
    a, b = tsocket.socketpair()
    for each in (sock, a, b):
        assert os.get_blocking(each.fileno()) is False
        each.close()
        assert each.fileno() == -1


def test_a_socket_made_outside_a_run_works_in_successive_runs() -> None:
    a, b = tsocket.socketpair()

    async def exchange(payload: bytes) -> bytes:
        await a.send(payload)
        return await b.recv(10)

    with a, b:
        assert tether.run(exchange, b"first") == b"first"
        assert tether.run(exchange, b"second") == b"second"
