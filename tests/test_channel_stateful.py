"""Stateful property test for memory channels: nothing sent is ever lost or duplicated.

Hypothesis drives a random mix of senders and receivers (blocking and ``_nowait``),
clones, closes and cancellations against one channel, including cancellations that land
in the middle of a hand-off. After every step, with every task blocked, it checks the
conservation law

    values whose send succeeded == values received + values buffered + values discarded

(values are discarded only by closing the last receive handle), that no value is
received twice, that no value whose send failed is ever received, and that the
channel's statistics agree with what the test knows is waiting.

Hypothesis rules are synchronous, so the tether run lives in a helper thread: each rule
hands it one command, and the thread reports back once the command ran and every task
is blocked again (``wait_all_tasks_blocked``). Only one thread runs at a time.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import tether
import tether.lowlevel
from tether.testing import wait_all_tasks_blocked

_TIMEOUT = 30.0

Command = Callable[[], Awaitable[None]]


class _RunInThread:
    """One ``tether.run`` in a background thread, executing commands on request."""

    def __init__(self) -> None:
        self._idle = threading.Event()
        self._command: Command | None = None
        self._error: BaseException | None = None
        self._wakeup: tether.Event | None = None
        self._token: tether.lowlevel.TetherToken | None = None
        self.nursery: tether.Nursery | None = None
        self._thread = threading.Thread(target=self._thread_main, daemon=True)
        self._thread.start()
        self._wait_idle()

    def _thread_main(self) -> None:
        try:
            tether.run(self._main)
        except BaseException as exc:
            self._error = exc
        finally:
            self._idle.set()

    async def _main(self) -> None:
        self._token = tether.lowlevel.current_tether_token()
        async with tether.open_nursery() as nursery:
            self.nursery = nursery
            while True:
                wakeup = self._wakeup = tether.Event()
                self._idle.set()
                await wakeup.wait()
                command = self._command
                if command is None:
                    break
                try:
                    await command()
                except Exception as exc:
                    self._error = exc
                await wait_all_tasks_blocked()
            nursery.cancel_scope.cancel()

    def _wait_idle(self) -> None:
        if not self._idle.wait(_TIMEOUT):
            raise AssertionError("the tether run did not become idle (a lost wake-up?)")
        self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _wake(self) -> None:
        assert self._wakeup is not None
        self._wakeup.set()

    def call(self, command: Command) -> None:
        """Run ``command`` in the tether thread; return once all its tasks are blocked."""
        assert self._token is not None
        self._idle.clear()
        self._command = command
        self._token.run_sync_soon(self._wake)
        self._wait_idle()

    def stop(self) -> None:
        """Cancel every task and end the run."""
        if self._thread.is_alive() and self._token is not None:
            self._idle.clear()
            self._command = None
            self._token.run_sync_soon(self._wake)
            self._thread.join(_TIMEOUT)
            assert not self._thread.is_alive(), "the tether run did not finish"
        self._raise_error()


HANDLE = st.integers(min_value=0, max_value=7)


class ChannelMachine(RuleBasedStateMachine):
    """Random traffic on one memory channel, with the conservation law as invariant."""

    def __init__(self) -> None:
        super().__init__()
        self.run: _RunInThread | None = None
        self.send_handles: list[tether.MemorySendChannel[int]] = []
        self.receive_handles: list[tether.MemoryReceiveChannel[int]] = []
        self.send_open: list[bool] = []
        self.receive_open: list[bool] = []
        self.next_item = 0
        self.sent_ok: set[int] = set()
        self.send_failed: set[int] = set()
        self.received: list[int] = []
        self.discarded = 0
        # Scopes of the tasks still running, by kind.
        self.waiting_senders: dict[tether.CancelScope, int] = {}
        self.waiting_receivers: set[tether.CancelScope] = set()
        self.unexpected: list[BaseException] = []

    # -- set-up and helpers ---------------------------------------------------------------

    @initialize(size=st.sampled_from([0, 1, 2, 5, math.inf]))
    def open_channel(self, size: float) -> None:
        self.size = size
        send, receive = tether.open_memory_channel[int](size)
        self.send_handles.append(send)
        self.receive_handles.append(receive)
        self.send_open.append(True)
        self.receive_open.append(True)
        self.run = _RunInThread()

    def teardown(self) -> None:
        if self.run is None:
            return
        try:
            self._do(self._cancel_everything)
            self.check_conservation()
            self.check_statistics()
        finally:
            self.run.stop()

    def _do(self, command: Command) -> None:
        assert self.run is not None
        self.run.call(command)
        assert not self.unexpected, self.unexpected

    def _new_item(self) -> int:
        self.next_item += 1
        return self.next_item

    def _sender_for(self, index: int) -> tuple[int, tether.MemorySendChannel[int]]:
        index %= len(self.send_handles)
        return index, self.send_handles[index]

    def _receiver_for(self, index: int) -> tuple[int, tether.MemoryReceiveChannel[int]]:
        index %= len(self.receive_handles)
        return index, self.receive_handles[index]

    def _spawn(self, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        assert self.run is not None
        assert self.run.nursery is not None
        self.run.nursery.start_soon(fn, *args)

    def _is_open(self, channel: object) -> bool:
        for handles, flags in (
            (self.send_handles, self.send_open),
            (self.receive_handles, self.receive_open),
        ):
            for handle, is_open in zip(handles, flags, strict=True):
                if handle is channel:
                    return is_open
        raise AssertionError("unknown handle")  # pragma: no cover

    def _check_send_error(self, channel: tether.MemorySendChannel[int], exc: Exception) -> None:
        # Each error must be the one the model predicts.
        stats = channel.statistics()
        if isinstance(exc, tether.ClosedResourceError):
            ok = not self._is_open(channel)
        elif isinstance(exc, tether.BrokenResourceError):
            ok = self._is_open(channel) and not any(self.receive_open)
        else:  # WouldBlock
            ok = (
                self._is_open(channel)
                and any(self.receive_open)
                and not stats.tasks_waiting_receive
                and stats.current_buffer_used >= self.size
            )
        if not ok:
            self.unexpected.append(exc)

    def _check_receive_error(
        self, channel: tether.MemoryReceiveChannel[int], exc: Exception
    ) -> None:
        stats = channel.statistics()
        if isinstance(exc, tether.ClosedResourceError):
            ok = not self._is_open(channel)
        elif isinstance(exc, tether.EndOfChannel):
            ok = (
                self._is_open(channel) and not any(self.send_open) and not stats.current_buffer_used
            )
        else:  # WouldBlock
            ok = (
                self._is_open(channel)
                and any(self.send_open)
                and not stats.tasks_waiting_send
                and not stats.current_buffer_used
            )
        if not ok:
            self.unexpected.append(exc)

    async def _sender_task(
        self, channel: tether.MemorySendChannel[int], item: int, scope: tether.CancelScope
    ) -> None:
        self.waiting_senders[scope] = item
        try:
            with scope:
                try:
                    await channel.send(item)
                except (tether.BrokenResourceError, tether.ClosedResourceError) as exc:
                    self._check_send_error(channel, exc)
                    self.send_failed.add(item)
                else:
                    self.sent_ok.add(item)
                return
            # Only reached when the scope caught a Cancelled: the send did not happen.
            self.send_failed.add(item)
        except BaseException as exc:  # pragma: no cover  # a bug: report it
            self.unexpected.append(exc)
        finally:
            del self.waiting_senders[scope]

    async def _receiver_task(
        self,
        channel: tether.MemoryReceiveChannel[int],
        scope: tether.CancelScope,
        via_iteration: bool = False,
    ) -> None:
        # via_iteration: one step of ``async for`` (``__anext__``) instead of receive().
        self.waiting_receivers.add(scope)
        try:
            with scope:
                try:
                    if via_iteration:
                        try:
                            item = await channel.__anext__()
                        except StopAsyncIteration:
                            raise tether.EndOfChannel from None
                    else:
                        item = await channel.receive()
                except (tether.EndOfChannel, tether.ClosedResourceError) as exc:
                    self._check_receive_error(channel, exc)
                    return
                self.received.append(item)
        except BaseException as exc:  # pragma: no cover  # a bug: report it
            self.unexpected.append(exc)
        finally:
            self.waiting_receivers.discard(scope)

    def _send_nowait(self, channel: tether.MemorySendChannel[int]) -> None:
        item = self._new_item()
        try:
            channel.send_nowait(item)
        except (tether.WouldBlock, tether.BrokenResourceError, tether.ClosedResourceError) as exc:
            self._check_send_error(channel, exc)
            self.send_failed.add(item)
        else:
            self.sent_ok.add(item)

    def _receive_nowait(self, channel: tether.MemoryReceiveChannel[int]) -> None:
        try:
            item = channel.receive_nowait()
        except (tether.WouldBlock, tether.EndOfChannel, tether.ClosedResourceError) as exc:
            self._check_receive_error(channel, exc)
            return
        self.received.append(item)

    def _close_receive(self, index: int) -> None:
        if self.receive_open[index]:
            if sum(self.receive_open) == 1:
                # The last receive handle: whatever is buffered is discarded.
                self.discarded += self.receive_handles[index].statistics().current_buffer_used
            self.receive_open[index] = False
        self.receive_handles[index].close()

    def _close_send(self, index: int) -> None:
        self.send_open[index] = False
        self.send_handles[index].close()

    def _cancel_all(self, scopes: Iterable[tether.CancelScope]) -> None:
        for scope in list(scopes):
            scope.cancel()

    async def _cancel_everything(self) -> None:
        self._cancel_all(self.waiting_senders)
        self._cancel_all(self.waiting_receivers)

    # -- rules ----------------------------------------------------------------------------
    #
    # A hand-off reschedules the parked partner. Cancelling the partner before it runs
    # (``cancel_partners``, and the two ``race_*`` rules) must neither lose the value nor
    # fail a send that delivered. Closing and mass cancellation are gated by a ``dice``
    # argument so that they do not end most runs within a few steps.

    @rule(handle=HANDLE)
    def start_sender(self, handle: int) -> None:
        _, channel = self._sender_for(handle)

        async def command() -> None:
            self._spawn(self._sender_task, channel, self._new_item(), tether.CancelScope())

        self._do(command)

    @rule(handle=HANDLE, via_iteration=st.booleans())
    def start_receiver(self, handle: int, via_iteration: bool) -> None:
        _, channel = self._receiver_for(handle)

        async def command() -> None:
            self._spawn(self._receiver_task, channel, tether.CancelScope(), via_iteration)

        self._do(command)

    @rule(handle=HANDLE, cancel_partners=st.booleans())
    def send_nowait(self, handle: int, cancel_partners: bool) -> None:
        _, channel = self._sender_for(handle)

        async def command() -> None:
            self._send_nowait(channel)
            if cancel_partners:
                self._cancel_all(self.waiting_receivers)

        self._do(command)

    @rule(handle=HANDLE, cancel_partners=st.booleans())
    def receive_nowait(self, handle: int, cancel_partners: bool) -> None:
        _, channel = self._receiver_for(handle)

        async def command() -> None:
            self._receive_nowait(channel)
            if cancel_partners:
                self._cancel_all(self.waiting_senders)

        self._do(command)

    async def _send_inline(self, channel: tether.MemorySendChannel[int]) -> None:
        # A blocking send from the controlling task itself, only when it will not block:
        # it takes a fast path (hand to a parked receiver, room in the buffer, or an error).
        stats = channel.statistics()
        would_block = not stats.tasks_waiting_receive and stats.current_buffer_used >= self.size
        if would_block and stats.open_receive_channels and stats.open_send_channels:
            return
        item = self._new_item()
        try:
            await channel.send(item)
        except (tether.BrokenResourceError, tether.ClosedResourceError) as exc:
            self._check_send_error(channel, exc)
            self.send_failed.add(item)
        else:
            self.sent_ok.add(item)

    async def _receive_inline(self, channel: tether.MemoryReceiveChannel[int]) -> None:
        # A blocking receive from the controlling task itself, only when it will not block.
        stats = channel.statistics()
        would_block = not (stats.tasks_waiting_send or stats.current_buffer_used)
        if would_block and stats.open_send_channels and stats.open_receive_channels:
            return
        try:
            item = await channel.receive()
        except (tether.EndOfChannel, tether.ClosedResourceError) as exc:
            self._check_receive_error(channel, exc)
            return
        self.received.append(item)

    @rule(handle=HANDLE, cancel_partners=st.booleans())
    def send_inline(self, handle: int, cancel_partners: bool) -> None:
        _, channel = self._sender_for(handle)

        async def command() -> None:
            await self._send_inline(channel)
            if cancel_partners:
                self._cancel_all(self.waiting_receivers)

        self._do(command)

    @rule(handle=HANDLE, cancel_partners=st.booleans())
    def receive_inline(self, handle: int, cancel_partners: bool) -> None:
        _, channel = self._receiver_for(handle)

        async def command() -> None:
            await self._receive_inline(channel)
            if cancel_partners:
                self._cancel_all(self.waiting_senders)

        self._do(command)

    @rule(
        receive_handle=HANDLE,
        send_handle=HANDLE,
        inline=st.booleans(),
        via_iteration=st.booleans(),
    )
    def race_receiver(
        self, receive_handle: int, send_handle: int, inline: bool, via_iteration: bool
    ) -> None:
        # Park a receiver, send to it, and cancel it in the same scheduling tick.
        _, receive_channel = self._receiver_for(receive_handle)
        _, send_channel = self._sender_for(send_handle)

        async def command() -> None:
            scope = tether.CancelScope()
            self._spawn(self._receiver_task, receive_channel, scope, via_iteration)
            await wait_all_tasks_blocked()
            if inline:
                await self._send_inline(send_channel)
            else:
                self._send_nowait(send_channel)
            scope.cancel()

        self._do(command)

    @rule(send_handle=HANDLE, receive_handle=HANDLE, inline=st.booleans())
    def race_sender(self, send_handle: int, receive_handle: int, inline: bool) -> None:
        # Park a sender, take its value, and cancel it in the same scheduling tick.
        _, send_channel = self._sender_for(send_handle)
        _, receive_channel = self._receiver_for(receive_handle)

        async def command() -> None:
            scope = tether.CancelScope()
            self._spawn(self._sender_task, send_channel, self._new_item(), scope)
            await wait_all_tasks_blocked()
            if inline:
                await self._receive_inline(receive_channel)
            else:
                self._receive_nowait(receive_channel)
            scope.cancel()

        self._do(command)

    @rule(handle=HANDLE, cancel_first=st.booleans())
    def clone_send(self, handle: int, cancel_first: bool) -> None:
        index, channel = self._sender_for(handle)

        async def command() -> None:
            if cancel_first:
                self._cancel_all(self.waiting_senders)
            try:
                clone = channel.clone()
            except tether.ClosedResourceError:
                assert not self.send_open[index]
            else:
                assert self.send_open[index]
                self.send_handles.append(clone)
                self.send_open.append(True)

        self._do(command)

    @rule(handle=HANDLE)
    def clone_receive(self, handle: int) -> None:
        index, channel = self._receiver_for(handle)

        async def command() -> None:
            try:
                clone = channel.clone()
            except tether.ClosedResourceError:
                assert not self.receive_open[index]
            else:
                assert self.receive_open[index]
                self.receive_handles.append(clone)
                self.receive_open.append(True)

        self._do(command)

    @rule(
        handle=HANDLE,
        use_aclose=st.booleans(),
        then_cancel=st.booleans(),
        dice=st.integers(min_value=0, max_value=3),
    )
    def close_send(self, handle: int, use_aclose: bool, then_cancel: bool, dice: int) -> None:
        if dice:
            return
        index, channel = self._sender_for(handle)

        async def command() -> None:
            if use_aclose:
                self.send_open[index] = False
                await channel.aclose()
            else:
                self._close_send(index)
            if then_cancel:
                await self._cancel_everything()

        self._do(command)

    @rule(
        handle=HANDLE,
        use_aclose=st.booleans(),
        then_cancel=st.booleans(),
        dice=st.integers(min_value=0, max_value=3),
    )
    def close_receive(self, handle: int, use_aclose: bool, then_cancel: bool, dice: int) -> None:
        if dice:
            return
        index, channel = self._receiver_for(handle)

        async def command() -> None:
            self._close_receive(index)
            if use_aclose:
                await channel.aclose()  # already closed: only checks that this is harmless
            if then_cancel:
                await self._cancel_everything()

        self._do(command)

    @rule(
        sending=st.booleans(),
        park_on=HANDLE,
        close=st.one_of(st.none(), HANDLE),
        dice=st.integers(min_value=0, max_value=1),
    )
    def park_then_close(self, sending: bool, park_on: int, close: int | None, dice: int) -> None:
        # Park a task on one handle, then close a handle of the same end (``close=None``:
        # a fresh clone of it): only tasks parked on the closed handle may see
        # ClosedResourceError, and closing a clone must leave the others working.
        if dice:
            return

        async def command() -> None:
            if sending:
                index, channel = self._sender_for(park_on)
                self._spawn(self._sender_task, channel, self._new_item(), tether.CancelScope())
                await wait_all_tasks_blocked()
                if close is None:
                    if not self.send_open[index]:
                        return
                    self.send_handles.append(channel.clone())
                    self.send_open.append(True)
                    self._close_send(len(self.send_handles) - 1)
                else:
                    self._close_send(self._sender_for(close)[0])
            else:
                index, receive_channel = self._receiver_for(park_on)
                self._spawn(self._receiver_task, receive_channel, tether.CancelScope())
                await wait_all_tasks_blocked()
                if close is None:
                    if not self.receive_open[index]:
                        return
                    self.receive_handles.append(receive_channel.clone())
                    self.receive_open.append(True)
                    self._close_receive(len(self.receive_handles) - 1)
                else:
                    self._close_receive(self._receiver_for(close)[0])

        self._do(command)

    @rule(which=st.integers(min_value=0, max_value=15), dice=st.integers(min_value=0, max_value=1))
    def cancel_one(self, which: int, dice: int) -> None:
        if dice:
            return

        async def command() -> None:
            scopes = list(self.waiting_senders) + list(self.waiting_receivers)
            if scopes:
                scopes[which % len(scopes)].cancel()

        self._do(command)

    @rule(dice=st.integers(min_value=0, max_value=2))
    def cancel_everything(self, dice: int) -> None:
        if not dice:
            self._do(self._cancel_everything)

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def check_conservation(self) -> None:
        if self.run is None:
            return
        received = set(self.received)
        assert len(received) == len(self.received), "a value was received twice"
        assert not (self.sent_ok & self.send_failed)
        assert received <= self.sent_ok, "a value was received but its send did not succeed"
        buffered = self.send_handles[0].statistics().current_buffer_used
        assert len(self.sent_ok) == len(received) + buffered + self.discarded, (
            "a value whose send succeeded was lost"
        )

    @invariant()
    def check_statistics(self) -> None:
        if self.run is None:
            return
        stats = self.send_handles[0].statistics()
        assert stats.open_send_channels == sum(self.send_open)
        assert stats.open_receive_channels == sum(self.receive_open)
        assert stats.tasks_waiting_send == len(self.waiting_senders)
        assert stats.tasks_waiting_receive == len(self.waiting_receivers)
        assert stats.max_buffer_size == self.size
        assert stats.current_buffer_used <= self.size
        if stats.tasks_waiting_receive:
            assert stats.current_buffer_used == 0
        if stats.tasks_waiting_send:
            assert stats.current_buffer_used == self.size


ChannelMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestChannelMachine = ChannelMachine.TestCase
