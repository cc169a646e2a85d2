"""Tests for tether.open_bridge_channel: a channel whose ends work from tasks (await
send/receive, async for) and from plain threads (send_blocking/receive_blocking, for).

Threads are started with to_thread.run_sync inside a nursery (so the structure joins
them) or as threading.Thread objects joined explicitly. When a task must know that a
thread is blocked in the channel it watches statistics().threads_waiting, the only
observable sign; polling it is a wait for a condition, with SAFETY as a net.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tether
import tether.abc
from tether.testing import assert_checkpoints, assert_no_checkpoints, wait_all_tasks_blocked

SAFETY = 10.0


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leftover = set(threading.enumerate()) - before
    assert not leftover, f"threads left behind: {sorted(t.name for t in leftover)}"


async def until(predicate: Callable[[], bool]) -> None:
    """Let the loop run until ``predicate()`` holds (it depends on another thread)."""
    deadline = time.monotonic() + SAFETY
    while not predicate():
        assert time.monotonic() < deadline, "condition never became true"
        await tether.sleep(0.001)


def in_thread(fn: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    """A to_thread.run_sync call of ``fn(*args)``, ready for nursery.start_soon."""
    return functools.partial(tether.to_thread.run_sync, fn, *args)


# ---------------------------------------------------------------------------------------
# Construction


@pytest.mark.parametrize(
    ("size", "error"),
    [(0, ValueError), (-1, ValueError), (1.5, TypeError), ("3", TypeError), (None, TypeError)],
)
async def test_bad_buffer_size(size: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        tether.open_bridge_channel(size)


async def test_bool_is_not_a_buffer_size() -> None:
    # As for open_memory_channel, which rejects True although bool is an int subclass.
    with pytest.raises(TypeError):
        tether.open_memory_channel(True)
    with pytest.raises(TypeError):
        tether.open_bridge_channel(True)


def test_open_needs_a_run() -> None:
    with pytest.raises(RuntimeError):
        tether.open_bridge_channel(1)


async def test_ends_types_and_repr() -> None:
    send, receive = tether.open_bridge_channel(1)
    assert isinstance(send, tether.BridgeSendChannel)
    assert isinstance(receive, tether.BridgeReceiveChannel)
    assert isinstance(send, tether.abc.SendChannel)
    assert isinstance(receive, tether.abc.ReceiveChannel)
    assert "BridgeSendChannel" in repr(send)
    assert "closed" not in repr(receive)
    receive.close()
    assert "closed" in repr(receive)
    send.close()


# ---------------------------------------------------------------------------------------
# Task side


async def test_nowait_forms_and_fifo_order() -> None:
    send, receive = tether.open_bridge_channel(3)
    with assert_no_checkpoints():
        for i in range(3):
            send.send_nowait(i)
        with pytest.raises(tether.WouldBlock):
            send.send_nowait(3)
        assert [receive.receive_nowait() for _ in range(3)] == [0, 1, 2]
        with pytest.raises(tether.WouldBlock):
            receive.receive_nowait()


async def test_infinite_buffer_never_blocks() -> None:
    send, receive = tether.open_bridge_channel(math.inf)
    for i in range(10_000):
        send.send_nowait(i)
    assert send.statistics().current_buffer_used == 10_000
    assert send.statistics().max_buffer_size == math.inf
    assert receive.receive_nowait() == 0


async def test_send_and_receive_are_checkpoints_and_cancellable() -> None:
    send, receive = tether.open_bridge_channel(1)
    with assert_checkpoints():
        await send.send("a")
    with assert_checkpoints():
        assert await receive.receive() == "a"
    # Cancelled before the call: nothing is sent, nothing is taken.
    with tether.CancelScope() as scope:
        scope.cancel()
        await send.send("lost")
    assert scope.cancelled_caught
    assert send.statistics().current_buffer_used == 0
    send.send_nowait("kept")
    with tether.CancelScope() as scope:
        scope.cancel()
        await receive.receive()
    assert receive.receive_nowait() == "kept"


async def test_cancelled_waiters_leave_cleanly(autojump_clock: Any) -> None:
    send, receive = tether.open_bridge_channel(1)
    with tether.move_on_after(1) as scope:  # nothing will ever arrive
        await receive.receive()
    assert scope.cancelled_caught
    assert receive.statistics().tasks_waiting == 0
    send.send_nowait(1)
    with tether.move_on_after(1) as scope:  # full; nobody will receive
        await send.send(2)
    assert scope.cancelled_caught
    assert send.statistics().tasks_waiting == 0
    assert receive.receive_nowait() == 1  # only the value whose send returned
    with pytest.raises(tether.WouldBlock):
        receive.receive_nowait()


async def test_async_with_and_aclose() -> None:
    send, receive = tether.open_bridge_channel(1)
    async with send:
        pass
    with pytest.raises(tether.ClosedResourceError):
        await send.send(1)
    await receive.aclose()
    await receive.aclose()  # idempotent
    assert receive.statistics().open_receive_channels == 0


async def test_aclose_is_a_checkpoint_like_a_memory_channels() -> None:
    # MemorySendChannel.aclose (as Trio's) closes, then runs a full checkpoint: in a
    # cancelled scope it closes *and* raises Cancelled. The bridge promises memory-channel
    # semantics, so the same holds for it.
    memory_send, memory_receive = tether.open_memory_channel[int](0)
    bridge_send, bridge_receive = tether.open_bridge_channel(1)
    for handle in (memory_send, bridge_send, memory_receive, bridge_receive):
        with assert_checkpoints():
            await handle.aclose()
    send, _ = tether.open_bridge_channel(1)
    with tether.CancelScope() as scope:
        scope.cancel()
        await send.aclose()
    assert scope.cancelled_caught
    assert send.statistics().open_send_channels == 0


# ---------------------------------------------------------------------------------------
# Pipelines between the two worlds


async def test_task_to_thread_pipeline() -> None:
    send, receive = tether.open_bridge_channel(4)

    def consume(inbox: tether.BridgeReceiveChannel[int]) -> list[int]:
        with inbox:
            return list(inbox)  # a plain for loop, until every sender is closed

    async def produce() -> None:
        async with send:
            for i in range(1000):
                await send.send(i)

    async with tether.open_nursery() as nursery:
        nursery.start_soon(produce)
        received = await tether.to_thread.run_sync(consume, receive)
    assert received == list(range(1000))


async def test_thread_to_task_pipeline_with_a_plain_thread() -> None:
    send, receive = tether.open_bridge_channel(4)

    def produce() -> None:
        with send:
            for i in range(1000):
                send.send_blocking(i, timeout=SAFETY)

    thread = threading.Thread(target=produce)
    thread.start()
    try:
        received = [value async for value in receive]
    finally:
        thread.join()
    assert received == list(range(1000))


async def test_thread_round_trip_through_a_task() -> None:
    requests_send, requests_receive = tether.open_bridge_channel(1)
    replies_send, replies_receive = tether.open_bridge_channel(1)

    async def server() -> None:
        async with requests_receive, replies_send:
            async for n in requests_receive:
                await replies_send.send(n * n)

    def client() -> list[int]:
        answers = []
        with requests_send, replies_receive:
            for n in range(200):
                requests_send.send_blocking(n, timeout=SAFETY)
                answers.append(replies_receive.receive_blocking(timeout=SAFETY))
        return answers

    async with tether.open_nursery() as nursery:
        nursery.start_soon(server)
        answers = await tether.to_thread.run_sync(client)
    assert answers == [n * n for n in range(200)]


async def test_many_producers_and_consumers_with_clones() -> None:
    send, receive = tether.open_bridge_channel(3)
    per_producer = 300
    results: dict[str, list[tuple[str, int]]] = {}

    def thread_producer(name: str, outbox: tether.BridgeSendChannel[tuple[str, int]]) -> None:
        with outbox:
            for i in range(per_producer):
                outbox.send_blocking((name, i), timeout=SAFETY)

    async def task_producer(name: str, outbox: tether.BridgeSendChannel[tuple[str, int]]) -> None:
        async with outbox:
            for i in range(per_producer):
                await outbox.send((name, i))

    def thread_consumer(name: str, inbox: tether.BridgeReceiveChannel[tuple[str, int]]) -> None:
        with inbox:
            results[name] = list(inbox)

    async def task_consumer(name: str, inbox: tether.BridgeReceiveChannel[tuple[str, int]]) -> None:
        async with inbox:
            results[name] = [value async for value in inbox]

    producers = ["thread-p0", "thread-p1", "thread-p2", "task-p0", "task-p1"]
    async with tether.open_nursery() as nursery:
        with send, receive:  # the originals: each worker gets its own clone
            for name in producers:
                if name.startswith("thread"):
                    nursery.start_soon(in_thread(thread_producer, name, send.clone()))
                else:
                    nursery.start_soon(task_producer, name, send.clone())
            for i in range(2):
                nursery.start_soon(in_thread(thread_consumer, f"thread-c{i}", receive.clone()))
            for i in range(3):
                nursery.start_soon(task_consumer, f"task-c{i}", receive.clone())
    everything = [value for values in results.values() for value in values]
    assert sorted(everything) == sorted((p, i) for p in producers for i in range(per_producer))
    assert len(results) == 5  # every consumer ended on EndOfChannel
    for values in results.values():  # each producer's values arrive in order
        for producer in producers:
            mine = [i for p, i in values if p == producer]
            assert mine == sorted(mine)
    stats = send.statistics()
    assert (stats.open_send_channels, stats.open_receive_channels) == (0, 0)
    assert (stats.tasks_waiting, stats.threads_waiting) == (0, 0)


# ---------------------------------------------------------------------------------------
# Thread side: timeouts and misuse


async def test_thread_side_timeouts() -> None:
    send, receive = tether.open_bridge_channel(1)

    def scenario() -> list[str]:
        seen = []
        start = time.monotonic()
        try:
            receive.receive_blocking(timeout=0.05)
        except TimeoutError:
            seen.append("receive timed out")
        assert time.monotonic() - start >= 0.04
        send.send_blocking("first", timeout=0)  # room: no waiting, so no timeout
        try:
            send.send_blocking("second", timeout=0.05)
        except TimeoutError:
            seen.append("send timed out")
        try:
            send.send_blocking("third", timeout=0)
        except TimeoutError:
            seen.append("send timed out at once")
        seen.append(receive.receive_blocking(timeout=0))
        for bad in (-1.0, math.nan):
            try:
                receive.receive_blocking(timeout=bad)
            except ValueError:
                seen.append("bad timeout")
        return seen

    assert await tether.to_thread.run_sync(scenario) == [
        "receive timed out",
        "send timed out",
        "send timed out at once",
        "first",  # the timed-out sends put nothing in the buffer
        "bad timeout",
        "bad timeout",
    ]
    assert send.statistics().current_buffer_used == 0
    assert send.statistics().threads_waiting == 0


async def test_blocking_forms_in_the_loop_thread_that_would_block() -> None:
    send, receive = tether.open_bridge_channel(1)
    with pytest.raises(RuntimeError, match="loop"):
        receive.receive_blocking()
    send.send_nowait(1)
    with pytest.raises(RuntimeError, match="loop"):
        send.send_blocking(2)
    with pytest.raises(RuntimeError, match="loop"):
        send.send_blocking(2, timeout=1)
    assert receive.receive_nowait() == 1


async def test_blocking_forms_in_the_loop_thread_are_always_an_error() -> None:
    # The issue: "RuntimeError if the blocking forms are called in the loop thread". A
    # call that works only while the buffer happens to allow it would pass every test
    # and then fail (or, without the check, deadlock) under load; refuse it every time.
    send, receive = tether.open_bridge_channel(1)
    with pytest.raises(RuntimeError):
        send.send_blocking(1)  # there is room
    send.send_nowait(1)
    with pytest.raises(RuntimeError):
        receive.receive_blocking()  # there is a value
    assert send.statistics().current_buffer_used == 1


# ---------------------------------------------------------------------------------------
# Closing, from either side, wakes waiters in both worlds


async def test_end_of_channel_after_the_buffer_drains() -> None:
    send, receive = tether.open_bridge_channel(5)
    for i in range(3):
        await send.send(i)
    await send.aclose()
    assert [await receive.receive() for _ in range(2)] == [0, 1]

    def rest() -> list[Any]:
        got: list[Any] = [receive.receive_blocking()]
        try:
            receive.receive_blocking()
        except tether.EndOfChannel:
            got.append("EndOfChannel")
        return got

    assert await tether.to_thread.run_sync(rest) == [2, "EndOfChannel"]
    with pytest.raises(tether.EndOfChannel):
        await receive.receive()
    with pytest.raises(tether.EndOfChannel):
        receive.receive_nowait()


async def test_thread_closing_the_last_sender_wakes_a_waiting_task() -> None:
    send, receive = tether.open_bridge_channel(1)
    outcome: list[Any] = []

    async def waiter() -> None:
        try:
            await receive.receive()
        except tether.EndOfChannel:
            outcome.append("EndOfChannel")

    async with tether.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await wait_all_tasks_blocked()
        assert receive.statistics().tasks_waiting == 1
        await tether.to_thread.run_sync(send.close)
    assert outcome == ["EndOfChannel"]


async def test_task_closing_the_last_sender_wakes_a_waiting_thread() -> None:
    send, receive = tether.open_bridge_channel(1)

    def waiter() -> str:
        try:
            receive.receive_blocking(timeout=SAFETY)
        except tether.EndOfChannel:
            return "EndOfChannel"
        return "got a value?"

    async with tether.open_nursery() as nursery:

        async def run_waiter() -> None:
            assert await tether.to_thread.run_sync(waiter) == "EndOfChannel"

        nursery.start_soon(run_waiter)
        await until(lambda: receive.statistics().threads_waiting == 1)
        send.close()


async def test_thread_closing_the_last_receiver_breaks_a_waiting_sender_task() -> None:
    send, receive = tether.open_bridge_channel(1)
    send.send_nowait("fills the buffer")

    async with tether.open_nursery() as nursery:

        async def waiter() -> None:
            with pytest.raises(tether.BrokenResourceError):
                await send.send("waits")

        nursery.start_soon(waiter)
        await wait_all_tasks_blocked()
        assert send.statistics().tasks_waiting == 1
        await tether.to_thread.run_sync(receive.close)
    stats = send.statistics()
    assert stats.current_buffer_used == 0  # the buffered value was discarded
    with pytest.raises(tether.BrokenResourceError):
        send.send_nowait(1)
    with pytest.raises(tether.BrokenResourceError):
        await send.send(1)


async def test_task_closing_the_last_receiver_breaks_a_waiting_sender_thread() -> None:
    send, receive = tether.open_bridge_channel(1)
    send.send_nowait("fills the buffer")

    def waiter() -> list[str]:
        seen = []
        for _ in range(2):  # the waiting call, then a fresh one
            try:
                send.send_blocking("more", timeout=SAFETY)
            except tether.BrokenResourceError:
                seen.append("BrokenResourceError")
        return seen

    async with tether.open_nursery() as nursery:

        async def run_waiter() -> None:
            result = await tether.to_thread.run_sync(waiter)
            assert result == ["BrokenResourceError"] * 2

        nursery.start_soon(run_waiter)
        await until(lambda: send.statistics().threads_waiting == 1)
        await receive.aclose()


async def test_closing_a_handle_a_task_waits_on_raises_closed_there_only() -> None:
    send, receive = tether.open_bridge_channel(1)
    other = receive.clone()
    results: dict[str, Any] = {}

    async def wait_on(name: str, handle: tether.BridgeReceiveChannel[Any]) -> None:
        try:
            results[name] = await handle.receive()
        except tether.ClosedResourceError:
            results[name] = "ClosedResourceError"

    async with tether.open_nursery() as nursery:
        nursery.start_soon(wait_on, "closed one", receive)
        nursery.start_soon(wait_on, "other one", other)
        await wait_all_tasks_blocked()
        assert receive.statistics().tasks_waiting == 2
        await tether.to_thread.run_sync(receive.close)  # from a thread
        await wait_all_tasks_blocked()
        assert results == {"closed one": "ClosedResourceError"}
        await send.send("for the other")
    assert results["other one"] == "for the other"


async def test_closing_a_handle_a_thread_waits_on_raises_closed_in_the_thread() -> None:
    send, receive = tether.open_bridge_channel(1)
    send.send_nowait("full")
    extra_sender = send.clone()

    def blocked_receiver(handle: tether.BridgeReceiveChannel[Any]) -> str:
        try:
            handle.receive_blocking(timeout=SAFETY)
        except tether.ClosedResourceError:
            return "receiver: ClosedResourceError"
        return "receiver: got a value?"

    def blocked_sender(handle: tether.BridgeSendChannel[Any]) -> str:
        try:
            handle.send_blocking("more", timeout=SAFETY)
        except tether.ClosedResourceError:
            return "sender: ClosedResourceError"
        return "sender: sent?"

    outcomes: list[str] = []

    async def run(fn: Callable[[Any], str], handle: Any) -> None:
        outcomes.append(await tether.to_thread.run_sync(fn, handle))

    # A sender thread blocked on a full buffer, its handle closed by a task.
    async with tether.open_nursery() as nursery:
        nursery.start_soon(run, blocked_sender, extra_sender)
        await until(lambda: send.statistics().threads_waiting == 1)
        extra_sender.close()
    # A receiver thread blocked on an empty buffer, its handle closed by a task.
    assert receive.receive_nowait() == "full"
    async with tether.open_nursery() as nursery:
        nursery.start_soon(run, blocked_receiver, receive)
        await until(lambda: send.statistics().threads_waiting == 1)
        await receive.aclose()
    assert outcomes == ["sender: ClosedResourceError", "receiver: ClosedResourceError"]
    send.close()


async def test_a_waiting_task_sender_sees_its_own_handle_closed_from_a_thread() -> None:
    send, receive = tether.open_bridge_channel(1)
    send.send_nowait("full")

    async with tether.open_nursery() as nursery:

        async def waiter() -> None:
            with pytest.raises(tether.ClosedResourceError):
                await send.send("waits")

        nursery.start_soon(waiter)
        await wait_all_tasks_blocked()
        await tether.to_thread.run_sync(send.close)
    assert receive.receive_nowait() == "full"
    with pytest.raises(tether.EndOfChannel):
        receive.receive_nowait()


async def test_every_operation_on_a_closed_handle_is_closed_resource_error() -> None:
    send, receive = tether.open_bridge_channel(2)
    keep_send, keep_receive = send.clone(), receive.clone()
    send.close()
    send.close()  # idempotent
    receive.close()
    for call in (
        lambda: send.send_nowait(1),
        send.clone,
        receive.receive_nowait,
        receive.clone,
        lambda: next(iter(receive)),
    ):
        with pytest.raises(tether.ClosedResourceError):
            call()
    with pytest.raises(tether.ClosedResourceError):
        await send.send(1)
    with pytest.raises(tether.ClosedResourceError):
        await receive.receive()

    def thread_side() -> int:
        errors = 0
        for call in (lambda: send.send_blocking(1), receive.receive_blocking):
            try:
                call()
            except tether.ClosedResourceError:
                errors += 1
        return errors

    assert await tether.to_thread.run_sync(thread_side) == 2
    # The other handles still work.
    keep_send.send_nowait("still open")
    assert keep_receive.receive_nowait() == "still open"
    keep_send.close()
    keep_receive.close()


# ---------------------------------------------------------------------------------------
# Statistics


async def test_statistics() -> None:
    send, receive = tether.open_bridge_channel(2)
    stats = send.statistics()
    assert stats == receive.statistics()
    assert stats.current_buffer_used == 0
    assert stats.max_buffer_size == 2
    assert (stats.open_send_channels, stats.open_receive_channels) == (1, 1)
    assert (stats.tasks_waiting, stats.threads_waiting) == (0, 0)

    clone = send.clone()
    send.send_nowait(1)
    stats = receive.statistics()
    assert (stats.current_buffer_used, stats.open_send_channels) == (1, 2)

    # One task and one thread both waiting to send into a full buffer.
    send.send_nowait(2)
    async with tether.open_nursery() as nursery:
        nursery.start_soon(clone.send, 3)
        await wait_all_tasks_blocked()
        nursery.start_soon(in_thread(send.send_blocking, 4, SAFETY))
        await until(lambda: receive.statistics().threads_waiting == 1)
        stats = receive.statistics()
        assert (stats.tasks_waiting, stats.threads_waiting) == (1, 1)
        assert stats.current_buffer_used == 2
        drained = []
        while len(drained) < 4:
            drained.append(await receive.receive())
    assert sorted(drained) == [1, 2, 3, 4]
    stats = receive.statistics()
    assert (stats.tasks_waiting, stats.threads_waiting, stats.current_buffer_used) == (0, 0, 0)
    clone.close()
    send.close()
    assert receive.statistics().open_send_channels == 0


# ---------------------------------------------------------------------------------------
# Exactly once, whatever is cancelled when


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    buffer=st.sampled_from([1, 2, 5]),
    count=st.integers(0, 30),
    cancel_after=st.lists(st.integers(0, 6), max_size=25),
    thread_produces=st.booleans(),
)
def test_exactly_once_under_cancellation(
    buffer: int, count: int, cancel_after: list[int], thread_produces: bool
) -> None:
    """Every value whose send returned is received once; a cancelled send delivers nothing.

    One side is a thread, the other a task whose every operation runs in a cancel scope
    that a second task cancels after a Hypothesis-chosen number of checkpoints. A
    cancelled send is retried with the same value, so a send that both raised Cancelled
    and delivered would show up as a duplicate; a receive that took a value and then
    raised Cancelled would show up as a gap.
    """

    async def main() -> list[int]:
        send, receive = tether.open_bridge_channel(buffer)
        current: list[tether.CancelScope] = []
        received: list[int] = []

        async def canceller() -> None:
            for steps in cancel_after:
                for _ in range(steps):
                    await tether.checkpoint()
                if current:
                    current[-1].cancel()

        def thread_producer() -> None:
            with send:
                for i in range(count):
                    send.send_blocking(i, timeout=SAFETY)

        def thread_consumer() -> list[int]:
            with receive:
                return list(receive)

        async def task_producer() -> None:
            async with send:
                for i in range(count):
                    while True:
                        with tether.CancelScope() as scope:
                            current.append(scope)
                            await send.send(i)
                        if not scope.cancelled_caught:
                            break

        async def task_consumer() -> None:
            async with receive:
                while True:
                    with tether.CancelScope() as scope:
                        current.append(scope)
                        try:
                            received.append(await receive.receive())
                        except tether.EndOfChannel:
                            return

        async with tether.open_nursery() as nursery:
            nursery.start_soon(canceller)
            if thread_produces:
                nursery.start_soon(in_thread(thread_producer))
                await task_consumer()
            else:
                nursery.start_soon(task_producer)
                received = await tether.to_thread.run_sync(thread_consumer)
        return received

    assert tether.run(main) == list(range(count))
