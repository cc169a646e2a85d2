"""open_tcp_stream (happy eyeballs, RFC 8305) and open_tcp_listeners.

Happy eyeballs runs against a fake network under the autojump clock. The custom resolver
answers "eyeballs.test" with one address per route of the scenario, each a *name*
(``("route-a", port)``). The socket factory always makes real IPv4 sockets, so when an
attempt connects, ``SocketType.connect`` has that name resolved, through the same fake
resolver: that is where the route's delay is slept (in virtual time) and where it fails,
or, for a route that works, turns into the address of a real listener on 127.0.0.1. So
every attempt is a real socket, its start time and its fate are the scenario's, and the
winner is a real connection.
"""

from __future__ import annotations

import errno
import socket as stdlib_socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import tether
from _stream_helpers import (
    has_ipv6_loopback,
    no_leaked_fds,  # noqa: F401  (a fixture, used through pytestmark)
)
from tether.abc import HostnameResolver, SocketFactory
from tether.testing import MockClock

pytestmark = pytest.mark.usefixtures("no_leaked_fds")

HOST = "eyeballs.test"
V4 = stdlib_socket.AF_INET
V6 = stdlib_socket.AF_INET6


@dataclass
class Route:
    """One address of the scenario: its family, how long connecting takes, and whether
    it succeeds then (or fails with ECONNREFUSED)."""

    delay: float
    ok: bool
    family: int = V4


class FakeNet(HostnameResolver):
    def __init__(self, routes: dict[str, Route], listen_port: int) -> None:
        self.routes = routes
        self.listen_port = listen_port
        self.started: list[tuple[str, float]] = []  # (route, virtual time) per attempt
        self.finished: list[tuple[str, float, bool]] = []

    async def getaddrinfo(
        self,
        host: bytes | None,
        port: bytes | str | int | None,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[Any]:
        assert host is not None
        name = host.decode()
        if name == HOST:
            return [
                (route.family, stdlib_socket.SOCK_STREAM, stdlib_socket.IPPROTO_TCP, "", (n, port))
                for n, route in self.routes.items()
            ]
        route = self.routes[name]  # a connect attempt: the scenario decides
        self.started.append((name, tether.current_time()))
        await tether.sleep(route.delay)
        self.finished.append((name, tether.current_time(), route.ok))
        if not route.ok:
            raise OSError(errno.ECONNREFUSED, f"{name} refused")
        return [(V4, stdlib_socket.SOCK_STREAM, 0, "", ("127.0.0.1", self.listen_port))]

    async def getnameinfo(self, sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
        raise NotImplementedError


class HookedSocket(stdlib_socket.socket):
    """A real socket that calls ``hook`` when connect() reads back SO_ERROR, i.e. right
    after the connection completed."""

    hook: Callable[[], None] | None = None

    def getsockopt(self, *args: Any) -> Any:
        if args[:2] == (stdlib_socket.SOL_SOCKET, stdlib_socket.SO_ERROR) and self.hook:
            self.hook()
        return super().getsockopt(*args)


class FakeFactory(SocketFactory):
    """Records the families asked for; always makes a real IPv4 TCP socket."""

    def __init__(self) -> None:
        self.families: list[int] = []
        self.made: list[tether.socket.SocketType] = []
        self.hook: Callable[[], None] | None = None

    def socket(self, family: int, type: int, proto: int) -> tether.socket.SocketType:
        self.families.append(family)
        raw = HookedSocket(V4, stdlib_socket.SOCK_STREAM)
        raw.hook = self.hook
        sock = tether.socket.from_stdlib_socket(raw)
        self.made.append(sock)
        return sock

    def closed(self) -> list[bool]:
        return [sock.fileno() == -1 for sock in self.made]


@dataclass
class Scenario:
    net: FakeNet
    factory: FakeFactory
    listener: tether.SocketListener

    def start_times(self) -> dict[str, float]:
        return dict(self.net.started)


async def scenario(routes: dict[str, Route]) -> Scenario:
    [listener] = await tether.open_tcp_listeners(0, host="127.0.0.1")
    net = FakeNet(routes, listener.socket.getsockname()[1])
    factory = FakeFactory()
    tether.socket.set_custom_hostname_resolver(net)
    tether.socket.set_custom_socket_factory(factory)
    return Scenario(net, factory, listener)


async def check_winner(s: Scenario, stream: tether.SocketStream, route: str) -> None:
    """``stream`` is the connection the scenario's ``route`` made; the rest are closed."""
    winner = s.factory.made[[name for name, _ in s.net.started].index(route)]
    assert stream.socket is winner
    assert s.factory.closed() == [sock is not winner for sock in s.factory.made]
    async with stream, s.listener:
        server = await s.listener.accept()
        async with server:
            await stream.send_all(b"hello")
            assert await server.receive_some() == b"hello"


# -- happy eyeballs ----------------------------------------------------------------------------


async def test_single_address(autojump_clock: MockClock) -> None:
    s = await scenario({"a": Route(0.1, ok=True)})
    stream = await tether.open_tcp_stream(HOST, 80)
    assert s.net.started == [("a", 0.0)]
    assert tether.current_time() == pytest.approx(0.1)
    await check_winner(s, stream, "a")


async def test_a_quick_first_attempt_starts_no_other(autojump_clock: MockClock) -> None:
    s = await scenario({"a": Route(0.2, ok=True), "b": Route(0, ok=True)})
    stream = await tether.open_tcp_stream(HOST, 80)  # 0.2 < the default delay, 0.25
    assert s.start_times() == {"a": 0.0}
    assert len(s.factory.made) == 1
    await check_winner(s, stream, "a")


async def test_attempts_are_staggered_and_the_first_to_connect_wins(
    autojump_clock: MockClock,
) -> None:
    s = await scenario(
        {"a": Route(1.0, ok=True), "b": Route(1.0, ok=True), "c": Route(0.2, ok=True)}
    )
    stream = await tether.open_tcp_stream(HOST, 80, happy_eyeballs_delay=0.25)
    assert s.start_times() == pytest.approx({"a": 0.0, "b": 0.25, "c": 0.5})
    assert tether.current_time() == pytest.approx(0.7)
    # a and b were still connecting: cancelled, and their sockets closed.
    assert [name for name, _, _ in s.net.finished] == ["c"]
    await check_winner(s, stream, "c")


async def test_a_failure_starts_the_next_attempt_at_once(autojump_clock: MockClock) -> None:
    s = await scenario(
        {"a": Route(0.1, ok=False), "b": Route(0.05, ok=False), "c": Route(0.3, ok=True)}
    )
    stream = await tether.open_tcp_stream(HOST, 80, happy_eyeballs_delay=10)
    assert s.start_times() == pytest.approx({"a": 0.0, "b": 0.1, "c": 0.15})
    assert tether.current_time() == pytest.approx(0.45)
    await check_winner(s, stream, "c")


async def test_an_early_attempt_can_still_win(autojump_clock: MockClock) -> None:
    # Staggering does not give up on earlier attempts: the slow first one wins here.
    s = await scenario(
        {"a": Route(0.3, ok=True), "b": Route(5, ok=True), "c": Route(0.01, ok=False)}
    )
    stream = await tether.open_tcp_stream(HOST, 80, happy_eyeballs_delay=0.1)
    assert s.start_times() == pytest.approx({"a": 0.0, "b": 0.1, "c": 0.2})
    assert tether.current_time() == pytest.approx(0.3)
    await check_winner(s, stream, "a")


async def test_without_staggering_attempts_run_one_at_a_time(autojump_clock: MockClock) -> None:
    s = await scenario({"a": Route(5, ok=False), "b": Route(1, ok=True)})
    stream = await tether.open_tcp_stream(HOST, 80, happy_eyeballs_delay=None)
    assert s.start_times() == pytest.approx({"a": 0.0, "b": 5.0})
    assert tether.current_time() == pytest.approx(6.0)
    await check_winner(s, stream, "b")


async def test_zero_delay_starts_everything_at_once(autojump_clock: MockClock) -> None:
    s = await scenario({"a": Route(3, ok=True), "b": Route(2, ok=True), "c": Route(1, ok=True)})
    stream = await tether.open_tcp_stream(HOST, 80, happy_eyeballs_delay=0)
    assert s.start_times() == {"a": 0.0, "b": 0.0, "c": 0.0}
    await check_winner(s, stream, "c")


async def test_families_are_interleaved(autojump_clock: MockClock) -> None:
    # RFC 8305 section 4: alternate families, starting with the resolver's first answer.
    routes = {
        "v6-a": Route(1, ok=False, family=V6),
        "v6-b": Route(1, ok=False, family=V6),
        "v6-c": Route(1, ok=False, family=V6),
        "v4-a": Route(1, ok=False),
        "v4-b": Route(0.1, ok=True),
    }
    s = await scenario(routes)
    stream = await tether.open_tcp_stream(HOST, 80, happy_eyeballs_delay=0.25)
    assert [name for name, _ in s.net.started] == ["v6-a", "v4-a", "v6-b", "v4-b"]
    assert s.factory.families == [V6, V4, V6, V4]
    await check_winner(s, stream, "v4-b")


async def test_interleaving_when_the_first_family_runs_out(autojump_clock: MockClock) -> None:
    routes = {
        "v4-a": Route(1, ok=False),
        "v6-a": Route(1, ok=False, family=V6),
        "v6-b": Route(1, ok=False, family=V6),
        "v6-c": Route(0.1, ok=True, family=V6),
    }
    s = await scenario(routes)
    stream = await tether.open_tcp_stream(HOST, 80, happy_eyeballs_delay=0.25)
    assert [name for name, _ in s.net.started] == ["v4-a", "v6-a", "v6-b", "v6-c"]
    await check_winner(s, stream, "v6-c")


async def test_a_tie_has_one_winner(autojump_clock: MockClock) -> None:
    # Two attempts connect in the same instant: the first to report wins, the other's
    # socket is closed although it connected.
    s = await scenario({"a": Route(1, ok=True), "b": Route(1, ok=True)})
    stream = await tether.open_tcp_stream(HOST, 80, happy_eyeballs_delay=0)
    assert sorted(name for name, _, _ in s.net.finished) == ["a", "b"]
    assert s.factory.closed().count(True) == 1
    assert stream.socket in s.factory.made
    async with stream, s.listener:
        pass


async def test_every_attempt_failing_reports_every_error(autojump_clock: MockClock) -> None:
    s = await scenario(
        {"a": Route(0.5, ok=False), "b": Route(0.1, ok=False), "c": Route(0.3, ok=False)}
    )
    async with s.listener:
        with pytest.raises(OSError, match=r"all connection attempts to 'eyeballs.test':80") as info:
            await tether.open_tcp_stream(HOST, 80, happy_eyeballs_delay=0.25)
    group = info.value.__cause__
    assert isinstance(group, ExceptionGroup)
    # In the order the attempts failed: b at 0.35, a at 0.5, c at 0.65.
    assert [str(e) for e in group.exceptions] == [
        f"[Errno {errno.ECONNREFUSED}] b refused",
        f"[Errno {errno.ECONNREFUSED}] a refused",
        f"[Errno {errno.ECONNREFUSED}] c refused",
    ]
    assert all(isinstance(e, ConnectionRefusedError) for e in group.exceptions)
    assert s.factory.closed() == [True, True, True]


async def test_no_addresses(autojump_clock: MockClock) -> None:
    s = await scenario({})
    async with s.listener:
        with pytest.raises(OSError, match="no addresses"):
            await tether.open_tcp_stream(HOST, 80)
    assert s.factory.made == []


async def test_cancelling_closes_every_attempt(autojump_clock: MockClock) -> None:
    s = await scenario({"a": Route(10, ok=True), "b": Route(10, ok=True)})
    async with s.listener:
        with tether.move_on_after(1) as scope:
            await tether.open_tcp_stream(HOST, 80)
        assert scope.cancelled_caught
    assert s.factory.closed() == [True, True]


async def test_cancelled_just_as_an_attempt_wins(autojump_clock: MockClock) -> None:
    # The caller is cancelled while the winning attempt completes: nothing is returned,
    # so nothing may stay open, the winner included.
    s = await scenario({"a": Route(0.1, ok=True)})
    async with s.listener:
        with tether.CancelScope() as scope:
            s.factory.hook = scope.cancel
            await tether.open_tcp_stream(HOST, 80)
        assert scope.cancelled_caught
    assert s.factory.closed() == [True]


# -- the real thing ----------------------------------------------------------------------------


async def test_connects_over_loopback() -> None:
    [listener] = await tether.open_tcp_listeners(0, host="127.0.0.1")
    async with listener:
        port = listener.socket.getsockname()[1]
        async with await tether.open_tcp_stream("127.0.0.1", port) as client:
            server = await listener.accept()
            async with server:
                assert client.socket.getpeername() == ("127.0.0.1", port)
                await server.send_all(b"hi")
                assert await client.receive_some() == b"hi"


async def test_connects_over_ipv6_loopback() -> None:
    if not has_ipv6_loopback():
        pytest.skip("no IPv6 loopback (::1)")
    [listener] = await tether.open_tcp_listeners(0, host="::1")
    async with listener:
        port = listener.socket.getsockname()[1]
        async with await tether.open_tcp_stream(b"::1", port) as client:
            server = await listener.accept()
            await server.aclose()
            assert client.socket.family == V6


async def test_local_address() -> None:
    [listener] = await tether.open_tcp_listeners(0, host="127.0.0.1")
    async with listener:
        port = listener.socket.getsockname()[1]
        stream = await tether.open_tcp_stream("127.0.0.1", port, local_address="127.0.0.1")
        async with stream, await listener.accept() as server:
            assert stream.socket.getsockname()[0] == "127.0.0.1"
            assert server.socket.getpeername() == stream.socket.getsockname()
            no_port = getattr(stdlib_socket, "IP_BIND_ADDRESS_NO_PORT", None)
            if no_port is not None:
                # The port is picked at connect time, not by bind (saves ports).
                assert stream.getsockopt(stdlib_socket.IPPROTO_IP, no_port) == 1


async def test_a_local_address_that_is_not_ours() -> None:
    [listener] = await tether.open_tcp_listeners(0, host="127.0.0.1")
    async with listener:
        port = listener.socket.getsockname()[1]
        # 192.0.2.1 (TEST-NET-1) belongs to no local interface.
        with pytest.raises(OSError, match="all connection attempts") as info:
            await tether.open_tcp_stream("127.0.0.1", port, local_address="192.0.2.1")
    group = info.value.__cause__
    assert isinstance(group, ExceptionGroup)
    [error] = group.exceptions
    assert "cannot bind to local address '192.0.2.1'" in str(error)
    assert isinstance(error, OSError)
    assert error.errno == errno.EADDRNOTAVAIL
    assert isinstance(error.__cause__, OSError)


async def test_connection_refused() -> None:
    with stdlib_socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once probe closes (nobody listens on it)
    with pytest.raises(OSError, match="all connection attempts") as info:
        await tether.open_tcp_stream("127.0.0.1", port)
    group = info.value.__cause__
    assert isinstance(group, ExceptionGroup)
    [error] = group.exceptions
    assert isinstance(error, ConnectionRefusedError)


async def test_invalid_arguments() -> None:
    with pytest.raises(TypeError, match="host must be str or bytes"):
        await tether.open_tcp_stream(None, 80)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="port must be an int"):
        await tether.open_tcp_stream("127.0.0.1", "80")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="happy_eyeballs_delay"):
        await tether.open_tcp_stream("127.0.0.1", 80, happy_eyeballs_delay=-1)


# -- open_tcp_listeners ------------------------------------------------------------------------


class ListenRecorder(stdlib_socket.socket):
    backlogs: list[int]

    def listen(self, backlog: int = 0, /) -> None:
        self.backlogs.append(backlog)
        super().listen(backlog)


class RecordingFactory(SocketFactory):
    """Real sockets that record listen()'s backlog; ``refuse`` maps a family to the
    errno its creation fails with."""

    def __init__(self, refuse: dict[int, int] | None = None) -> None:
        self.refuse = refuse or {}
        self.backlogs: list[int] = []
        self.made: list[tether.socket.SocketType] = []

    def socket(self, family: int, type: int, proto: int) -> tether.socket.SocketType:
        if family in self.refuse:
            raise OSError(self.refuse[family], f"no sockets of family {family}")
        raw = ListenRecorder(family, type, proto)
        raw.backlogs = self.backlogs
        sock = tether.socket.from_stdlib_socket(raw)
        self.made.append(sock)
        return sock


async def close_all(listeners: list[tether.SocketListener]) -> None:
    for listener in listeners:
        await listener.aclose()


async def test_listeners_on_every_family_by_default() -> None:
    listeners = await tether.open_tcp_listeners(0)
    try:
        families = {listener.socket.family for listener in listeners}
        expected = {stdlib_socket.AF_INET}
        if stdlib_socket.has_ipv6 and has_ipv6_loopback():
            expected.add(V6)
        assert families == expected
        for listener in listeners:
            sock = listener.socket
            assert sock.type == stdlib_socket.SOCK_STREAM
            assert sock.getsockname()[0] in ("0.0.0.0", "::")
            assert sock.getsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_REUSEADDR)
            assert sock.getsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_ACCEPTCONN)
            if sock.family == V6:
                # IPv6-only, so that an IPv4 listener can have the same port.
                assert sock.getsockopt(stdlib_socket.IPPROTO_IPV6, stdlib_socket.IPV6_V6ONLY)
        # Reachable through loopback.
        v4 = next(listener for listener in listeners if listener.socket.family == V4)
        port = v4.socket.getsockname()[1]
        async with await tether.open_tcp_stream("127.0.0.1", port) as client:
            async with await v4.accept() as server:
                await client.send_all(b"x")
                assert await server.receive_some() == b"x"
    finally:
        await close_all(listeners)


async def test_listeners_on_one_host() -> None:
    listeners = await tether.open_tcp_listeners(0, host="127.0.0.1")
    try:
        [listener] = listeners
        assert listener.socket.getsockname()[0] == "127.0.0.1"
        assert listener.socket.getsockname()[1] != 0
    finally:
        await close_all(listeners)


async def test_listener_backlog() -> None:
    factory = RecordingFactory()
    tether.socket.set_custom_socket_factory(factory)
    await close_all(await tether.open_tcp_listeners(0, host="127.0.0.1"))
    await close_all(await tether.open_tcp_listeners(0, host="127.0.0.1", backlog=7))
    # By default as large as the kernel allows (it caps the number at somaxconn).
    assert factory.backlogs == [0xFFFF, 7]


async def test_listener_families_the_system_lacks_are_skipped() -> None:
    factory = RecordingFactory(refuse={V6: errno.EAFNOSUPPORT})
    tether.socket.set_custom_socket_factory(factory)
    listeners = await tether.open_tcp_listeners(0)
    try:
        assert [listener.socket.family for listener in listeners] == [V4]
    finally:
        await close_all(listeners)


async def test_listeners_with_no_family_supported() -> None:
    factory = RecordingFactory(refuse={V4: errno.EAFNOSUPPORT, V6: errno.EAFNOSUPPORT})
    tether.socket.set_custom_socket_factory(factory)
    with pytest.raises(OSError, match="could not listen on any address") as info:
        await tether.open_tcp_listeners(0)
    assert info.value.errno == errno.EAFNOSUPPORT
    assert isinstance(info.value.__cause__, ExceptionGroup)


async def test_listener_errors_close_what_was_opened() -> None:
    if not (stdlib_socket.has_ipv6 and has_ipv6_loopback()):
        pytest.skip("needs both IPv4 and IPv6 wildcard addresses")
    # One family works, the other fails for a reason that is not "unsupported".
    infos = stdlib_socket.getaddrinfo(
        None, 0, type=stdlib_socket.SOCK_STREAM, flags=stdlib_socket.AI_PASSIVE
    )
    second_family = infos[-1][0]
    factory = RecordingFactory(refuse={second_family: errno.EMFILE})
    tether.socket.set_custom_socket_factory(factory)
    with pytest.raises(OSError, match="no sockets of family") as info:
        await tether.open_tcp_listeners(0)
    assert info.value.errno == errno.EMFILE
    assert len(factory.made) == 1
    assert factory.made[0].fileno() == -1


async def test_listener_bind_errors_close_the_socket() -> None:
    [taken] = await tether.open_tcp_listeners(0, host="127.0.0.1")
    async with taken:
        port = taken.socket.getsockname()[1]
        factory = RecordingFactory()
        tether.socket.set_custom_socket_factory(factory)
        with pytest.raises(OSError) as info:
            await tether.open_tcp_listeners(port, host="127.0.0.1")
        assert info.value.errno == errno.EADDRINUSE
        assert [sock.fileno() for sock in factory.made] == [-1]


async def test_listener_port_must_be_an_int() -> None:
    with pytest.raises(TypeError, match="port must be an int"):
        await tether.open_tcp_listeners("0")  # type: ignore[arg-type]
