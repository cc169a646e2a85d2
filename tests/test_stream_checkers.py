"""The stream conformance checkers: they pass on tether's own streams (memory, lockstep,
stapled, sockets) and catch broken ones."""

from __future__ import annotations

import socket as stdlib_socket

import pytest

import tether
from tether.abc import HalfCloseableStream, ReceiveStream, SendStream, Stream
from tether.testing import (
    MemoryReceiveStream,
    MemorySendStream,
    check_half_closeable_stream,
    check_one_way_stream,
    check_two_way_stream,
    lockstep_stream_one_way_pair,
    lockstep_stream_pair,
    memory_stream_one_way_pair,
    memory_stream_pair,
    open_stream_to_socket_listener,
    wait_all_tasks_blocked,
)

# --- makers ---------------------------------------------------------------------------------


async def memory_one_way():
    return memory_stream_one_way_pair()


async def memory_two_way():
    return memory_stream_pair()


async def lockstep_one_way():
    return lockstep_stream_one_way_pair()


async def lockstep_two_way():
    return lockstep_stream_pair()


async def mixed_stapled():
    """Buffered one way, unbuffered the other, each end stapled together by hand."""
    buffered_send, buffered_receive = memory_stream_one_way_pair()
    lockstep_send, lockstep_receive = lockstep_stream_one_way_pair()
    return (
        tether.StapledStream(buffered_send, lockstep_receive),
        tether.StapledStream(lockstep_send, buffered_receive),
    )


async def socketpair_streams():
    left, right = tether.socket.socketpair()
    return tether.SocketStream(left), tether.SocketStream(right)


async def tcp_streams():
    listeners = await tether.open_tcp_listeners(0, host="127.0.0.1")
    async with listeners[0] as listener:
        client = await open_stream_to_socket_listener(listener)
        server = await listener.accept()
    return client, server


async def stapled_socket_streams():
    """Each direction over its own socketpair."""
    a_left, a_right = await socketpair_streams()
    b_left, b_right = await socketpair_streams()
    return tether.StapledStream(a_left, b_left), tether.StapledStream(b_right, a_right)


async def _fill(stream: tether.SocketStream) -> None:
    """Write into ``stream`` until the kernel takes no more (both buffers full)."""
    chunk = b"\0" * 65536

    async def writer():
        while True:
            await stream.socket.send(chunk)

    async with tether.open_nursery() as nursery:
        nursery.start_soon(writer)
        await wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()


def _shrink_buffers(stream: tether.SocketStream) -> None:
    # Small enough that filling is quick, large enough that TCP does not fall back on
    # zero-window probe timers when the reader frees a little room.
    for option in (stdlib_socket.SO_SNDBUF, stdlib_socket.SO_RCVBUF):
        stream.setsockopt(stdlib_socket.SOL_SOCKET, option, 65536)


def clogged(maker):
    """A maker whose socket streams are clogged in both directions."""

    async def clogged_maker():
        left, right = await maker()
        for stream in (left, right):
            _shrink_buffers(stream)
        await _fill(left)
        await _fill(right)
        return left, right

    return clogged_maker


async def clogged_stapled_socket_streams():
    left, right = await stapled_socket_streams()
    for stream in (left.send_stream, right.send_stream, left.receive_stream, right.receive_stream):
        _shrink_buffers(stream)
    await _fill(left.send_stream)
    await _fill(right.send_stream)
    return left, right


# --- the checkers pass on tether's streams --------------------------------------------------


async def test_memory_one_way_stream():
    await check_one_way_stream(memory_one_way, None)


async def test_memory_stream_pair():
    await check_half_closeable_stream(memory_two_way, None)


async def test_lockstep_one_way_stream():
    await check_one_way_stream(lockstep_one_way, lockstep_one_way)


async def test_lockstep_stream_pair():
    await check_two_way_stream(lockstep_two_way, lockstep_two_way)
    # Its send_eof closes the underlying send stream, which cannot conflict with a blocked
    # send_all the way a real send_eof does: check half-closing without a clogged maker.
    await check_half_closeable_stream(lockstep_two_way, None)


async def test_mixed_stapled_streams():
    await check_half_closeable_stream(mixed_stapled, None)


async def test_stapled_socket_streams():
    await check_half_closeable_stream(stapled_socket_streams, clogged_stapled_socket_streams)


async def test_socket_stream_over_socketpair():
    await check_half_closeable_stream(socketpair_streams, clogged(socketpair_streams))


async def test_socket_stream_over_tcp():
    await check_half_closeable_stream(tcp_streams, clogged(tcp_streams))


async def test_socket_stream_two_way_only():
    # check_two_way_stream on its own (check_half_closeable_stream runs it too).
    await check_two_way_stream(tcp_streams, clogged(tcp_streams))


async def test_memory_streams_with_simulated_latency(autojump_clock):
    # Hooks that sleep: virtual time makes the delays free.
    async def slow_one_way():
        send, receive = memory_stream_one_way_pair()
        pump = send.send_all_hook
        assert pump is not None

        async def delayed_pump():
            await tether.sleep(0.5)
            await pump()

        send.send_all_hook = delayed_pump
        return send, receive

    start = tether.current_time()
    await check_one_way_stream(slow_one_way, None)
    assert tether.current_time() > start


async def test_streams_that_sleep_are_not_stuck():
    # Under the real clock, tasks sleeping on a deadline do not trip the watchdog.
    async def napping_one_way():
        send, receive = memory_stream_one_way_pair()

        async def nap():
            await tether.sleep(0.001)

        receive.receive_some_hook = nap
        return send, receive

    await check_one_way_stream(napping_one_way, None)


# --- the checkers catch broken streams ------------------------------------------------------


class Forwarding(HalfCloseableStream):
    """Forwards everything to a send stream and a receive stream; subclasses break it."""

    def __init__(self, send: SendStream, receive: ReceiveStream) -> None:
        self.send = send
        self.receive = receive

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self.send.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.send.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        await self.send.aclose()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        return await self.receive.receive_some(max_bytes)

    async def aclose(self) -> None:
        try:
            await self.send.aclose()
        finally:
            await self.receive.aclose()


def one_way(cls, pair_maker=memory_stream_one_way_pair):
    async def maker():
        send, receive = pair_maker()
        return cls(send, MemoryReceiveStream()), cls(MemorySendStream(), receive)

    return maker


def two_way(cls, pair_maker=memory_stream_one_way_pair):
    async def maker():
        left_send, right_receive = pair_maker()
        right_send, left_receive = pair_maker()
        return cls(left_send, left_receive), cls(right_send, right_receive)

    return maker


async def test_forwarding_passes():
    # The base of the broken streams below is itself correct.
    await check_half_closeable_stream(two_way(Forwarding), None)
    await check_one_way_stream(one_way(Forwarding, lockstep_stream_one_way_pair), None)


async def test_catches_dropped_bytes():
    class DropsLastByte(Forwarding):
        async def send_all(self, data: bytes | bytearray | memoryview) -> None:
            await super().send_all(bytes(data)[:-1] if len(data) > 1 else data)

    with pytest.raises(AssertionError, match=r"round trip.*not what was sent"):
        await check_one_way_stream(one_way(DropsLastByte), None)


async def test_catches_silently_discarded_sends():
    class DiscardsAfterFirstSend(Forwarding):
        sent = False

        async def send_all(self, data: bytes | bytearray | memoryview) -> None:
            if not self.sent:
                self.sent = True
                await super().send_all(data)
            else:
                await tether.checkpoint()

    with pytest.raises(AssertionError, match=r"end of stream after .* bytes"):
        await check_one_way_stream(one_way(DiscardsAfterFirstSend), None)


async def test_catches_max_bytes_ignored():
    class IgnoresMaxBytes(Forwarding):
        async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
            return await super().receive_some()

    with pytest.raises(AssertionError, match=r"round trip: receive_some.*returned"):
        await check_one_way_stream(one_way(IgnoresMaxBytes), None)


async def test_catches_missing_busy_resource_error_on_receive():
    class QueuesReceivers(Forwarding):
        def __init__(self, send: SendStream, receive: ReceiveStream) -> None:
            super().__init__(send, receive)
            self.lock = tether.Lock()

        async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
            async with self.lock:  # a second receiver waits instead of failing
                return await super().receive_some(max_bytes)

    with pytest.raises(AssertionError, match="blocked instead of raising BusyResourceError"):
        await check_one_way_stream(one_way(QueuesReceivers), None)


async def test_catches_missing_busy_resource_error_on_send():
    class QueuesSenders(Forwarding):
        def __init__(self, send: SendStream, receive: ReceiveStream) -> None:
            super().__init__(send, receive)
            self.lock = tether.Lock()

        async def send_all(self, data: bytes | bytearray | memoryview) -> None:
            async with self.lock:
                await super().send_all(data)

        async def wait_send_all_might_not_block(self) -> None:
            async with self.lock:
                await super().wait_send_all_might_not_block()

    maker = one_way(QueuesSenders, lockstep_stream_one_way_pair)
    with pytest.raises(AssertionError, match=r"clogged: conflicts.*BusyResourceError"):
        await check_one_way_stream(maker, maker)


async def test_catches_max_bytes_zero_accepted():
    class ZeroMeansAnything(Forwarding):
        async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
            return await super().receive_some(max_bytes or None)

    with pytest.raises(AssertionError, match=r"receive_some\(0\) blocked instead of raising"):
        await check_one_way_stream(one_way(ZeroMeansAnything), None)


async def test_catches_aclose_without_checkpoint():
    class HastyClose(Forwarding):
        async def aclose(self) -> None:
            if isinstance(self.send, MemorySendStream):
                self.send.close()
            if isinstance(self.receive, MemoryReceiveStream):
                self.receive.close()

    with pytest.raises(AssertionError, match="aclose returned without a checkpoint"):
        await check_one_way_stream(one_way(HastyClose), None)


async def test_catches_sends_to_a_closed_peer_succeeding():
    class IgnoresBrokenPeer(Forwarding):
        async def send_all(self, data: bytes | bytearray | memoryview) -> None:
            try:
                await super().send_all(data)
            except tether.BrokenResourceError:
                pass

    with pytest.raises(AssertionError, match="kept succeeding after the receiving side"):
        await check_one_way_stream(one_way(IgnoresBrokenPeer), None)


async def test_catches_wrong_error_after_send_eof():
    class BrokenAfterEof(Forwarding):
        eof = False

        async def send_all(self, data: bytes | bytearray | memoryview) -> None:
            if self.eof:
                raise tether.BrokenResourceError("pipe")
            await super().send_all(data)

        async def send_eof(self) -> None:
            self.eof = True
            await super().send_eof()

    with pytest.raises(AssertionError, match="send_all after send_eof raised BrokenResource"):
        await check_half_closeable_stream(two_way(BrokenAfterEof), None)


async def test_reports_unexpected_exceptions_with_the_check_name():
    class ClosedTooEarly(Forwarding):
        async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
            data = await super().receive_some(max_bytes)
            if not data:
                raise tether.ClosedResourceError("end of stream reported as closed")
            return data

    with pytest.raises(AssertionError, match=r"round trip: unexpected ClosedResourceError"):
        await check_one_way_stream(one_way(ClosedTooEarly), None)


async def test_catches_a_clogged_maker_that_is_not_clogged():
    with pytest.raises(AssertionError, match="returned on a clogged stream"):
        await check_one_way_stream(memory_one_way, memory_one_way)


async def test_catches_wrong_types():
    async def not_streams():
        send, receive = memory_stream_one_way_pair()
        return receive, send

    with pytest.raises(AssertionError, match=r"is not a tether.abc.SendStream"):
        await check_one_way_stream(not_streams, None)

    async def one_way_pair_as_two_way():
        return memory_stream_one_way_pair()

    with pytest.raises(AssertionError, match=r"is not a tether.abc.Stream"):
        await check_two_way_stream(one_way_pair_as_two_way, None)

    class NotHalfCloseable(Stream):
        def __init__(self, inner: HalfCloseableStream) -> None:
            self.inner = inner

        async def send_all(self, data: bytes | bytearray | memoryview) -> None:
            await self.inner.send_all(data)

        async def wait_send_all_might_not_block(self) -> None:
            await self.inner.wait_send_all_might_not_block()

        async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
            return await self.inner.receive_some(max_bytes)

        async def aclose(self) -> None:
            await self.inner.aclose()

    async def plain_streams():
        left, right = memory_stream_pair()
        return NotHalfCloseable(left), NotHalfCloseable(right)

    await check_two_way_stream(plain_streams, None)
    with pytest.raises(AssertionError, match=r"is not a tether.abc.HalfCloseableStream"):
        await check_half_closeable_stream(plain_streams, None)


@pytest.mark.slow
async def test_turns_a_hang_into_a_failure():
    class BlackHole(Forwarding):
        async def send_all(self, data: bytes | bytearray | memoryview) -> None:
            await tether.checkpoint()

        async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
            await tether.sleep_forever()
            raise AssertionError("unreachable")  # pragma: no cover

    with pytest.raises(AssertionError, match="every task stayed blocked"):
        await check_one_way_stream(one_way(BlackHole), None)
