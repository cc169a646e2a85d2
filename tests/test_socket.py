"""tether.socket, the module level: re-exports, creating sockets, name resolution, the
resolver and factory hooks, and address handling.

The I/O methods of SocketType are in test_socket_io.py; checkpoints, cancellation and
closing in test_socket_cancel.py. Both import the shared helpers and the fd-leak fixture
from here. Everything runs on loopback: 127.0.0.1, ::1 where the machine has it, and unix
paths under tmp_path.
"""

from __future__ import annotations

import os
import socket as stdlib_socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import tether
import tether.socket as tsocket
from _stream_helpers import fds_left_unchanged, needs_ipv6, needs_unix
from tether.abc import HostnameResolver, SocketFactory
from tether.testing import assert_checkpoints

# -- shared by the test_socket*.py modules -------------------------------------------------


@pytest.fixture(autouse=True)
def no_leaked_fds() -> Iterator[None]:
    """Fail a test that leaves a file descriptor open (where /proc/self/fd exists).

    It is a plain fixture, so it looks before the test's tether.run starts and after it
    ends: the run's own fds are gone by then, and anything left is the test's.
    """
    with fds_left_unchanged():
        yield


class FakeResolver(HostnameResolver):
    """Maps "example.test" to 127.0.0.1 (any other name: EAI_NONAME); counts its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def getaddrinfo(
        self,
        host: bytes | None,
        port: bytes | str | int | None,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[Any]:
        self.calls.append((host, port, family, type, proto, flags))
        await tether.lowlevel.checkpoint()
        if host != b"example.test":
            raise stdlib_socket.gaierror(stdlib_socket.EAI_NONAME, "unknown to FakeResolver")
        return stdlib_socket.getaddrinfo(
            "127.0.0.1", port, family, type, proto, flags | stdlib_socket.AI_NUMERICHOST
        )

    async def getnameinfo(self, sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
        self.calls.append(("getnameinfo", sockaddr, flags))
        await tether.lowlevel.checkpoint()
        return "example.test", str(sockaddr[1])


class FailingResolver(HostnameResolver):
    """A resolver that must never be reached."""

    async def getaddrinfo(self, *args: Any, **kwargs: Any) -> list[Any]:
        pytest.fail(f"the resolver was asked getaddrinfo{args}")

    async def getnameinfo(self, *args: Any, **kwargs: Any) -> tuple[str, str]:
        pytest.fail(f"the resolver was asked getnameinfo{args}")


class RecordingFactory(SocketFactory):
    """Creates real sockets and remembers what it was asked for and what it made."""

    def __init__(self) -> None:
        self.requests: list[tuple[int, int, int]] = []
        self.made: list[tsocket.SocketType] = []

    def socket(self, family: int, type: int, proto: int) -> tsocket.SocketType:
        self.requests.append((family, type, proto))
        sock = tsocket.from_stdlib_socket(stdlib_socket.socket(family, type, proto))
        self.made.append(sock)
        return sock


async def tcp_listener(host: str = "127.0.0.1", family: int = -1) -> tsocket.SocketType:
    """A listening TCP socket on ``host``, an ephemeral port."""
    if family == -1:
        family = stdlib_socket.AF_INET6 if ":" in host else stdlib_socket.AF_INET
    listener = tsocket.socket(family)
    try:
        await listener.bind((host, 0))
        listener.listen()
    except BaseException:
        listener.close()
        raise
    return listener


async def tcp_pair(host: str = "127.0.0.1") -> tuple[tsocket.SocketType, tsocket.SocketType]:
    """A connected (client, server) TCP pair on loopback."""
    with await tcp_listener(host) as listener:
        client = tsocket.socket(listener.family)
        try:
            await client.connect(listener.getsockname())
            server, _ = await listener.accept()
        except BaseException:
            client.close()
            raise
    return client, server


# -- the module's names ---------------------------------------------------------------------


def test_every_stdlib_constant_is_reexported_unchanged() -> None:
    names = [n for n in dir(stdlib_socket) if n[:1].isupper() and n != "SocketType"]
    assert names  # sanity: AF_INET and friends
    missing = [n for n in names if not hasattr(tsocket, n)]
    assert missing == []
    assert all(getattr(tsocket, n) is getattr(stdlib_socket, n) for n in names)


def test_exceptions_and_simple_helpers_are_the_stdlib_ones() -> None:
    for name in ("error", "gaierror", "herror", "timeout", "has_ipv6"):
        assert getattr(tsocket, name) is getattr(stdlib_socket, name)
    for name in (
        "inet_aton",
        "inet_ntoa",
        "inet_pton",
        "inet_ntop",
        "htons",
        "ntohl",
        "gethostname",
        "getprotobyname",
        "if_nametoindex",
        "CMSG_SPACE",
    ):
        assert getattr(tsocket, name) is getattr(stdlib_socket, name)
    assert tsocket.inet_aton("127.0.0.1") == b"\x7f\x00\x00\x01"


def test_blocking_helpers_are_left_out() -> None:
    for name in (
        "create_connection",
        "create_server",
        "gethostbyname",
        "gethostbyname_ex",
        "gethostbyaddr",
        "getfqdn",
        "setdefaulttimeout",
    ):
        assert not hasattr(tsocket, name), name


def test_replaced_names_are_tethers_own() -> None:
    for name in ("socket", "socketpair", "fromfd", "getaddrinfo", "getnameinfo"):
        assert getattr(tsocket, name) is not getattr(stdlib_socket, name, None)
        assert getattr(tsocket, name).__module__.startswith("tether")
    stdlib_type: object = stdlib_socket.SocketType
    assert tsocket.SocketType is not stdlib_type


def test_all_lists_only_existing_names() -> None:
    assert "SocketType" in tsocket.__all__
    assert "set_custom_hostname_resolver" in tsocket.__all__
    assert "AF_INET" in tsocket.__all__
    assert [n for n in tsocket.__all__ if not hasattr(tsocket, n)] == []


def test_hook_interfaces_live_in_tether_abc() -> None:
    assert issubclass(FakeResolver, tether.abc.HostnameResolver)
    assert issubclass(RecordingFactory, tether.abc.SocketFactory)
    with pytest.raises(TypeError):
        HostnameResolver()  # type: ignore[abstract]
    with pytest.raises(TypeError):
        SocketFactory()  # type: ignore[abstract]


# -- creating sockets -------------------------------------------------------------------------


def test_socket_type_cannot_be_constructed_directly() -> None:
    with pytest.raises(TypeError):
        tsocket.SocketType()  # type: ignore[call-arg]
    with stdlib_socket.socket() as raw, pytest.raises(TypeError):
        tsocket.SocketType(raw)


async def test_socket_defaults_to_ipv4_tcp_and_is_non_blocking() -> None:
    with tsocket.socket() as sock:
        assert isinstance(sock, tsocket.SocketType)
        assert sock.family == tsocket.AF_INET
        assert sock.type == tsocket.SOCK_STREAM
        assert sock.proto == 0
        assert os.get_blocking(sock.fileno()) is False
        assert "tether.socket.SocketType" in repr(sock)


async def test_socket_with_explicit_family_type_and_proto() -> None:
    with tsocket.socket(tsocket.AF_INET, tsocket.SOCK_DGRAM, tsocket.IPPROTO_UDP) as sock:
        assert (sock.family, sock.type, sock.proto) == (
            tsocket.AF_INET,
            tsocket.SOCK_DGRAM,
            tsocket.IPPROTO_UDP,
        )
        assert isinstance(sock.family, tsocket.AddressFamily)
        assert isinstance(sock.type, tsocket.SocketKind)


async def test_socket_from_fileno_detects_family_and_type() -> None:
    raw = stdlib_socket.socket(stdlib_socket.AF_INET, stdlib_socket.SOCK_DGRAM)
    raw.bind(("127.0.0.1", 0))
    name = raw.getsockname()
    fd = raw.detach()
    with tsocket.socket(fileno=fd) as sock:
        assert sock.fileno() == fd
        assert sock.family == tsocket.AF_INET
        assert sock.type == tsocket.SOCK_DGRAM
        assert sock.getsockname() == name
        assert os.get_blocking(fd) is False


@needs_unix
async def test_socketpair_defaults_to_a_connected_unix_stream_pair() -> None:
    a, b = tsocket.socketpair()
    with a, b:
        assert a.family == b.family == tsocket.AF_UNIX
        assert a.type == b.type == tsocket.SOCK_STREAM
        assert not os.get_blocking(a.fileno())
        assert not os.get_blocking(b.fileno())
        await a.send(b"ping")
        assert await b.recv(10) == b"ping"


@needs_unix
async def test_socketpair_of_datagrams_keeps_message_boundaries() -> None:
    a, b = tsocket.socketpair(tsocket.AF_UNIX, tsocket.SOCK_DGRAM)
    with a, b:
        assert a.type == tsocket.SOCK_DGRAM
        await a.send(b"one")
        await a.send(b"two")
        assert await b.recv(100) == b"one"
        assert await b.recv(100) == b"two"


async def test_fromfd_duplicates_the_descriptor() -> None:
    with stdlib_socket.socket() as raw:
        raw.bind(("127.0.0.1", 0))
        with tsocket.fromfd(raw.fileno(), tsocket.AF_INET, tsocket.SOCK_STREAM) as sock:
            assert sock.fileno() != raw.fileno()
            assert sock.getsockname() == raw.getsockname()
            assert os.get_blocking(sock.fileno()) is False
        assert raw.fileno() != -1  # closing the duplicate left the original open
        assert raw.getsockname()[0] == "127.0.0.1"


async def test_from_stdlib_socket_takes_ownership_and_makes_it_non_blocking() -> None:
    raw = stdlib_socket.socket()
    assert raw.getblocking()
    sock = tsocket.from_stdlib_socket(raw)
    assert sock.fileno() == raw.fileno()
    assert raw.getblocking() is False
    assert raw.gettimeout() == 0.0
    sock.close()
    assert raw.fileno() == -1


def test_from_stdlib_socket_rejects_other_objects() -> None:
    with pytest.raises(TypeError):
        tsocket.from_stdlib_socket(3)  # type: ignore[arg-type]
    a, b = tsocket.socketpair()
    with a, b, pytest.raises(TypeError):
        tsocket.from_stdlib_socket(a)  # type: ignore[arg-type]


async def test_sockets_are_context_managers_and_close_is_idempotent() -> None:
    with tsocket.socket() as sock:
        assert sock.fileno() != -1
    assert sock.fileno() == -1
    sock.close()  # again: nothing happens
    assert sock.fileno() == -1


# -- the socket factory hook ------------------------------------------------------------------


async def test_socket_factory_creates_the_sockets_and_sees_resolved_defaults() -> None:
    factory = RecordingFactory()
    assert tsocket.set_custom_socket_factory(factory) is None
    with tsocket.socket() as s1, tsocket.socket(tsocket.AF_INET, tsocket.SOCK_DGRAM) as s2:
        assert factory.made == [s1, s2]
        assert factory.requests == [
            (tsocket.AF_INET, tsocket.SOCK_STREAM, 0),
            (tsocket.AF_INET, tsocket.SOCK_DGRAM, 0),
        ]
    assert tsocket.set_custom_socket_factory(None) is factory
    with tsocket.socket():
        assert len(factory.made) == 2  # the default is back


async def test_socket_factory_is_bypassed_by_fileno_and_socketpair() -> None:
    factory = RecordingFactory()
    tsocket.set_custom_socket_factory(factory)
    raw = stdlib_socket.socket()
    with tsocket.socket(fileno=raw.detach()):
        pass
    a, b = tsocket.socketpair()
    a.close()
    b.close()
    assert factory.requests == []


def test_hooks_must_implement_the_interfaces() -> None:
    async def main() -> None:
        with pytest.raises(TypeError):
            tsocket.set_custom_socket_factory(object())  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            tsocket.set_custom_hostname_resolver(object())  # type: ignore[arg-type]
        assert tsocket.set_custom_socket_factory(None) is None
        assert tsocket.set_custom_hostname_resolver(None) is None

    tether.run(main)


def test_hooks_belong_to_one_run() -> None:
    async def install() -> tuple[object, object]:
        return (
            tsocket.set_custom_hostname_resolver(FakeResolver()),
            tsocket.set_custom_socket_factory(RecordingFactory()),
        )

    assert tether.run(install) == (None, None)
    assert tether.run(install) == (None, None)  # the first run's hooks did not leak over


# -- getaddrinfo and getnameinfo -------------------------------------------------------------


async def test_getaddrinfo_of_a_numeric_host_matches_the_stdlib_and_is_a_checkpoint() -> None:
    with assert_checkpoints():
        infos = await tsocket.getaddrinfo("127.0.0.1", 80, tsocket.AF_INET, tsocket.SOCK_STREAM)
    assert infos == stdlib_socket.getaddrinfo(
        "127.0.0.1", 80, stdlib_socket.AF_INET, stdlib_socket.SOCK_STREAM
    )
    assert infos[0][-1] == ("127.0.0.1", 80)


@pytest.mark.parametrize(
    ("host", "port", "family"),
    [
        ("127.0.0.1", 80, 0),
        (b"127.0.0.1", "80", 0),
        ("::1", 443, 0),
        (None, 8080, tsocket.AF_INET),
        ("127.0.0.1", None, tsocket.AF_INET),
    ],
)
async def test_numeric_hosts_never_reach_the_resolver(
    host: str | bytes | None, port: int | str | None, family: int
) -> None:
    tsocket.set_custom_hostname_resolver(FailingResolver())
    infos = await tsocket.getaddrinfo(host, port, family, tsocket.SOCK_STREAM)
    assert infos == stdlib_socket.getaddrinfo(host, port, family, stdlib_socket.SOCK_STREAM)


async def test_numeric_host_of_the_wrong_family_fails_without_the_resolver() -> None:
    tsocket.set_custom_hostname_resolver(FailingResolver())
    with pytest.raises(tsocket.gaierror):
        await tsocket.getaddrinfo("127.0.0.1", 80, tsocket.AF_INET6)


async def test_numeric_lookup_stays_on_the_loop_thread_and_names_go_to_a_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_getaddrinfo = stdlib_socket.getaddrinfo
    callers: list[tuple[object, int]] = []

    def spy(host: Any, *args: Any, **kwargs: Any) -> Any:
        callers.append((host, threading.get_ident()))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(stdlib_socket, "getaddrinfo", spy)
    loop_thread = threading.get_ident()

    await tsocket.getaddrinfo("127.0.0.1", 80)
    assert callers
    assert {ident for _, ident in callers} == {loop_thread}

    callers.clear()
    infos = await tsocket.getaddrinfo("localhost", 80, tsocket.AF_INET, tsocket.SOCK_STREAM)
    assert ("127.0.0.1", 80) in [info[-1] for info in infos]
    assert any(ident != loop_thread for _, ident in callers), callers


async def test_cancelled_lookup_abandons_the_worker_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_getaddrinfo = stdlib_socket.getaddrinfo
    loop_thread = threading.get_ident()
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def stuck_resolver(host: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() == loop_thread:
            return real_getaddrinfo(host, *args, **kwargs)  # the numeric attempt
        started.set()
        release.wait(10)
        finished.set()
        return []

    monkeypatch.setattr(stdlib_socket, "getaddrinfo", stuck_resolver)
    results: list[object] = []

    async def lookup(scope: tether.CancelScope) -> None:
        with scope:
            results.append(await tsocket.getaddrinfo("stuck.test", 80))

    scope = tether.CancelScope()
    try:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(lookup, scope)
            assert await tether.to_thread.run_sync(started.wait, 10)
            scope.cancel()
        assert scope.cancelled_caught
        assert results == []
        assert not finished.is_set()  # the lookup returned while its thread still ran
    finally:
        release.set()
    assert await tether.to_thread.run_sync(finished.wait, 10)


async def test_getaddrinfo_cancelled_before_the_call_does_not_resolve() -> None:
    resolver = FakeResolver()
    tsocket.set_custom_hostname_resolver(resolver)
    with tether.CancelScope() as scope:
        scope.cancel()
        await tsocket.getaddrinfo("example.test", 80)
    assert scope.cancelled_caught
    assert resolver.calls == []
    with tether.CancelScope() as scope:
        scope.cancel()
        await tsocket.getaddrinfo("127.0.0.1", 80)
    assert scope.cancelled_caught


async def test_resolver_gets_names_idna_encoded_and_its_answer_is_returned() -> None:
    resolver = FakeResolver()
    assert tsocket.set_custom_hostname_resolver(resolver) is None
    infos = await tsocket.getaddrinfo("example.test", 80, tsocket.AF_INET, tsocket.SOCK_STREAM)
    assert [info[-1] for info in infos] == [("127.0.0.1", 80)]
    with pytest.raises(tsocket.gaierror):
        await tsocket.getaddrinfo("bücher.test", "http", 0, 0, 0, tsocket.AI_CANONNAME)
    with pytest.raises(tsocket.gaierror):
        await tsocket.getaddrinfo(b"bytes.test", 81)
    assert resolver.calls == [
        (b"example.test", 80, tsocket.AF_INET, tsocket.SOCK_STREAM, 0, 0),
        (b"xn--bcher-kva.test", "http", 0, 0, 0, tsocket.AI_CANONNAME),
        (b"bytes.test", 81, 0, 0, 0, 0),
    ]
    assert tsocket.set_custom_hostname_resolver(None) is resolver


async def test_getaddrinfo_rejects_a_host_of_the_wrong_type() -> None:
    with pytest.raises(TypeError):
        await tsocket.getaddrinfo(127001, 80)  # type: ignore[arg-type]


async def test_localhost_resolves_through_the_default_resolver() -> None:
    infos = await tsocket.getaddrinfo("localhost", 80, tsocket.AF_INET, tsocket.SOCK_STREAM)
    assert ("127.0.0.1", 80) in [info[-1] for info in infos]


@needs_ipv6
@pytest.mark.parametrize("host", ["::1%1", "fe80::1%1", "fe80::1%lo", "::1"])
async def test_scope_ids_are_handled_as_the_stdlib_does(host: str) -> None:
    def stdlib_answer() -> object:
        try:
            return stdlib_socket.getaddrinfo(host, 80, stdlib_socket.AF_INET6)
        except stdlib_socket.gaierror as exc:
            return ("gaierror", exc.errno)

    try:
        ours: object = await tsocket.getaddrinfo(host, 80, tsocket.AF_INET6)
    except tsocket.gaierror as exc:
        ours = ("gaierror", exc.errno)
    assert ours == stdlib_answer()


async def test_getnameinfo_numeric_and_through_the_resolver() -> None:
    flags = tsocket.NI_NUMERICHOST | tsocket.NI_NUMERICSERV
    with assert_checkpoints():
        assert await tsocket.getnameinfo(("127.0.0.1", 80), flags) == ("127.0.0.1", "80")
    resolver = FakeResolver()
    tsocket.set_custom_hostname_resolver(resolver)
    assert await tsocket.getnameinfo(("127.0.0.1", 80), 0) == ("example.test", "80")
    assert resolver.calls == [("getnameinfo", ("127.0.0.1", 80), 0)]


async def test_getnameinfo_cancelled_before_the_call() -> None:
    resolver = FakeResolver()
    tsocket.set_custom_hostname_resolver(resolver)
    with tether.CancelScope() as scope:
        scope.cancel()
        await tsocket.getnameinfo(("127.0.0.1", 80), 0)
    assert scope.cancelled_caught
    assert resolver.calls == []


# -- addresses given to bind / connect / sendto -----------------------------------------------


async def test_connect_to_localhost_by_name() -> None:
    with await tcp_listener() as listener, tsocket.socket() as client:
        await client.connect(("localhost", listener.getsockname()[1]))
        server, address = await listener.accept()
        with server:
            assert client.getpeername() == listener.getsockname()
            assert address == client.getsockname()


async def test_hostnames_are_resolved_once_through_the_resolver() -> None:
    resolver = FakeResolver()
    tsocket.set_custom_hostname_resolver(resolver)
    with await tcp_listener() as listener, tsocket.socket() as client:
        port = listener.getsockname()[1]
        await client.connect(("example.test", port))
        assert client.getpeername() == ("127.0.0.1", port)
        server, _ = await listener.accept()
        server.close()
    assert len(resolver.calls) == 1
    host, asked_port, family, type_, _, _ = resolver.calls[0]
    assert (host, asked_port, family, type_) == (
        b"example.test",
        port,
        tsocket.AF_INET,
        tsocket.SOCK_STREAM,
    )


async def test_bind_and_sendto_resolve_names_too() -> None:
    resolver = FakeResolver()
    tsocket.set_custom_hostname_resolver(resolver)
    with tsocket.socket(type=tsocket.SOCK_DGRAM) as a, tsocket.socket(type=tsocket.SOCK_DGRAM) as b:
        await a.bind(("example.test", 0))
        assert a.getsockname()[0] == "127.0.0.1"
        assert resolver.calls[-1][-1] & tsocket.AI_PASSIVE  # a local address
        await b.bind(("127.0.0.1", 0))
        assert len(resolver.calls) == 1  # the numeric one did not ask
        await b.sendto(b"hi", ("example.test", a.getsockname()[1]))
        assert len(resolver.calls) == 2
        assert await a.recvfrom(10) == (b"hi", b.getsockname())


async def test_numeric_addresses_never_reach_the_resolver() -> None:
    tsocket.set_custom_hostname_resolver(FailingResolver())
    with await tcp_listener() as listener, tsocket.socket() as client:
        await client.connect(listener.getsockname())
        server, _ = await listener.accept()
        server.close()


async def test_a_name_that_resolves_to_nothing_is_an_error() -> None:
    class EmptyResolver(FakeResolver):
        async def getaddrinfo(self, *args: Any, **kwargs: Any) -> list[Any]:
            return []

    tsocket.set_custom_hostname_resolver(EmptyResolver())
    with tsocket.socket() as sock:
        with pytest.raises(OSError, match=r"nowhere\.test"):
            await sock.connect(("nowhere.test", 80))
        with pytest.raises(OSError, match=r"nowhere\.test"):
            await sock.bind(("nowhere.test", 0))


async def test_resolver_errors_reach_the_caller_and_leave_the_socket_open() -> None:
    tsocket.set_custom_hostname_resolver(FakeResolver())
    with tsocket.socket() as sock:
        with pytest.raises(tsocket.gaierror):
            await sock.connect(("unknown.test", 80))
        assert sock.fileno() != -1


@pytest.mark.parametrize("address", ["127.0.0.1:80", ["127.0.0.1", 80], 80, None])
async def test_non_tuple_inet_address_is_a_type_error(address: object) -> None:
    with tsocket.socket() as sock:
        with pytest.raises(TypeError, match="tuple"):
            await sock.bind(address)
        with pytest.raises(TypeError, match="tuple"):
            await sock.connect(address)
        assert sock.fileno() != -1
    with tsocket.socket(type=tsocket.SOCK_DGRAM) as sock, pytest.raises(TypeError):
        await sock.sendto(b"x", address)


@pytest.mark.parametrize(
    ("family", "address"),
    [
        (tsocket.AF_INET, ("127.0.0.1",)),
        (tsocket.AF_INET, ("127.0.0.1", 80, 0)),
        (tsocket.AF_INET, ()),
        (tsocket.AF_INET6, ("::1",)),
        (tsocket.AF_INET6, ("::1", 80, 0, 0, 0)),
    ],
)
async def test_wrong_tuple_length_is_a_value_error(
    family: int, address: tuple[object, ...]
) -> None:
    if family == tsocket.AF_INET6 and not stdlib_socket.has_ipv6:
        pytest.skip("no IPv6")
    with tsocket.socket(family) as sock:
        with pytest.raises(ValueError, match="address"):
            await sock.bind(address)
        with pytest.raises(ValueError, match="address"):
            await sock.connect(address)
        assert sock.fileno() != -1


@needs_ipv6
async def test_ipv6_addresses_take_flowinfo_and_scope_id() -> None:
    with (
        tsocket.socket(tsocket.AF_INET6, tsocket.SOCK_DGRAM) as a,
        tsocket.socket(tsocket.AF_INET6, tsocket.SOCK_DGRAM) as b,
    ):
        await a.bind(("::1", 0, 0, 0))
        await b.bind(("::1%1", 0))
        raw = stdlib_socket.socket(stdlib_socket.AF_INET6, stdlib_socket.SOCK_DGRAM)
        with raw:
            raw.bind(("::1%1", 0))
            assert raw.getsockname()[0::2] == b.getsockname()[0::2]  # host and flowinfo
        host, port, flowinfo, scope_id = a.getsockname()
        assert (host, flowinfo, scope_id) == ("::1", 0, 0)
        await b.sendto(b"v6", ("::1", port, 0, 0))
        data, sender = await a.recvfrom(10)
        assert (data, sender[:2]) == (b"v6", b.getsockname()[:2])
