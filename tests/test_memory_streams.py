"""tether.testing memory and lockstep streams, memory_stream_pump, StapledStream and
open_stream_to_socket_listener."""

from __future__ import annotations

import os
import socket as stdlib_socket
import sys

import pytest

import tether
from _stream_helpers import needs_ipv6
from tether.abc import HalfCloseableStream, ReceiveStream, SendStream
from tether.testing import (
    MemoryReceiveStream,
    MemorySendStream,
    assert_checkpoints,
    lockstep_stream_one_way_pair,
    lockstep_stream_pair,
    memory_stream_one_way_pair,
    memory_stream_pair,
    memory_stream_pump,
    open_stream_to_socket_listener,
    wait_all_tasks_blocked,
)

# --- MemorySendStream ----------------------------------------------------------------------


async def test_memory_send_stream_buffers_data():
    stream = MemorySendStream()
    assert isinstance(stream, SendStream)
    with assert_checkpoints():
        await stream.send_all(b"abc")
    await stream.send_all(bytearray(b"de"))
    await stream.send_all(memoryview(b"fgh"))
    assert stream.get_data_nowait(2) == b"ab"
    assert stream.get_data_nowait() == b"cdefgh"
    with pytest.raises(tether.WouldBlock):
        stream.get_data_nowait()
    assert "open" in repr(stream)


async def test_memory_send_stream_get_data_waits_for_data():
    stream = MemorySendStream()
    record = []

    async def getter():
        record.append(await stream.get_data(4))
        record.append(await stream.get_data())

    async with tether.open_nursery() as nursery:
        nursery.start_soon(getter)
        await wait_all_tasks_blocked()
        assert record == []
        await stream.send_all(b"123456")
    assert record == [b"1234", b"56"]
    # With data buffered, get_data is still a checkpoint.
    await stream.send_all(b"x")
    with assert_checkpoints():
        assert await stream.get_data() == b"x"


async def test_memory_send_stream_get_data_conflicts_and_validation():
    stream = MemorySendStream()
    async with tether.open_nursery() as nursery:
        nursery.start_soon(stream.get_data)
        await wait_all_tasks_blocked()
        with pytest.raises(tether.BusyResourceError):
            await stream.get_data()
        with pytest.raises(tether.BusyResourceError):
            stream.get_data_nowait()
        nursery.cancel_scope.cancel()
    for bad in (0, -1):
        with pytest.raises(ValueError):
            await stream.get_data(bad)
        with pytest.raises(ValueError):
            stream.get_data_nowait(bad)
    with pytest.raises(TypeError):
        stream.get_data_nowait(1.5)
    # A cancelled get_data lost nothing.
    await stream.send_all(b"still here")
    assert stream.get_data_nowait() == b"still here"


async def test_memory_send_stream_close():
    closes = []
    stream = MemorySendStream(close_hook=lambda: closes.append("closed"))
    await stream.send_all(b"left over")
    stream.close()
    assert closes == ["closed"]
    assert "closed" in repr(stream)
    with pytest.raises(tether.ClosedResourceError):
        await stream.send_all(b"x")
    with pytest.raises(tether.ClosedResourceError):
        await stream.wait_send_all_might_not_block()
    # What was buffered can still be fetched, then end of data.
    assert await stream.get_data() == b"left over"
    assert await stream.get_data() == b""
    assert stream.get_data_nowait() == b""
    with assert_checkpoints():
        await stream.aclose()
    assert closes == ["closed", "closed"]


async def test_memory_send_stream_close_wakes_get_data():
    stream = MemorySendStream()
    async with tether.open_nursery() as nursery:

        async def getter():
            assert await stream.get_data() == b""

        nursery.start_soon(getter)
        await wait_all_tasks_blocked()
        await stream.aclose()


async def test_memory_send_stream_hooks():
    record = []
    stream = MemorySendStream()

    async def send_all_hook():
        # Runs after the data was buffered.
        record.append(("send_all", bytes(stream.get_data_nowait())))

    async def wait_hook():
        record.append(("wait", None))

    stream.send_all_hook = send_all_hook
    stream.wait_send_all_might_not_block_hook = wait_hook
    stream.close_hook = lambda: record.append(("close", None))
    await stream.send_all(b"hi")
    with assert_checkpoints():
        await stream.wait_send_all_might_not_block()
    await stream.aclose()
    assert record == [("send_all", b"hi"), ("wait", None), ("close", None)]

    # The constructor takes them too.
    other = MemorySendStream(send_all_hook, wait_hook, None)
    assert other.send_all_hook is send_all_hook
    assert other.wait_send_all_might_not_block_hook is wait_hook
    assert other.close_hook is None
    # With no hooks, wait_send_all_might_not_block just checkpoints.
    with assert_checkpoints():
        await MemorySendStream().wait_send_all_might_not_block()


async def test_memory_send_stream_conflicts():
    release = tether.Event()

    async def slow_hook():
        await release.wait()

    stream = MemorySendStream(send_all_hook=slow_hook, wait_send_all_might_not_block_hook=slow_hook)
    for blocker in (stream.send_all, stream.wait_send_all_might_not_block):
        async with tether.open_nursery() as nursery:
            if blocker == stream.send_all:
                nursery.start_soon(stream.send_all, b"x")
            else:
                nursery.start_soon(stream.wait_send_all_might_not_block)
            await wait_all_tasks_blocked()
            with pytest.raises(tether.BusyResourceError):
                await stream.send_all(b"y")
            with pytest.raises(tether.BusyResourceError):
                await stream.wait_send_all_might_not_block()
            nursery.cancel_scope.cancel()
    release.set()
    # Nothing is left held: both work again.
    await stream.send_all(b"z")
    await stream.wait_send_all_might_not_block()
    assert stream.get_data_nowait() == b"xz"


# --- MemoryReceiveStream -------------------------------------------------------------------


async def test_memory_receive_stream_basics():
    stream = MemoryReceiveStream()
    assert isinstance(stream, ReceiveStream)
    stream.put_data(b"abcdef")
    with assert_checkpoints():
        assert await stream.receive_some(2) == b"ab"
    assert await stream.receive_some() == b"cdef"
    stream.put_data(b"x")
    stream.put_eof()
    stream.put_eof()  # harmless
    assert await stream.receive_some(10) == b"x"
    for _ in range(3):
        with assert_checkpoints():
            assert await stream.receive_some(10) == b""
    with pytest.raises(tether.ClosedResourceError):
        stream.put_data(b"too late")
    assert "open" in repr(stream)


async def test_memory_receive_stream_waits_for_data_and_eof():
    stream = MemoryReceiveStream()
    record = []

    async def receiver():
        record.extend([chunk async for chunk in stream])

    async with tether.open_nursery() as nursery:
        nursery.start_soon(receiver)
        await wait_all_tasks_blocked()
        stream.put_data(b"")  # no data: does not look like end of stream
        await wait_all_tasks_blocked()
        assert record == []
        stream.put_data(b"one")
        await wait_all_tasks_blocked()
        stream.put_data(b"two")
        await wait_all_tasks_blocked()
        stream.put_eof()
    assert record == [b"one", b"two"]


async def test_memory_receive_stream_validation_and_conflicts():
    stream = MemoryReceiveStream()
    for bad in (0, -1):
        with pytest.raises(ValueError):
            await stream.receive_some(bad)
    with pytest.raises(TypeError):
        await stream.receive_some(1.5)
    async with tether.open_nursery() as nursery:

        async def receiver():
            assert await stream.receive_some() == b"data"

        nursery.start_soon(receiver)
        await wait_all_tasks_blocked()
        with pytest.raises(tether.BusyResourceError):
            await stream.receive_some()
        stream.put_data(b"data")


async def test_memory_receive_stream_close():
    closes = []
    stream = MemoryReceiveStream(close_hook=lambda: closes.append(1))
    stream.put_data(b"discarded")
    outcome = []

    async with tether.open_nursery() as nursery:
        blocked = MemoryReceiveStream()

        async def receiver():
            with pytest.raises(tether.ClosedResourceError):
                await blocked.receive_some()
            outcome.append("woken")

        nursery.start_soon(receiver)
        await wait_all_tasks_blocked()
        blocked.close()
    assert outcome == ["woken"]

    with assert_checkpoints():
        await stream.aclose()
    assert closes == [1]
    assert "closed" in repr(stream)
    with pytest.raises(tether.ClosedResourceError):
        await stream.receive_some()
    with pytest.raises(tether.ClosedResourceError):
        stream.put_data(b"x")
    stream.close()
    assert closes == [1, 1]


async def test_memory_receive_stream_hook():
    stream = MemoryReceiveStream()
    calls = []

    async def hook():
        calls.append(len(calls))
        stream.put_data(b"from the hook %d" % calls[-1])

    stream.receive_some_hook = hook
    assert await stream.receive_some() == b"from the hook 0"
    assert await stream.receive_some() == b"from the hook 1"
    assert MemoryReceiveStream(hook).receive_some_hook is hook

    closing = MemoryReceiveStream(receive_some_hook=hook)
    closing.close()
    with pytest.raises(tether.ClosedResourceError):
        await closing.receive_some()
    assert calls == [0, 1]  # not called once closed


# --- memory_stream_pump --------------------------------------------------------------------


async def test_memory_stream_pump():
    send, receive = MemorySendStream(), MemoryReceiveStream()
    assert memory_stream_pump(send, receive) is False
    await send.send_all(b"12345")
    assert memory_stream_pump(send, receive, max_bytes=2) is True
    assert await receive.receive_some() == b"12"
    assert memory_stream_pump(send, receive) is True
    assert await receive.receive_some() == b"345"
    assert memory_stream_pump(send, receive) is False
    # The sender's close becomes an EOF.
    await send.aclose()
    assert memory_stream_pump(send, receive) is True
    assert await receive.receive_some() == b""


async def test_memory_stream_pump_into_a_closed_receiver_is_broken():
    send, receive = MemorySendStream(), MemoryReceiveStream()
    await send.send_all(b"x")
    await receive.aclose()
    with pytest.raises(tether.BrokenResourceError):
        memory_stream_pump(send, receive)


async def test_memory_stream_pump_in_a_custom_hook():
    # A connection that delivers one byte per receive_some call.
    send, receive = MemorySendStream(), MemoryReceiveStream()

    async def trickle():
        memory_stream_pump(send, receive, max_bytes=1)

    receive.receive_some_hook = trickle
    await send.send_all(b"abc")
    assert [await receive.receive_some() for _ in range(3)] == [b"a", b"b", b"c"]


# --- memory_stream_one_way_pair / memory_stream_pair ---------------------------------------


async def test_memory_stream_one_way_pair():
    send, receive = memory_stream_one_way_pair()
    assert isinstance(send, MemorySendStream)
    assert isinstance(receive, MemoryReceiveStream)
    assert send.send_all_hook is not None
    assert send.close_hook is not None
    # Unlimited buffering: send_all never waits for the receiver.
    await send.send_all(b"x" * 100_000)
    await send.send_all(b"y")
    assert await receive.receive_some(100_000) == b"x" * 100_000
    assert await receive.receive_some() == b"y"
    await send.aclose()
    assert await receive.receive_some() == b""


async def test_memory_stream_one_way_pair_closed_receiver_breaks_sender():
    send, receive = memory_stream_one_way_pair()
    await receive.aclose()
    with pytest.raises(tether.BrokenResourceError):
        await send.send_all(b"x")
    await send.aclose()  # closing the sender still works


async def test_memory_stream_one_way_pair_hooks_can_be_replaced():
    send, receive = memory_stream_one_way_pair()
    send.send_all_hook = None  # hold data back until the test pumps it
    await send.send_all(b"held")
    async with tether.open_nursery() as nursery:
        record = []

        async def receiver():
            record.append(await receive.receive_some())

        nursery.start_soon(receiver)
        await wait_all_tasks_blocked()
        assert record == []
        memory_stream_pump(send, receive)
    assert record == [b"held"]


async def test_memory_stream_pair():
    left, right = memory_stream_pair()
    assert isinstance(left, tether.StapledStream)
    assert isinstance(left.send_stream, MemorySendStream)
    assert isinstance(left.receive_stream, MemoryReceiveStream)
    await left.send_all(b"to the right")
    await right.send_all(b"to the left")
    assert await right.receive_some() == b"to the right"
    assert await left.receive_some() == b"to the left"
    # Half-closing: the peer sees EOF, the other direction keeps working.
    await left.send_eof()
    assert await right.receive_some() == b""
    with pytest.raises(tether.ClosedResourceError):
        await left.send_all(b"x")
    await right.send_all(b"reply")
    assert await left.receive_some() == b"reply"
    await left.aclose()
    with pytest.raises(tether.BrokenResourceError):
        await right.send_all(b"x")
    await right.aclose()


# --- lockstep streams -----------------------------------------------------------------------


async def test_lockstep_send_all_returns_only_once_received():
    send, receive = lockstep_stream_one_way_pair()
    assert isinstance(send, SendStream)
    assert isinstance(receive, ReceiveStream)
    record = []

    async def sender():
        await send.send_all(b"abcd")
        record.append("sent")

    async with tether.open_nursery() as nursery:
        nursery.start_soon(sender)
        await wait_all_tasks_blocked()
        assert record == []  # nobody received yet: no buffer to put it in
        assert await receive.receive_some(3) == b"abc"
        await wait_all_tasks_blocked()
        assert record == []  # one byte is still waiting
        assert await receive.receive_some() == b"d"
        await wait_all_tasks_blocked()
        assert record == ["sent"]


async def test_lockstep_receive_waits_for_sender():
    send, receive = lockstep_stream_one_way_pair()
    async with tether.open_nursery() as nursery:
        record = []

        async def receiver():
            record.append(await receive.receive_some())

        nursery.start_soon(receiver)
        await wait_all_tasks_blocked()
        assert record == []
        with assert_checkpoints():
            await send.send_all(b"x")
    assert record == [b"x"]
    with assert_checkpoints():
        await send.send_all(b"")  # nothing to hand over: returns at once


async def test_lockstep_wait_send_all_might_not_block_waits_for_a_receiver():
    send, receive = lockstep_stream_one_way_pair()
    record = []

    async def waiter():
        await send.wait_send_all_might_not_block()
        record.append("ready")
        await send.send_all(b"now")

    async with tether.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await wait_all_tasks_blocked()
        assert record == []
        assert await receive.receive_some() == b"now"
    assert record == ["ready"]


async def test_lockstep_closing_the_sender():
    send, receive = lockstep_stream_one_way_pair()
    async with tether.open_nursery() as nursery:

        async def receiver():
            assert await receive.receive_some() == b""

        nursery.start_soon(receiver)
        await wait_all_tasks_blocked()
        send.close()  # a synchronous close
    assert await receive.receive_some() == b""
    for call in (send.send_all(b"x"), send.wait_send_all_might_not_block()):
        with pytest.raises(tether.ClosedResourceError):
            await call
    await send.aclose()  # idempotent


async def test_lockstep_closing_the_receiver():
    send, receive = lockstep_stream_one_way_pair()
    async with tether.open_nursery() as nursery:

        async def sender():
            with pytest.raises(tether.BrokenResourceError):
                await send.send_all(b"never taken")

        nursery.start_soon(sender)
        await wait_all_tasks_blocked()
        receive.close()
    with pytest.raises(tether.BrokenResourceError):
        await send.send_all(b"x")
    with assert_checkpoints():
        await send.wait_send_all_might_not_block()  # sending would not block: it fails
    with pytest.raises(tether.ClosedResourceError):
        await receive.receive_some()
    await receive.aclose()


async def test_lockstep_closing_wakes_own_blocked_tasks():
    send, _ = lockstep_stream_one_way_pair()
    waiting_send, _ = lockstep_stream_one_way_pair()
    _, receive = lockstep_stream_one_way_pair()

    async def blocked_sender():
        with pytest.raises(tether.ClosedResourceError):
            await send.send_all(b"x")

    async def blocked_waiter():
        with pytest.raises(tether.ClosedResourceError):
            await waiting_send.wait_send_all_might_not_block()

    async def blocked_receiver():
        with pytest.raises(tether.ClosedResourceError):
            await receive.receive_some()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(blocked_sender)
        nursery.start_soon(blocked_waiter)
        await wait_all_tasks_blocked()
        await send.aclose()
        await waiting_send.aclose()
    async with tether.open_nursery() as nursery:
        nursery.start_soon(blocked_receiver)
        await wait_all_tasks_blocked()
        await receive.aclose()


async def test_lockstep_conflicts():
    send, receive = lockstep_stream_one_way_pair()
    async with tether.open_nursery() as nursery:
        nursery.start_soon(send.send_all, b"x")
        await wait_all_tasks_blocked()
        with pytest.raises(tether.BusyResourceError):
            await send.send_all(b"y")
        with pytest.raises(tether.BusyResourceError):
            await send.wait_send_all_might_not_block()
        assert await receive.receive_some() == b"x"
    async with tether.open_nursery() as nursery:
        nursery.start_soon(receive.receive_some)
        await wait_all_tasks_blocked()
        with pytest.raises(tether.BusyResourceError):
            await receive.receive_some()
        for bad in (0, -1):
            with pytest.raises(ValueError):
                await receive.receive_some(bad)
        await send.send_all(b"z")


async def test_lockstep_cancelled_send_withdraws_the_data():
    send, receive = lockstep_stream_one_way_pair()
    with tether.CancelScope() as scope:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(send.send_all, b"withdrawn")
            await wait_all_tasks_blocked()
            scope.cancel()
    assert scope.cancelled_caught
    async with tether.open_nursery() as nursery:
        nursery.start_soon(send.send_all, b"fresh")
        assert await receive.receive_some() == b"fresh"


async def test_lockstep_reprs():
    send, receive = lockstep_stream_one_way_pair()
    assert "lockstep" in repr(send)
    assert "lockstep" in repr(receive)


async def test_lockstep_stream_pair():
    left, right = lockstep_stream_pair()
    assert isinstance(left, tether.StapledStream)
    async with tether.open_nursery() as nursery:
        nursery.start_soon(left.send_all, b"ping")
        assert await right.receive_some() == b"ping"
        nursery.start_soon(right.send_all, b"pong")
        assert await left.receive_some() == b"pong"
    await left.send_eof()
    assert await right.receive_some() == b""
    await left.aclose()
    await right.aclose()


# --- StapledStream --------------------------------------------------------------------------


class _RecordingHalfCloseable(HalfCloseableStream):
    """A send stream with send_eof, recording what is called."""

    def __init__(self, record: list[str]) -> None:
        self.record = record

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        self.record.append(f"send_all {bytes(data)!r}")

    async def wait_send_all_might_not_block(self) -> None:
        self.record.append("wait_send_all_might_not_block")

    async def send_eof(self) -> None:
        self.record.append("send_eof")

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        raise AssertionError("not used")

    async def aclose(self) -> None:
        self.record.append("aclose")


async def test_stapled_stream_forwards():
    record: list[str] = []
    send = _RecordingHalfCloseable(record)
    receive = MemoryReceiveStream()
    stapled = tether.StapledStream(send, receive)
    assert isinstance(stapled, HalfCloseableStream)
    assert stapled.send_stream is send
    assert stapled.receive_stream is receive
    assert "StapledStream" in repr(stapled)
    await stapled.send_all(b"data")
    await stapled.wait_send_all_might_not_block()
    await stapled.send_eof()  # the send stream's own send_eof
    receive.put_data(b"incoming")
    assert await stapled.receive_some(2) == b"in"
    assert await stapled.receive_some() == b"coming"
    await stapled.aclose()
    assert record == [
        "send_all b'data'",
        "wait_send_all_might_not_block",
        "send_eof",
        "aclose",
    ]
    with pytest.raises(tether.ClosedResourceError):
        await stapled.receive_some()


async def test_stapled_stream_send_eof_duck_typed():
    # A send stream that is not a HalfCloseableStream but has a send_eof method.
    class SendWithEof(MemorySendStream):
        eof = False

        async def send_eof(self) -> None:
            self.eof = True

    send = SendWithEof()
    stapled = tether.StapledStream(send, MemoryReceiveStream())
    await stapled.send_eof()
    assert send.eof
    await stapled.send_all(b"not closed")  # send_eof was used instead of aclose
    assert send.get_data_nowait() == b"not closed"


async def test_stapled_stream_send_eof_closes_a_plain_send_stream():
    send, receive = MemorySendStream(), MemoryReceiveStream()
    stapled = tether.StapledStream(send, receive)
    await stapled.send_eof()
    with pytest.raises(tether.ClosedResourceError):
        await send.send_all(b"x")
    receive.put_data(b"still open")
    assert await stapled.receive_some() == b"still open"
    # The attributes can be reassigned.
    stapled.send_stream = MemorySendStream()
    await stapled.send_all(b"new")
    assert stapled.send_stream.get_data_nowait() == b"new"


async def test_stapled_stream_aclose_closes_both_even_if_one_fails():
    class FailingClose(MemorySendStream):
        async def aclose(self) -> None:
            raise tether.BrokenResourceError("could not close cleanly")

    receive = MemoryReceiveStream()
    stapled = tether.StapledStream(FailingClose(), receive)
    with pytest.raises(tether.BrokenResourceError):
        await stapled.aclose()
    with pytest.raises(tether.ClosedResourceError):
        await receive.receive_some()


async def test_stapled_stream_cancelled_aclose_closes_both():
    left, right = memory_stream_pair()
    await tether.aclose_forcefully(left)
    with pytest.raises(tether.ClosedResourceError):
        await left.send_all(b"x")
    with pytest.raises(tether.ClosedResourceError):
        await left.receive_some()
    assert await right.receive_some() == b""
    await right.aclose()


# --- open_stream_to_socket_listener ---------------------------------------------------------


async def _round_trip(listener: tether.SocketListener) -> None:
    client = await open_stream_to_socket_listener(listener)
    server = await listener.accept()
    async with client, server:
        assert isinstance(client, tether.SocketStream)
        await client.send_all(b"hello")
        assert await server.receive_some() == b"hello"
        await server.send_all(b"there")
        assert await client.receive_some() == b"there"


async def test_open_stream_to_socket_listener_tcp():
    listeners = await tether.open_tcp_listeners(0, host="127.0.0.1")
    async with listeners[0]:
        await _round_trip(listeners[0])


@needs_ipv6
async def test_open_stream_to_socket_listener_tcp_ipv6():
    listeners = await tether.open_tcp_listeners(0, host="::1")
    async with listeners[0]:
        await _round_trip(listeners[0])


@pytest.mark.skipif(not hasattr(stdlib_socket, "AF_UNIX"), reason="no unix sockets")
async def test_open_stream_to_socket_listener_unix(tmp_path):
    path = os.fspath(tmp_path / "sock")
    async with await tether.open_unix_listener(path) as listener:
        await _round_trip(listener)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux shutdown semantics")
async def test_open_stream_to_socket_listener_connection_refused():
    sock = tether.socket.socket()
    await sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    async with tether.SocketListener(sock) as listener:
        sock.shutdown(stdlib_socket.SHUT_RDWR)  # on Linux: stop accepting, keep the address
        with pytest.raises(OSError):
            await open_stream_to_socket_listener(listener)
