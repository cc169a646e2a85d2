"""The I/O backend keeps registrations of socket objects across waits (to save system
calls) without ever trusting one that may have gone stale."""

import socket

import pytest

import tether
from tether.lowlevel import notify_closing, wait_readable, wait_writable
from tether.testing import wait_all_tasks_blocked


async def _readable_after_peer_sends(reader: socket.socket, writer: socket.socket) -> None:
    async with tether.open_nursery() as nursery:
        nursery.start_soon(wait_readable, reader)
        await wait_all_tasks_blocked()
        writer.send(b"x")
    assert reader.recv(10) == b"x"


@pytest.mark.parametrize("closer", ["close_only", "notify_then_close"])
async def test_reused_fd_number_is_registered_again(closer: str) -> None:
    a, b = socket.socketpair()
    await _readable_after_peer_sends(a, b)  # leaves a sticky registration for a
    fd = a.fileno()
    if closer == "notify_then_close":
        notify_closing(a)
    a.close()
    # The next socket reuses the lowest free fd number: the one a had.
    c, d = socket.socketpair()
    try:
        assert fd in (c.fileno(), d.fileno())
        reader, writer = (c, d) if c.fileno() == fd else (d, c)
        with tether.fail_after(5):
            await _readable_after_peer_sends(reader, writer)
    finally:
        for sock in (b, c, d):
            sock.close()


async def test_raw_fd_wait_after_socket_wait_is_registered_again() -> None:
    a, b = socket.socketpair()
    try:
        await _readable_after_peer_sends(a, b)
        fd = a.fileno()
        async with tether.open_nursery() as nursery:
            nursery.start_soon(wait_readable, fd)
            await wait_all_tasks_blocked()
            b.send(b"y")
        assert a.recv(10) == b"y"
    finally:
        a.close()
        b.close()


async def test_event_nobody_waits_for_trims_the_registration() -> None:
    a, b = socket.socketpair()
    try:
        await wait_writable(a)  # registers interest in writability, stays registered
        # a is always writable: the next loop iterations see events nobody waits for,
        # trim the registration, and the loop then blocks normally (no busy loop).
        stats_before = tether.lowlevel.current_statistics().io_statistics
        await tether.sleep(0)
        await tether.sleep(0)
        await _readable_after_peer_sends(a, b)
        assert stats_before.tasks_waiting_write == 0
    finally:
        a.close()
        b.close()


def test_closing_fd_numbers_do_not_leak_between_runs() -> None:
    a, b = socket.socketpair()

    async def main() -> None:
        await _readable_after_peer_sends(a, b)

    try:
        tether.run(main)
        tether.run(main)
    finally:
        a.close()
        b.close()
    assert a.fileno() == -1
    assert b.fileno() == -1
