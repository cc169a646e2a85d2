"""Tests for memory channels (open_memory_channel) and the channel ABCs."""

from __future__ import annotations

import math
from typing import Any, cast

import pytest

import tether
import tether.abc
from tether.testing import assert_checkpoints, assert_no_checkpoints, wait_all_tasks_blocked

BUFFER_SIZES = [0, 1, 3, math.inf]
buffer_sizes = pytest.mark.parametrize("size", BUFFER_SIZES, ids=["0", "1", "3", "inf"])


# ---------------------------------------------------------------------------------------
# Construction and types


@pytest.mark.parametrize(
    ("size", "error"),
    [(-1, ValueError), (1.5, TypeError), ("3", TypeError), (None, TypeError), (True, TypeError)],
)
def test_bad_buffer_size(size: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        tether.open_memory_channel(size)


def test_ends_have_no_public_constructor() -> None:
    with pytest.raises(TypeError):
        tether.MemorySendChannel()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        tether.MemoryReceiveChannel()  # type: ignore[call-arg]


def test_result_is_a_pair_and_subscript_works() -> None:
    pair = tether.open_memory_channel[int](0)
    assert isinstance(pair, tuple)
    assert len(pair) == 2
    send, receive = pair
    assert isinstance(send, tether.MemorySendChannel)
    assert isinstance(receive, tether.MemoryReceiveChannel)
    assert isinstance(send, tether.abc.SendChannel)
    assert isinstance(receive, tether.abc.ReceiveChannel)
    assert isinstance(send, tether.abc.AsyncResource)
    assert not isinstance(cast(object, send), tether.abc.ReceiveChannel)
    assert "send channel" in repr(send)
    assert "receive channel" in repr(receive)


def test_abcs_are_abstract() -> None:
    with pytest.raises(TypeError):
        tether.abc.AsyncResource()  # type: ignore[abstract]
    with pytest.raises(TypeError):
        tether.abc.SendChannel()  # type: ignore[abstract]
    with pytest.raises(TypeError):
        tether.abc.ReceiveChannel()  # type: ignore[abstract]
    with pytest.raises(TypeError):
        tether.abc.Channel()  # type: ignore[abstract]


async def test_a_user_channel_gets_iteration_and_async_with() -> None:
    class Loopback(tether.abc.Channel[int]):
        def __init__(self) -> None:
            self.items: list[int] = []
            self.closed = False

        async def send(self, value: int) -> None:
            self.items.append(value)

        async def receive(self) -> int:
            if not self.items:
                raise tether.EndOfChannel
            return self.items.pop(0)

        async def aclose(self) -> None:
            self.closed = True

    async with Loopback() as loop:
        for i in range(3):
            await loop.send(i)
        assert [x async for x in loop] == [0, 1, 2]
    assert loop.closed


# ---------------------------------------------------------------------------------------
# Basic traffic


@buffer_sizes
async def test_values_arrive_in_order(size: float) -> None:
    send, receive = tether.open_memory_channel[int](size)
    got: list[int] = []

    async def producer() -> None:
        async with send:
            for i in range(20):
                await send.send(i)

    async def consumer() -> None:
        async with receive:
            got.extend([value async for value in receive])

    async with tether.open_nursery() as nursery:
        nursery.start_soon(consumer)
        nursery.start_soon(producer)
    assert got == list(range(20))


async def test_unbuffered_send_waits_for_a_receiver() -> None:
    send, receive = tether.open_memory_channel[str](0)
    done: list[str] = []

    async def sender() -> None:
        await send.send("x")
        done.append("sent")

    async with tether.open_nursery() as nursery:
        nursery.start_soon(sender)
        await wait_all_tasks_blocked()
        assert done == []
        assert send.statistics().tasks_waiting_send == 1
        assert await receive.receive() == "x"
        await wait_all_tasks_blocked()
        assert done == ["sent"]


async def test_buffered_send_fills_then_waits() -> None:
    send, receive = tether.open_memory_channel[int](2)
    send.send_nowait(1)
    await send.send(2)
    with pytest.raises(tether.WouldBlock):
        send.send_nowait(3)
    stats = send.statistics()
    assert stats.current_buffer_used == 2
    assert stats.max_buffer_size == 2

    async with tether.open_nursery() as nursery:
        nursery.start_soon(send.send, 3)
        await wait_all_tasks_blocked()
        nursery.start_soon(send.send, 4)
        await wait_all_tasks_blocked()
        assert receive.statistics().tasks_waiting_send == 2
        # Taking from the front lets the longest-waiting sender's value in at the back.
        assert receive.receive_nowait() == 1
        assert receive.statistics().tasks_waiting_send == 1
        assert receive.statistics().current_buffer_used == 2
        assert await receive.receive() == 2
        assert [receive.receive_nowait(), receive.receive_nowait()] == [3, 4]
    with pytest.raises(tether.WouldBlock):
        receive.receive_nowait()


async def test_unbuffered_receive_nowait_takes_from_a_waiting_sender() -> None:
    send, receive = tether.open_memory_channel[int](0)
    with pytest.raises(tether.WouldBlock):
        send.send_nowait(1)
    with pytest.raises(tether.WouldBlock):
        receive.receive_nowait()
    async with tether.open_nursery() as nursery:
        nursery.start_soon(send.send, 7)
        await wait_all_tasks_blocked()
        assert receive.receive_nowait() == 7
        assert receive.statistics().current_buffer_used == 0
        # And a waiting receiver takes a send_nowait directly.
        results: list[int] = []

        async def receiver() -> None:
            results.append(await receive.receive())

        nursery.start_soon(receiver)
        await wait_all_tasks_blocked()
        send.send_nowait(8)
        await wait_all_tasks_blocked()
        assert results == [8]


async def test_infinite_buffer_never_blocks() -> None:
    send, receive = tether.open_memory_channel[int](math.inf)
    with assert_no_checkpoints():
        for i in range(1000):
            send.send_nowait(i)
    assert send.statistics().current_buffer_used == 1000
    assert send.statistics().max_buffer_size == math.inf
    with assert_no_checkpoints():
        assert [receive.receive_nowait() for _ in range(1000)] == list(range(1000))


# ---------------------------------------------------------------------------------------
# Closing: EndOfChannel, BrokenResourceError, ClosedResourceError


@buffer_sizes
async def test_end_of_channel_after_last_sender_closes_and_buffer_drains(size: float) -> None:
    send, receive = tether.open_memory_channel[int](size)
    if size:
        send.send_nowait(1)
    clone = send.clone()
    await send.aclose()
    if size:
        assert receive.receive_nowait() == 1
    with pytest.raises(tether.WouldBlock):
        receive.receive_nowait()  # the clone is still open
    clone.close()
    with pytest.raises(tether.EndOfChannel):
        receive.receive_nowait()
    with pytest.raises(tether.EndOfChannel):
        await receive.receive()
    assert [x async for x in receive] == []


async def test_waiting_receivers_get_end_of_channel() -> None:
    send, receive = tether.open_memory_channel[int](0)
    other = receive.clone()
    outcomes: list[str] = []

    async def receiver(channel: tether.MemoryReceiveChannel[int]) -> None:
        try:
            await channel.receive()
        except tether.EndOfChannel:
            outcomes.append("end")

    async with tether.open_nursery() as nursery:
        nursery.start_soon(receiver, receive)
        nursery.start_soon(receiver, other)
        await wait_all_tasks_blocked()
        assert receive.statistics().tasks_waiting_receive == 2
        send.close()
    assert outcomes == ["end", "end"]


@buffer_sizes
async def test_broken_when_every_receiver_is_closed(size: float) -> None:
    send, receive = tether.open_memory_channel[int](size)
    if size:
        send.send_nowait(1)
    clone = receive.clone()
    receive.close()
    if size > 1:
        send.send_nowait(2)  # one receiver left
    await clone.aclose()
    assert send.statistics().current_buffer_used == 0  # the buffer was discarded
    with pytest.raises(tether.BrokenResourceError):
        send.send_nowait(3)
    with pytest.raises(tether.BrokenResourceError):
        await send.send(3)


async def test_waiting_senders_get_broken_resource_error() -> None:
    send, receive = tether.open_memory_channel[int](0)
    outcomes: list[str] = []

    async def sender(value: int) -> None:
        try:
            await send.send(value)
        except tether.BrokenResourceError:
            outcomes.append("broken")

    async with tether.open_nursery() as nursery:
        nursery.start_soon(sender, 1)
        nursery.start_soon(sender, 2)
        await wait_all_tasks_blocked()
        receive.close()
    assert outcomes == ["broken", "broken"]
    assert send.statistics().tasks_waiting_send == 0


async def test_using_a_closed_handle() -> None:
    send, receive = tether.open_memory_channel[int](1)
    send_clone, receive_clone = send.clone(), receive.clone()
    send.close()
    receive.close()
    send.close()  # idempotent
    await receive.aclose()
    with pytest.raises(tether.ClosedResourceError):
        send.send_nowait(1)
    with pytest.raises(tether.ClosedResourceError):
        await send.send(1)
    with pytest.raises(tether.ClosedResourceError):
        send.clone()
    with pytest.raises(tether.ClosedResourceError):
        receive.receive_nowait()
    with pytest.raises(tether.ClosedResourceError):
        await receive.receive()
    with pytest.raises(tether.ClosedResourceError):
        receive.clone()
    # The clones are unaffected.
    send_clone.send_nowait(5)
    assert receive_clone.receive_nowait() == 5


async def test_closing_a_handle_wakes_only_its_own_waiters() -> None:
    send, receive = tether.open_memory_channel[int](0)
    send2 = send.clone()
    outcomes: dict[str, str] = {}

    async def sender(name: str, channel: tether.MemorySendChannel[int]) -> None:
        try:
            await channel.send(0)
            outcomes[name] = "sent"
        except tether.ClosedResourceError:
            outcomes[name] = "closed"

    async with tether.open_nursery() as nursery:
        nursery.start_soon(sender, "a", send)
        await wait_all_tasks_blocked()
        nursery.start_soon(sender, "b", send2)
        await wait_all_tasks_blocked()
        send.close()
        await wait_all_tasks_blocked()
        assert outcomes == {"a": "closed"}
        assert receive.statistics().open_send_channels == 1
        assert await receive.receive() == 0
    assert outcomes == {"a": "closed", "b": "sent"}

    receive2 = receive.clone()
    results: dict[str, str] = {}

    async def receiver(name: str, channel: tether.MemoryReceiveChannel[int]) -> None:
        try:
            results[name] = str(await channel.receive())
        except tether.ClosedResourceError:
            results[name] = "closed"

    async with tether.open_nursery() as nursery:
        nursery.start_soon(receiver, "a", receive)
        await wait_all_tasks_blocked()
        nursery.start_soon(receiver, "b", receive2)
        await wait_all_tasks_blocked()
        receive.close()
        await wait_all_tasks_blocked()
        assert results == {"a": "closed"}
        await send2.send(9)
    assert results == {"a": "closed", "b": "9"}


async def test_sync_and_async_context_managers_close() -> None:
    send, receive = tether.open_memory_channel[int](0)
    with send:
        pass
    async with receive:
        pass
    stats = send.statistics()
    assert (stats.open_send_channels, stats.open_receive_channels) == (0, 0)
    with pytest.raises(tether.ClosedResourceError):
        send.send_nowait(1)
    send2, receive2 = tether.open_memory_channel[int](0)
    async with send2:
        with receive2 as entered:
            assert entered is receive2
    stats = send2.statistics()
    assert (stats.open_send_channels, stats.open_receive_channels) == (0, 0)


async def test_aclose_is_a_checkpoint_and_close_is_not() -> None:
    send, receive = tether.open_memory_channel[int](0)
    with assert_checkpoints():
        await send.aclose()
    with assert_no_checkpoints():
        receive.close()


# ---------------------------------------------------------------------------------------
# Statistics


async def test_statistics() -> None:
    send, receive = tether.open_memory_channel[int](2)
    send2 = send.clone()
    receive2 = receive.clone()
    receive3 = receive2.clone()
    expected = tether.MemoryChannelStatistics(
        current_buffer_used=0,
        max_buffer_size=2,
        open_send_channels=2,
        open_receive_channels=3,
        tasks_waiting_send=0,
        tasks_waiting_receive=0,
    )
    assert send.statistics() == expected
    assert receive3.statistics() == expected
    send2.send_nowait(1)
    receive3.close()
    stats = receive.statistics()
    assert stats.current_buffer_used == 1
    assert stats.open_receive_channels == 2
    async with tether.open_nursery() as nursery:
        receive.receive_nowait()
        nursery.start_soon(receive.receive)
        nursery.start_soon(receive2.receive)
        await wait_all_tasks_blocked()
        assert send.statistics().tasks_waiting_receive == 2
        send.send_nowait(1)
        send.send_nowait(2)
    assert send.statistics().tasks_waiting_receive == 0


# ---------------------------------------------------------------------------------------
# Fairness


async def test_receivers_are_served_in_fifo_order() -> None:
    send, receive = tether.open_memory_channel[int](0)
    got: list[tuple[int, int]] = []

    async def receiver(i: int) -> None:
        got.append((i, await receive.receive()))

    async with tether.open_nursery() as nursery:
        for i in range(5):
            nursery.start_soon(receiver, i)
            await wait_all_tasks_blocked()
        for value in range(5):
            await send.send(value * 10)
    assert got == [(i, i * 10) for i in range(5)]


@pytest.mark.parametrize("size", [0, 2])
async def test_senders_are_served_in_fifo_order(size: int) -> None:
    send, receive = tether.open_memory_channel[int](size)
    for i in range(size):
        send.send_nowait(-1 - i)
    async with tether.open_nursery() as nursery:
        for i in range(5):
            nursery.start_soon(send.send, i)
            await wait_all_tasks_blocked()
        got = [await receive.receive() for _ in range(5 + size)]
    assert got == [-1 - i for i in range(size)] + list(range(5))


# ---------------------------------------------------------------------------------------
# Checkpoints and cancellation


@buffer_sizes
async def test_send_and_receive_are_checkpoints_even_when_immediate(size: float) -> None:
    send, receive = tether.open_memory_channel[int](size)

    async def partner() -> None:
        if size:
            return
        await receive.receive()
        await send.send(2)

    async with tether.open_nursery() as nursery:
        nursery.start_soon(partner)
        await wait_all_tasks_blocked()
        with assert_checkpoints():
            await send.send(1)  # immediate: a receiver waits or the buffer has room
        if size:
            with assert_checkpoints():
                assert await receive.receive() == 1
        else:
            await wait_all_tasks_blocked()
            with assert_checkpoints():
                assert await receive.receive() == 2  # immediate: the partner waits
    with assert_no_checkpoints():
        with pytest.raises(tether.WouldBlock):
            receive.receive_nowait()


@buffer_sizes
async def test_cancelled_before_send_or_receive_does_nothing(size: float) -> None:
    send, receive = tether.open_memory_channel[int](size)
    if size:
        send.send_nowait(1)
    with tether.CancelScope() as scope:
        scope.cancel()
        await send.send(2)
    assert scope.cancelled_caught
    with tether.CancelScope() as scope:
        scope.cancel()
        await receive.receive()
    assert scope.cancelled_caught
    stats = send.statistics()
    assert stats.current_buffer_used == (1 if size else 0)


async def test_cancelled_waiting_sender_sends_nothing() -> None:
    send, receive = tether.open_memory_channel[int](0)
    scope = tether.CancelScope()

    async def sender() -> None:
        with scope:
            await send.send(1)

    async with tether.open_nursery() as nursery:
        nursery.start_soon(sender)
        nursery.start_soon(send.send, 2)
        await wait_all_tasks_blocked()
        scope.cancel()
        await wait_all_tasks_blocked()
        assert send.statistics().tasks_waiting_send == 1
        assert await receive.receive() == 2
    assert scope.cancelled_caught


async def test_cancelled_waiting_receiver_takes_nothing() -> None:
    send, receive = tether.open_memory_channel[int](0)
    scope = tether.CancelScope()
    got: list[int] = []

    async def receiver(cancellable: bool) -> None:
        with scope if cancellable else tether.CancelScope():
            got.append(await receive.receive())

    async with tether.open_nursery() as nursery:
        nursery.start_soon(receiver, True)
        await wait_all_tasks_blocked()
        nursery.start_soon(receiver, False)
        await wait_all_tasks_blocked()
        scope.cancel()
        await wait_all_tasks_blocked()
        assert receive.statistics().tasks_waiting_receive == 1
        await send.send(5)
    assert got == [5]


async def test_receiver_cancelled_mid_hand_off_still_gets_the_value() -> None:
    send, receive = tether.open_memory_channel[int](0)
    scope = tether.CancelScope()
    got: list[int] = []

    async def receiver() -> None:
        with scope:
            got.append(await receive.receive())
            await tether.checkpoint()  # the cancellation lands here instead
            raise AssertionError("unreachable")  # pragma: no cover

    async with tether.open_nursery() as nursery:
        nursery.start_soon(receiver)
        await wait_all_tasks_blocked()
        send.send_nowait(42)  # handed over, the receiver has not run yet
        scope.cancel()
    assert got == [42]
    assert scope.cancelled_caught


async def test_sender_cancelled_mid_hand_off_still_counts_as_sent() -> None:
    send, receive = tether.open_memory_channel[int](0)
    scope = tether.CancelScope()
    events: list[str] = []

    async def sender() -> None:
        with scope:
            await send.send(42)
            events.append("send returned")
            await tether.checkpoint()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(sender)
        await wait_all_tasks_blocked()
        assert receive.receive_nowait() == 42
        scope.cancel()
    assert events == ["send returned"]


async def test_closing_wakes_a_task_parked_on_the_handle() -> None:
    _send, receive = tether.open_memory_channel[int](0)

    async def close_soon(channel: Any) -> None:
        await wait_all_tasks_blocked()
        channel.close()

    async with tether.open_nursery() as nursery:
        nursery.start_soon(close_soon, receive)
        with pytest.raises(tether.ClosedResourceError):
            await receive.receive()
    send2, _receive2 = tether.open_memory_channel[int](0)
    async with tether.open_nursery() as nursery:
        nursery.start_soon(close_soon, send2)
        with pytest.raises(tether.ClosedResourceError):
            await send2.send(1)


# ---------------------------------------------------------------------------------------
# A bigger pipeline: fan-out / fan-in with clones


async def test_fan_out_fan_in_delivers_everything_once() -> None:
    send, receive = tether.open_memory_channel[int](3)
    results_send, results_receive = tether.open_memory_channel[int](0)
    n_items = 200

    async def producer(channel: tether.MemorySendChannel[int], start: int) -> None:
        async with channel:
            for i in range(start, n_items, 2):
                await channel.send(i)

    async def worker(
        inbox: tether.MemoryReceiveChannel[int], outbox: tether.MemorySendChannel[int]
    ) -> None:
        async with inbox, outbox:
            async for item in inbox:
                await outbox.send(item * 2)

    async with tether.open_nursery() as nursery:
        async with send, receive, results_send:
            nursery.start_soon(producer, send.clone(), 0)
            nursery.start_soon(producer, send.clone(), 1)
            for _ in range(3):
                nursery.start_soon(worker, receive.clone(), results_send.clone())
        collected = [item async for item in results_receive]
    assert sorted(collected) == [i * 2 for i in range(n_items)]


async def test_statistics_dataclass_is_frozen() -> None:
    stats = tether.open_memory_channel[int](0)[0].statistics()
    with pytest.raises(AttributeError):
        stats.current_buffer_used = 3  # type: ignore[misc]


async def test_demo_channels(capsys: pytest.CaptureFixture[str]) -> None:
    from tether._demo_channels import demo_channels

    await demo_channels()
    out = capsys.readouterr().out
    assert "squared 6 -> 36" in out
    assert "sum of squares 91" in out


async def test_timeouts_interrupt_send_and_receive(
    autojump_clock: tether.testing.MockClock,
) -> None:
    send, receive = tether.open_memory_channel[int](0)
    with tether.move_on_after(3) as scope:
        await receive.receive()
    assert scope.cancelled_caught
    with pytest.raises(tether.TooSlowError):
        with tether.fail_after(3):
            await send.send(1)
    assert tether.current_time() == pytest.approx(6)
    stats = send.statistics()
    assert (stats.tasks_waiting_send, stats.tasks_waiting_receive) == (0, 0)
    with pytest.raises(tether.WouldBlock):
        receive.receive_nowait()  # the timed-out send delivered nothing
