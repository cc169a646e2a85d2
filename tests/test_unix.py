"""Unix domain socket streams: open_unix_socket, open_unix_listener, serve_unix, and what
happens to a socket file that is already there. Every path is under tmp_path."""

from __future__ import annotations

import errno
import functools
import os
import socket as stdlib_socket
import stat
from pathlib import Path

import pytest

import tether
from _stream_helpers import (
    StreamPair,
    clogged,
    needs_unix,
    no_leaked_fds,  # noqa: F401  (a fixture, used through pytestmark)
)
from tether.testing import check_half_closeable_stream

pytestmark = [pytest.mark.usefixtures("no_leaked_fds"), needs_unix]


def leave_stale_socket(path: Path) -> None:
    """Leave a socket file behind, as a server that died without cleaning up does."""
    with stdlib_socket.socket(stdlib_socket.AF_UNIX) as dead:
        dead.bind(os.fspath(path))
        dead.listen()
    assert stat.S_ISSOCK(path.stat().st_mode)


async def test_connect_to_a_unix_listener(tmp_path: Path) -> None:
    path = tmp_path / "server.sock"
    listener = await tether.open_unix_listener(path)
    async with listener:
        assert isinstance(listener, tether.SocketListener)
        assert listener.socket.family == stdlib_socket.AF_UNIX
        assert listener.socket.getsockname() == os.fspath(path)
        async with await tether.open_unix_socket(path) as client:
            assert isinstance(client, tether.SocketStream)
            async with await listener.accept() as server:
                await client.send_all(b"over a unix socket")
                await client.send_eof()
                assert await server.receive_some() == b"over a unix socket"
                assert await server.receive_some() == b""


async def test_paths_may_be_str_bytes_or_pathlike(tmp_path: Path) -> None:
    for path in (str(tmp_path / "a.sock"), os.fsencode(tmp_path / "b.sock"), tmp_path / "c.sock"):
        async with await tether.open_unix_listener(path) as listener:
            async with await tether.open_unix_socket(path) as client:
                async with await listener.accept() as server:
                    await server.send_all(b"ok")
                    assert await client.receive_some() == b"ok"


async def test_checkers_pass_on_unix_socket_streams(tmp_path: Path) -> None:
    path = tmp_path / "checked.sock"
    listener = await tether.open_unix_listener(path)

    async def maker() -> StreamPair:
        client = await tether.open_unix_socket(path)
        return client, await listener.accept()

    async with listener:
        await check_half_closeable_stream(maker, clogged(maker))


async def test_serve_unix(tmp_path: Path) -> None:
    path = tmp_path / "echo.sock"

    async def echo(stream: tether.SocketStream) -> None:
        async for chunk in stream:
            await stream.send_all(chunk)

    async with tether.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(tether.serve_unix, echo, path))
        [listener] = listeners
        assert isinstance(listener, tether.SocketListener)
        for _ in range(3):
            async with await tether.open_unix_socket(path) as client:
                await client.send_all(b"echo me")
                assert await client.receive_some() == b"echo me"
        nursery.cancel_scope.cancel()
    assert listener.socket.fileno() == -1
    assert path.exists()  # the socket file stays, as with any unix socket


async def test_mode_sets_the_socket_files_permissions(tmp_path: Path) -> None:
    path = tmp_path / "private.sock"
    async with await tether.open_unix_listener(path, mode=0o600):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_a_stale_socket_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "stale.sock"
    leave_stale_socket(path)
    async with await tether.open_unix_listener(path) as listener:
        async with await tether.open_unix_socket(path) as client:
            async with await listener.accept() as server:
                await client.send_all(b"fresh")
                assert await server.receive_some() == b"fresh"


async def test_the_file_of_a_closed_listener_is_reused(tmp_path: Path) -> None:
    path = tmp_path / "reused.sock"
    first = await tether.open_unix_listener(path)
    await first.aclose()
    assert path.exists()
    async with await tether.open_unix_listener(path) as second:
        async with await tether.open_unix_socket(path):
            await (await second.accept()).aclose()


async def test_a_live_server_is_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "live.sock"
    async with await tether.open_unix_listener(path) as live:
        with pytest.raises(OSError, match="another server is listening") as info:
            await tether.open_unix_listener(path)
        assert info.value.errno == errno.EADDRINUSE
        # The live server still works.
        async with await tether.open_unix_socket(path):
            await (await live.accept()).aclose()


async def test_a_socket_of_another_kind_is_left_to_bind(tmp_path: Path) -> None:
    # A datagram socket refuses a stream connect (not "refused": not stale either);
    # bind then reports that the address is taken.
    path = tmp_path / "dgram.sock"
    with stdlib_socket.socket(stdlib_socket.AF_UNIX, stdlib_socket.SOCK_DGRAM) as dgram:
        dgram.bind(os.fspath(path))
        with pytest.raises(OSError) as info:
            await tether.open_unix_listener(path)
        assert info.value.errno == errno.EADDRINUSE
        assert path.exists()


async def test_a_file_that_is_not_a_socket_is_never_touched(tmp_path: Path) -> None:
    path = tmp_path / "precious.txt"
    path.write_text("keep me")
    with pytest.raises(FileExistsError, match="not a socket"):
        await tether.open_unix_listener(path)
    assert path.read_text() == "keep me"


async def test_bind_errors_close_the_socket(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        await tether.open_unix_listener(tmp_path / "no such dir" / "x.sock")
    with pytest.raises(OSError):
        await tether.open_unix_listener(tmp_path / ("x" * 200))  # longer than sun_path


async def test_connecting_to_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await tether.open_unix_socket(tmp_path / "nobody.sock")
    stale = tmp_path / "stale.sock"
    leave_stale_socket(stale)
    with pytest.raises(ConnectionRefusedError):
        await tether.open_unix_socket(stale)


async def test_backlog(tmp_path: Path) -> None:
    # A listener with a backlog of 1 and nobody accepting takes only so many clients;
    # the next connect fails at once (unix sockets do not wait for room).
    path = tmp_path / "small.sock"
    clients: list[tether.SocketStream] = []

    async def connect_until_refused() -> None:
        for _ in range(10):
            client = await tether.open_unix_socket(path)
            clients.append(client)  # kept one by one: the failing connect ends the loop

    async with await tether.open_unix_listener(path, backlog=1):
        try:
            with pytest.raises(BlockingIOError):
                await connect_until_refused()
            assert 1 <= len(clients) <= 3
        finally:
            for client in clients:
                await client.aclose()
