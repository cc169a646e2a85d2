"""Low-level I/O readiness: wait_readable, wait_writable and notify_closing.

Only ``socket.socketpair()`` sockets are used; the ``socket_pair`` fixture closes them.
"""

import socket
from collections.abc import Iterator

import pytest

import tether
from _helpers import drain, fill_send_buffer
from tether.lowlevel import notify_closing, wait_readable, wait_writable
from tether.testing import assert_checkpoints, wait_all_tasks_blocked


@pytest.fixture
def socket_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    with a, b:
        a.setblocking(False)
        b.setblocking(False)
        yield a, b


async def test_fresh_socket_is_writable_at_once(socket_pair):
    a, _ = socket_pair
    with assert_checkpoints():
        await wait_writable(a)


async def test_wait_readable_blocks_until_data_arrives(socket_pair):
    a, b = socket_pair
    received = []

    async def reader():
        await wait_readable(a)
        received.append(a.recv(100))

    async with tether.open_nursery() as nursery:
        nursery.start_soon(reader)
        await wait_all_tasks_blocked()
        assert received == []
        b.send(b"ping")
    assert received == [b"ping"]


async def test_wait_readable_accepts_a_file_descriptor(socket_pair):
    a, b = socket_pair
    b.send(b"x")
    with assert_checkpoints():
        await wait_readable(a.fileno())
    assert a.recv(1) == b"x"


async def test_wait_writable_blocks_while_the_send_buffer_is_full(socket_pair):
    a, b = socket_pair
    assert fill_send_buffer(a) > 0
    events = []

    async def writer():
        await wait_writable(a)
        events.append("writable")

    async with tether.open_nursery() as nursery:
        nursery.start_soon(writer)
        await wait_all_tasks_blocked()
        assert events == []
        assert drain(b) > 0
    assert events == ["writable"]


async def test_notify_closing_wakes_every_waiter_with_closed_resource_error(socket_pair):
    a, _ = socket_pair
    fill_send_buffer(a)
    failures = []

    async def wait_expecting_close(wait):
        with pytest.raises(tether.ClosedResourceError):
            await wait(a)
        failures.append(wait.__name__)

    async with tether.open_nursery() as nursery:
        nursery.start_soon(wait_expecting_close, wait_readable)
        nursery.start_soon(wait_expecting_close, wait_writable)
        await wait_all_tasks_blocked()
        notify_closing(a)
    assert sorted(failures) == ["wait_readable", "wait_writable"]


async def test_notify_closing_without_waiters_changes_nothing(socket_pair):
    a, b = socket_pair
    notify_closing(a)
    b.send(b"still works")
    await wait_readable(a)
    assert a.recv(100) == b"still works"


async def test_second_reader_gets_busy_resource_error(socket_pair):
    a, _ = socket_pair
    async with tether.open_nursery() as nursery:
        nursery.start_soon(wait_readable, a)
        await wait_all_tasks_blocked()
        with pytest.raises(tether.BusyResourceError):
            await wait_readable(a)
        with pytest.raises(tether.BusyResourceError):
            await wait_readable(a.fileno())
        nursery.cancel_scope.cancel()


async def test_second_writer_gets_busy_resource_error(socket_pair):
    a, _ = socket_pair
    fill_send_buffer(a)
    async with tether.open_nursery() as nursery:
        nursery.start_soon(wait_writable, a)
        await wait_all_tasks_blocked()
        with pytest.raises(tether.BusyResourceError):
            await wait_writable(a)
        nursery.cancel_scope.cancel()


async def test_one_reader_and_one_writer_may_share_a_socket(socket_pair):
    a, b = socket_pair
    fill_send_buffer(a)
    woken = []

    async def wait_and_record(wait):
        await wait(a)
        woken.append(wait.__name__)

    async with tether.open_nursery() as nursery:
        nursery.start_soon(wait_and_record, wait_readable)
        nursery.start_soon(wait_and_record, wait_writable)
        await wait_all_tasks_blocked()
        assert woken == []
        b.send(b"data")
        drain(b)
    assert sorted(woken) == ["wait_readable", "wait_writable"]


async def test_wait_in_a_cancelled_scope_raises_even_if_ready(socket_pair):
    a, b = socket_pair
    b.send(b"ready")
    with tether.CancelScope() as scope:
        scope.cancel()
        await wait_readable(a)
    assert scope.cancelled_caught


async def test_cancelling_a_parked_wait_unregisters_it(socket_pair):
    a, b = socket_pair
    async with tether.open_nursery() as nursery:
        nursery.start_soon(wait_readable, a)
        await wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert nursery.cancel_scope.cancelled_caught
    # The cancelled waiter is gone, so a new reader is not "busy" and sees new data.
    b.send(b"after")
    await wait_readable(a)
    assert a.recv(100) == b"after"


async def test_io_wait_times_out_in_virtual_time(socket_pair, autojump_clock):
    a, _ = socket_pair
    start = tether.current_time()
    with tether.move_on_after(30) as scope:
        await wait_readable(a)
    assert scope.cancelled_caught
    assert tether.current_time() == pytest.approx(start + 30)
