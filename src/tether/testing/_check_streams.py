"""Conformance checkers for stream implementations: run them in your own test suite to
see that a :class:`~tether.abc.SendStream` / :class:`~tether.abc.ReceiveStream` /
:class:`~tether.abc.Stream` / :class:`~tether.abc.HalfCloseableStream` behaves the way the
interfaces promise (and the way code written against them assumes).

Each check runs on fresh streams from the caller's maker and closes them afterwards. A
failed check raises :exc:`AssertionError` naming the check. With the real clock, a check
that gets stuck (every task blocked, no I/O arriving and no timeout pending for a couple
of seconds, for example a receiver waiting for data the stream lost) fails too, instead
of hanging the test suite.
"""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import TypeVar

from .. import _core
from .._streams._abc import HalfCloseableStream, ReceiveStream, SendStream, Stream
from .._streams._util import aclose_forcefully

__all__ = ["check_half_closeable_stream", "check_one_way_stream", "check_two_way_stream"]

S = TypeVar("S", bound=SendStream)
R = TypeVar("R", bound=ReceiveStream)
T = TypeVar("T", bound=Stream)
V = TypeVar("V")

OneWayMaker = Callable[[], Awaitable[tuple[SendStream, ReceiveStream]]]
TwoWayMaker = Callable[[], Awaitable[tuple[Stream, Stream]]]
HalfCloseableMaker = Callable[[], Awaitable[tuple[HalfCloseableStream, HalfCloseableStream]]]

# Real seconds during which every task is blocked and no I/O arrives before a check is
# declared stuck. Only ever waited out when a check is about to fail anyway.
_STUCK_AFTER = 2.0
_LARGE = 2**20  # bytes moved by the large transfer checks


class _Fail(AssertionError):
    """An AssertionError raised by a check (as opposed to by the stream under test)."""


def _fail(message: str) -> _Fail:
    return _Fail(message)


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in _leaves(sub)]
    return [exc]


async def _guarded(name: str, check: Callable[[], Awaitable[None]]) -> None:
    """Run one check with a watchdog, turning a hang into an AssertionError and a group of
    AssertionErrors into the first of them, prefixed with the check's name."""

    async def watchdog() -> None:
        if isinstance(_core.current_clock(), _core.MockClock):
            # Virtual time: waiting for idleness would hold back autojumps. No watchdog.
            return
        while True:
            await _core.wait_all_tasks_blocked(_STUCK_AFTER)
            if math.isinf(_core.current_statistics().seconds_to_next_deadline):
                raise _fail(
                    f"every task stayed blocked for {_STUCK_AFTER} seconds, with no I/O and "
                    "no timeout pending (data or a wake-up was lost?)"
                )

    try:
        async with _core.open_nursery() as nursery:
            nursery.start_soon(watchdog)
            await check()
            nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        leaves = _leaves(group)
        if leaves and all(isinstance(leaf, AssertionError) for leaf in leaves):
            raise AssertionError(f"{name}: {leaves[0]}") from leaves[0]
        if len(leaves) == 1 and isinstance(leaves[0], Exception):
            # The stream raised something the contract does not allow here.
            raise AssertionError(f"{name}: unexpected {leaves[0]!r}") from leaves[0]
        raise
    except AssertionError as exc:  # pragma: no cover  # nurseries are strict
        raise AssertionError(f"{name}: {exc}") from exc


@asynccontextmanager
async def _fresh(
    maker: Callable[[], Awaitable[tuple[S, R]]],
) -> AsyncIterator[tuple[S, R]]:
    first, second = await maker()
    try:
        yield first, second
    finally:
        try:
            await aclose_forcefully(first)
        finally:
            await aclose_forcefully(second)


def _flipped(
    maker: Callable[[], Awaitable[tuple[T, T]]],
) -> Callable[[], Awaitable[tuple[T, T]]]:
    async def flipped() -> tuple[T, T]:
        first, second = await maker()
        return second, first

    return flipped


async def _fails_promptly(
    exc_type: type[Exception], what: str, fn: Callable[[], Awaitable[object]]
) -> None:
    """``fn()`` must raise ``exc_type`` without blocking (before every task is idle)."""
    got: list[str] = []

    async def attempt() -> None:
        try:
            await fn()
        except exc_type:
            got.append("")
        except Exception as exc:
            got.append(f"raised {exc!r}")
        else:
            got.append("returned")

    async with _core.open_nursery() as nursery:
        nursery.start_soon(attempt)
        await _core.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    if not got:
        raise _fail(f"{what} blocked instead of raising {exc_type.__name__}")
    if got[0]:
        raise _fail(f"{what} {got[0]}, expected {exc_type.__name__}")


async def _still_blocked(nursery: _core.Nursery, done: list[str], what: str) -> None:
    """After starting a task that appends to ``done`` when it finishes: it must block."""
    await _core.wait_all_tasks_blocked()
    if done:
        nursery.cancel_scope.cancel()
        raise _fail(f"{what} did not block ({done[0]})")


async def _send_op(s: SendStream, method: str) -> None:
    if method == "send_all":
        await s.send_all(b"x")
    else:
        await s.wait_send_all_might_not_block()


async def _start_blocked_send(nursery: _core.Nursery, s: SendStream, method: str) -> None:
    """Start ``method`` (``send_all`` or ``wait_send_all_might_not_block``) on clogged
    ``s`` in ``nursery``; it must block."""
    done: list[str] = []

    async def blocked() -> None:
        await _send_op(s, method)
        done.append("it returned")

    nursery.start_soon(blocked)
    await _still_blocked(nursery, done, f"{method} on a clogged stream")


async def _outcome(
    fn: Callable[[], Awaitable[object]],
    expected: type[Exception],
    during: Callable[[], Awaitable[None]],
) -> str:
    """Start ``fn()``, wait until it blocks, run ``during()``; describe how ``fn`` ended:
    ``""`` if it raised ``expected``."""
    outcome: list[str] = []

    async def attempt() -> None:
        try:
            await fn()
        except expected:
            outcome.append("")
        except Exception as exc:
            outcome.append(f"raised {exc!r}")
        else:
            outcome.append("returned")

    async with _core.open_nursery() as nursery:
        nursery.start_soon(attempt)
        await _core.wait_all_tasks_blocked()
        await during()
    return outcome[0]


async def _checkpointed(what: str, fn: Callable[[], Awaitable[V]]) -> V:
    """Await ``fn()``; it must execute a checkpoint when it returns normally."""
    try:
        with _core.assert_checkpoints():
            return await fn()
    except AssertionError as exc:
        if type(exc) is AssertionError and "checkpoint" in str(exc):
            raise _fail(f"{what} returned without a checkpoint") from None
        raise


async def _receive_exactly(
    r: ReceiveStream, count: int, max_bytes: int | None = None, what: str = "receive_some"
) -> bytes:
    """Receive ``count`` bytes, asking for at most ``max_bytes`` (and never more than is
    still due) at a time."""
    received = bytearray()
    while len(received) < count:
        limit = count - len(received)
        if max_bytes is not None:
            limit = min(limit, max_bytes)
        chunk = await r.receive_some(limit)
        if not isinstance(chunk, bytes | bytearray):
            raise _fail(f"{what} returned {type(chunk).__name__}, not bytes or bytearray")
        if not chunk:
            raise _fail(
                f"{what} reported end of stream after {len(received)} of {count} bytes (data lost?)"
            )
        if len(chunk) > limit:
            raise _fail(f"{what}({limit}) returned {len(chunk)} bytes")
        received += chunk
    return bytes(received)


async def _expect_eof(r: ReceiveStream, what: str) -> None:
    for _ in range(2):
        chunk = await _checkpointed(what, lambda: r.receive_some(10))
        if chunk != b"":
            raise _fail(f"{what} returned {bytes(chunk)!r}, expected b'' (end of stream)")


async def _expect_data(r: ReceiveStream, expected: bytes, what: str) -> None:
    got = await _receive_exactly(r, len(expected), what=what)
    if got != expected:
        raise _fail(f"{what}: received {got[:40]!r}... which is not what was sent")


# ---------------------------------------------------------------------------------------
# One-way checks: s sends, r receives.


async def _check_types(s: SendStream, r: ReceiveStream) -> None:
    if not isinstance(s, SendStream):
        raise _fail(f"{s!r} is not a tether.abc.SendStream")
    if not isinstance(r, ReceiveStream):
        raise _fail(f"{r!r} is not a tether.abc.ReceiveStream")


def _one_way_checks(
    maker: OneWayMaker, clogged_maker: OneWayMaker | None
) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    async def types() -> None:
        async with _fresh(maker) as (s, r):
            await _check_types(s, r)

    async def round_trip() -> None:
        async with _fresh(maker) as (s, r):

            async def sender() -> None:
                await _checkpointed("send_all", lambda: s.send_all(b"x"))
                await s.send_all(bytearray(b"yz"))
                await s.send_all(memoryview(b"0123456789"))
                await _checkpointed("send_all(b'')", lambda: s.send_all(b""))
                await s.send_all(b"!")
                await _checkpointed("aclose", s.aclose)

            async def receiver() -> None:
                got = await _checkpointed("receive_some", lambda: r.receive_some(1))
                if got != b"x":
                    raise _fail(f"receive_some(1) returned {bytes(got)!r}, expected b'x'")
                await _expect_data(r, b"yz", "receive_some after sending a bytearray")
                got2 = await _receive_exactly(r, 10, 3, "receive_some(3)")
                if got2 != b"0123456789":
                    raise _fail(f"sent a memoryview of b'0123456789', received {got2!r}")
                # send_all(b"") must not look like end of stream
                await _expect_data(r, b"!", "receive_some after send_all(b'')")
                await _expect_eof(r, "receive_some after the sender closed")

            async with _core.open_nursery() as nursery:
                nursery.start_soon(sender)
                nursery.start_soon(receiver)

    async def max_bytes_validation() -> None:
        async with _fresh(maker) as (s, r):
            await _fails_promptly(ValueError, "receive_some(0)", lambda: r.receive_some(0))
            await _fails_promptly(ValueError, "receive_some(-1)", lambda: r.receive_some(-1))
            await _fails_promptly(
                TypeError,
                "receive_some(1.5)",
                lambda: r.receive_some(1.5),  # type: ignore[arg-type]
            )
            # ... and the stream still works afterwards.
            async with _core.open_nursery() as nursery:
                nursery.start_soon(s.send_all, b"ok")
                await _expect_data(r, b"ok", "receive_some after a ValueError")

    async def concurrent_receive() -> None:
        async with _fresh(maker) as (s, r):
            async with _core.open_nursery() as nursery:
                done: list[str] = []

                async def first_receiver() -> None:
                    await _expect_data(r, b"x", "a blocked receive_some")
                    done.append("it returned")

                nursery.start_soon(first_receiver)
                await _still_blocked(nursery, done, "receive_some with nothing sent")
                await _fails_promptly(
                    _core.BusyResourceError,
                    "receive_some while another task is in receive_some",
                    lambda: r.receive_some(1),
                )
                await s.send_all(b"x")

    async def sender_closes() -> None:
        async with _fresh(maker) as (s, r):
            async with _core.open_nursery() as nursery:
                # The receiver reads meanwhile: closing may need to send something.
                nursery.start_soon(_expect_eof, r, "receive_some after the sender closed")
                await _checkpointed("aclose", s.aclose)
            await _checkpointed("a second aclose", s.aclose)
            await _fails_promptly(
                _core.ClosedResourceError, "send_all after aclose", lambda: s.send_all(b"x")
            )
            await _fails_promptly(
                _core.ClosedResourceError,
                "wait_send_all_might_not_block after aclose",
                s.wait_send_all_might_not_block,
            )
            await _expect_eof(r, "receive_some after the sender closed, again")
            await _checkpointed("aclose", r.aclose)
            await _checkpointed("a second aclose", r.aclose)
            await _fails_promptly(
                _core.ClosedResourceError,
                "receive_some after aclose",
                lambda: r.receive_some(10),
            )

    async def receiver_closes() -> None:
        async with _fresh(maker) as (s, r):
            await _checkpointed("aclose", r.aclose)
            await _fails_promptly(
                _core.ClosedResourceError,
                "receive_some after aclose",
                lambda: r.receive_some(10),
            )
            # Some transports only notice on a later send (TCP learns from the peer's RST).
            for _ in range(1000):
                try:
                    await s.send_all(b"x" * 100)
                except _core.BrokenResourceError:
                    break
            else:
                raise _fail("send_all kept succeeding after the receiving side was closed")
            await _checkpointed("aclose", s.aclose)

    async def close_wakes_receiver() -> None:
        async with _fresh(maker) as (_s, r):
            outcome = await _outcome(
                partial(r.receive_some, 10),
                _core.ClosedResourceError,
                partial(aclose_forcefully, r),
            )
            if outcome:
                raise _fail(
                    "closing a ReceiveStream must wake a task blocked in receive_some with "
                    f"ClosedResourceError (it {outcome})"
                )

    async def forceful_close() -> None:
        async with _fresh(maker) as (s, r):
            await aclose_forcefully(s)
            await _fails_promptly(
                _core.ClosedResourceError,
                "send_all after a cancelled aclose",
                lambda: s.send_all(b"x"),
            )
            await aclose_forcefully(r)
            await _fails_promptly(
                _core.ClosedResourceError,
                "receive_some after a cancelled aclose",
                lambda: r.receive_some(10),
            )

    async def cancelled_receive() -> None:
        async with _fresh(maker) as (s, r):
            with _core.CancelScope() as scope:
                async with _core.open_nursery() as nursery:
                    nursery.start_soon(r.receive_some, 10)
                    await _core.wait_all_tasks_blocked()
                    scope.cancel()
            if not scope.cancelled_caught:  # pragma: no cover  # the nursery waits
                raise _fail("a blocked receive_some ignored cancellation")
            await _checkpointed("aclose after a cancelled receive_some", r.aclose)
            await _checkpointed("aclose", s.aclose)
            await _fails_promptly(
                _core.ClosedResourceError,
                "receive_some after aclose",
                lambda: r.receive_some(10),
            )

    async def wait_send_all_might_not_block() -> None:
        async with _fresh(maker) as (s, r):

            async def sender() -> None:
                await _checkpointed(
                    "wait_send_all_might_not_block", s.wait_send_all_might_not_block
                )
                await s.send_all(b"x")
                await s.wait_send_all_might_not_block()
                await s.aclose()

            async def receiver() -> None:
                await _expect_data(r, b"x", "receive_some")
                await _expect_eof(r, "receive_some after the sender closed")

            async with _core.open_nursery() as nursery:
                nursery.start_soon(sender)
                nursery.start_soon(receiver)

    async def large_transfer() -> None:
        async with _fresh(maker) as (s, r):
            data = random.Random(0).randbytes(_LARGE)
            async with _core.open_nursery() as nursery:
                nursery.start_soon(_send_randomly, s, data, 1)
                nursery.start_soon(_receive_randomly, r, data, 2, True)

    async def async_iteration() -> None:
        async with _fresh(maker) as (s, r):
            chunks = [b"first", b"second", b"third"]

            async def sender() -> None:
                for chunk in chunks:
                    await s.send_all(chunk)
                await s.aclose()

            async def receiver() -> None:
                received = bytearray()
                async for chunk in r:
                    received += chunk
                if received != b"".join(chunks):
                    raise _fail(f"'async for' over a ReceiveStream gave {bytes(received)!r}")

            async with _core.open_nursery() as nursery:
                nursery.start_soon(sender)
                nursery.start_soon(receiver)

    checks: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("stream types", types),
        ("send/receive round trip", round_trip),
        ("receive_some max_bytes validation", max_bytes_validation),
        ("concurrent receive_some", concurrent_receive),
        ("closing the sending side", sender_closes),
        ("closing the receiving side", receiver_closes),
        ("closing wakes a blocked receive_some", close_wakes_receiver),
        ("cancelled aclose", forceful_close),
        ("cancelled receive_some", cancelled_receive),
        ("wait_send_all_might_not_block", wait_send_all_might_not_block),
        ("large transfer", large_transfer),
        ("async iteration", async_iteration),
    ]
    if clogged_maker is not None:
        checks += _clogged_one_way_checks(clogged_maker)
    return checks


async def _send_randomly(s: SendStream, data: bytes, seed: int, close: bool = True) -> None:
    rng = random.Random(seed)
    view = memoryview(data)
    position = 0
    while position < len(data):
        size = rng.randint(1, 2**16)
        chunk = view[position : position + size]
        kind = rng.randrange(3)
        await s.send_all(chunk if kind == 0 else bytes(chunk) if kind == 1 else bytearray(chunk))
        position += size
    if close:
        await s.aclose()


async def _receive_randomly(r: ReceiveStream, data: bytes, seed: int, eof: bool) -> None:
    rng = random.Random(seed)
    received = bytearray()
    while len(received) < len(data):
        max_bytes = None if rng.randrange(8) == 0 else rng.randint(1, 2**16)
        chunk = await r.receive_some(max_bytes)
        if not chunk:
            raise _fail(f"end of stream after {len(received)} of {len(data)} bytes (data lost?)")
        if max_bytes is not None and len(chunk) > max_bytes:
            raise _fail(f"receive_some({max_bytes}) returned {len(chunk)} bytes")
        received += chunk
    if received != data:
        raise _fail(
            f"received {len(received)} bytes that differ from the {len(data)} sent "
            f"(first difference at byte {_first_difference(received, data)})"
        )
    if eof:
        await _expect_eof(r, "receive_some after the sender closed")


def _first_difference(a: bytes | bytearray, b: bytes | bytearray) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def _clogged_one_way_checks(
    clogged_maker: OneWayMaker,
) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    async def wait_until_receiver_reads() -> None:
        async with _fresh(clogged_maker) as (s, r):
            record: list[str] = []
            async with _core.open_nursery() as nursery:

                async def waiter() -> None:
                    record.append("waiter blocks")
                    await _checkpointed(
                        "wait_send_all_might_not_block", s.wait_send_all_might_not_block
                    )
                    record.append("waiter woke")
                    if "reader reads" in record:
                        nursery.cancel_scope.cancel()

                async def reader() -> None:
                    record.append("reader reads")
                    while await r.receive_some(16384):
                        pass
                    raise _fail("clogged stream reached end of stream")

                nursery.start_soon(waiter)
                await _core.wait_all_tasks_blocked()
                if record != ["waiter blocks"]:
                    raise _fail("wait_send_all_might_not_block returned on a clogged stream")
                nursery.start_soon(reader)
            if record != ["waiter blocks", "reader reads", "waiter woke"]:  # pragma: no cover
                raise _fail(f"unexpected order of events {record}")

    async def send_conflicts() -> None:
        for method in ("send_all", "wait_send_all_might_not_block"):
            async with _fresh(clogged_maker) as (s, _r):
                async with _core.open_nursery() as nursery:
                    await _start_blocked_send(nursery, s, method)
                    await _fails_promptly(
                        _core.BusyResourceError,
                        f"send_all while another task is in {method}",
                        lambda: s.send_all(b"y"),
                    )
                    await _fails_promptly(
                        _core.BusyResourceError,
                        f"wait_send_all_might_not_block while another task is in {method}",
                        s.wait_send_all_might_not_block,
                    )
                    nursery.cancel_scope.cancel()

    async def cancelled_send() -> None:
        for method in ("send_all", "wait_send_all_might_not_block"):
            async with _fresh(clogged_maker) as (s, r):
                with _core.CancelScope() as scope:
                    async with _core.open_nursery() as nursery:
                        nursery.start_soon(_send_op, s, method)
                        await _core.wait_all_tasks_blocked()
                        scope.cancel()
                if not scope.cancelled_caught:  # pragma: no cover
                    raise _fail(f"a blocked {method} ignored cancellation")
                await _checkpointed(f"aclose after a cancelled {method}", s.aclose)
                await _fails_promptly(
                    _core.ClosedResourceError,
                    f"send_all after a cancelled {method} and aclose",
                    lambda: s.send_all(b"x"),
                )
                await _checkpointed("aclose", r.aclose)

    async def close_wakes_sender() -> None:
        for method in ("send_all", "wait_send_all_might_not_block"):
            async with _fresh(clogged_maker) as (s, _r):
                outcome = await _outcome(
                    partial(_send_op, s, method),
                    _core.ClosedResourceError,
                    partial(aclose_forcefully, s),
                )
                if outcome:
                    raise _fail(
                        f"closing a SendStream must wake a task blocked in {method} with "
                        f"ClosedResourceError (it {outcome})"
                    )

    async def peer_close_breaks_sender() -> None:
        async with _fresh(clogged_maker) as (s, r):
            outcome = await _outcome(
                partial(_send_op, s, "send_all"),
                _core.BrokenResourceError,
                partial(aclose_forcefully, r),
            )
            if outcome:
                raise _fail(
                    "closing the receiving side must make a blocked send_all raise "
                    f"BrokenResourceError (it {outcome})"
                )

    return [
        ("clogged: wait_send_all_might_not_block waits for the reader", wait_until_receiver_reads),
        ("clogged: conflicts with a blocked send", send_conflicts),
        ("clogged: cancelled send_all / wait_send_all_might_not_block", cancelled_send),
        ("clogged: closing wakes a blocked sender", close_wakes_sender),
        ("clogged: closing the receiver breaks a blocked send_all", peer_close_breaks_sender),
    ]


# ---------------------------------------------------------------------------------------
# Two-way and half-closeable checks


def _two_way_checks(
    maker: TwoWayMaker, clogged_maker: TwoWayMaker | None
) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    checks: list[tuple[str, Callable[[], Awaitable[None]]]] = []
    flipped_clogged = None if clogged_maker is None else _flipped(clogged_maker)
    for label, one_way_maker, one_way_clogged in (
        ("left to right", maker, clogged_maker),
        ("right to left", _flipped(maker), flipped_clogged),
    ):
        checks += [
            (f"{label}: {name}", check)
            for name, check in _one_way_checks(one_way_maker, one_way_clogged)
        ]

    async def types() -> None:
        async with _fresh(maker) as (s1, s2):
            for stream in (s1, s2):
                if not isinstance(stream, Stream):
                    raise _fail(f"{stream!r} is not a tether.abc.Stream")

    async def both_directions_at_once() -> None:
        async with _fresh(maker) as (s1, s2):
            data1 = random.Random(3).randbytes(_LARGE // 2)
            data2 = random.Random(4).randbytes(_LARGE // 2)
            async with _core.open_nursery() as nursery:
                nursery.start_soon(_send_randomly, s1, data1, 5, False)
                nursery.start_soon(_send_randomly, s2, data2, 6, False)
                nursery.start_soon(_receive_randomly, s2, data1, 7, False)
                nursery.start_soon(_receive_randomly, s1, data2, 8, False)

    async def ping_pong() -> None:
        async with _fresh(maker) as (s1, s2):

            async def pinger() -> None:
                for i in range(20):
                    message = b"ping %d" % i
                    await s1.send_all(message)
                    await _expect_data(s1, message.replace(b"ping", b"pong"), "receive_some")
                await s1.aclose()

            async def ponger() -> None:
                for i in range(20):
                    await _expect_data(s2, b"ping %d" % i, "receive_some")
                    await s2.send_all(b"pong %d" % i)
                await _expect_eof(s2, "receive_some after the peer closed")

            async with _core.open_nursery() as nursery:
                nursery.start_soon(pinger)
                nursery.start_soon(ponger)

    checks.insert(0, ("stream types (two-way)", types))
    checks += [
        ("large transfers in both directions at once", both_directions_at_once),
        ("ping-pong", ping_pong),
    ]

    if clogged_maker is not None:
        clogged = clogged_maker

        async def receive_while_send_blocked() -> None:
            for method in ("send_all", "wait_send_all_might_not_block"):
                async with _fresh(clogged) as (s1, s2):
                    async with _core.open_nursery() as nursery:
                        await _start_blocked_send(nursery, s1, method)
                        nursery.start_soon(s2.send_all, b"y")
                        chunk = await s1.receive_some(1)
                        if len(chunk) != 1:
                            raise _fail(
                                f"receive_some(1) returned {bytes(chunk)!r} while another "
                                f"task was blocked in {method}"
                            )
                        nursery.cancel_scope.cancel()

        checks.append(("clogged: receiving while a send is blocked", receive_while_send_blocked))
    return checks


def _half_closeable_checks(
    maker: HalfCloseableMaker, clogged_maker: HalfCloseableMaker | None
) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    checks = _two_way_checks(maker, clogged_maker)

    async def types() -> None:
        async with _fresh(maker) as (s1, s2):
            for stream in (s1, s2):
                if not isinstance(stream, HalfCloseableStream):
                    raise _fail(f"{stream!r} is not a tether.abc.HalfCloseableStream")

    async def send_eof() -> None:
        async with _fresh(maker) as (s1, s2):

            async def send_then_eof(s: HalfCloseableStream, message: bytes) -> None:
                await s.send_all(message)
                await _checkpointed("send_eof", s.send_eof)

            async def expect_then_eof(r: HalfCloseableStream, message: bytes) -> None:
                await _expect_data(r, message, "receive_some")
                await _expect_eof(r, "receive_some after the peer's send_eof")

            async with _core.open_nursery() as nursery:
                nursery.start_soon(send_then_eof, s1, b"x")
                nursery.start_soon(expect_then_eof, s2, b"x")
            await _fails_promptly(
                _core.ClosedResourceError, "send_all after send_eof", lambda: s1.send_all(b"y")
            )
            await _checkpointed("a second send_eof", s1.send_eof)
            # The other direction still works, in full.
            data = random.Random(9).randbytes(2**16)
            async with _core.open_nursery() as nursery:
                nursery.start_soon(send_then_eof, s2, data)
                nursery.start_soon(expect_then_eof, s1, data)
            await _checkpointed("aclose after send_eof both ways", s1.aclose)
            await _checkpointed("aclose after send_eof both ways", s2.aclose)

    async def send_eof_keeps_pending_data() -> None:
        async with _fresh(maker) as (s1, s2):
            data = random.Random(10).randbytes(_LARGE // 4)

            async def sender() -> None:
                await _send_randomly(s1, data, 11, close=False)
                await s1.send_eof()

            async with _core.open_nursery() as nursery:
                nursery.start_soon(sender)
                nursery.start_soon(_receive_randomly, s2, data, 12, True)

    checks.insert(0, ("stream types (half-closeable)", types))
    checks += [
        ("send_eof", send_eof),
        ("send_eof after a large send", send_eof_keeps_pending_data),
    ]

    if clogged_maker is not None:
        clogged = clogged_maker

        async def send_eof_conflicts() -> None:
            for method in ("send_all", "wait_send_all_might_not_block"):
                async with _fresh(clogged) as (s1, _s2):
                    async with _core.open_nursery() as nursery:
                        await _start_blocked_send(nursery, s1, method)
                        await _fails_promptly(
                            _core.BusyResourceError,
                            f"send_eof while another task is in {method}",
                            s1.send_eof,
                        )
                        nursery.cancel_scope.cancel()

        checks.append(("clogged: send_eof conflicts with a blocked send", send_eof_conflicts))
    return checks


async def _run_checks(checks: list[tuple[str, Callable[[], Awaitable[None]]]]) -> None:
    for name, check in checks:
        await _guarded(name, check)


async def check_one_way_stream(
    stream_maker: OneWayMaker, clogged_stream_maker: OneWayMaker | None
) -> None:
    """Check a one-way stream implementation against the :class:`~tether.abc.SendStream`
    and :class:`~tether.abc.ReceiveStream` contracts; raise :exc:`AssertionError` if it
    falls short.

    Args:
      stream_maker: an *async* function returning a fresh, connected
        ``(send_stream, receive_stream)`` pair. It is called many times; the checks close
        what it returns. The streams may buffer any amount of data, including none.
      clogged_stream_maker: ``None``, or an async function like ``stream_maker`` whose
        streams are *clogged*: ``send_all`` and ``wait_send_all_might_not_block`` block
        until the receiver calls ``receive_some`` (what a full socket buffer or an
        unbuffered stream does). It enables the checks of blocking, conflicts and
        cancellation on the sending side.

    What is checked: data round trips (``bytes``, ``bytearray`` and ``memoryview``; large
    transfers in random chunks; ``max_bytes`` honoured), ``receive_some(0)`` / negative
    ``max_bytes`` raise ``ValueError``, concurrent use raises ``BusyResourceError``,
    ``aclose`` is idempotent and a checkpoint, a closed side raises
    ``ClosedResourceError`` (also to a task blocked on it), the peer closing means end of
    stream for a receiver and ``BrokenResourceError`` for a sender, cancelled operations
    leave the streams closable, and ``wait_send_all_might_not_block`` waits only while
    sending would block.

    Every check runs on fresh streams, closed afterwards. Under the real clock a check in
    which every task stays blocked for two seconds, with no I/O and no timeout pending,
    fails instead of hanging (a stream that loses data or a wake-up); under a
    :class:`~tether.testing.MockClock` (e.g. the ``autojump_clock`` fixture, handy when
    hooks simulate latency with sleeps) there is no such watchdog.
    """
    await _run_checks(_one_way_checks(stream_maker, clogged_stream_maker))


async def check_two_way_stream(
    stream_maker: TwoWayMaker, clogged_stream_maker: TwoWayMaker | None
) -> None:
    """Check a bidirectional :class:`~tether.abc.Stream` implementation; raise
    :exc:`AssertionError` if it falls short.

    Like :func:`check_one_way_stream` (which it runs in both directions, so there is no
    need to call that too), with makers returning a connected ``(stream, stream)`` pair;
    a clogged pair must be clogged in both directions. Also checks that both directions
    work at the same time (large transfers both ways at once, ping-pong), and that
    receiving works while a send on the same stream is blocked.
    """
    await _run_checks(_two_way_checks(stream_maker, clogged_stream_maker))


async def check_half_closeable_stream(
    stream_maker: HalfCloseableMaker, clogged_stream_maker: HalfCloseableMaker | None
) -> None:
    """Check a :class:`~tether.abc.HalfCloseableStream` implementation; raise
    :exc:`AssertionError` if it falls short.

    Runs everything :func:`check_two_way_stream` does, then checks ``send_eof``: it is a
    checkpoint, idempotent, the peer sees end of stream after all the data sent before
    it, ``send_all`` afterwards raises ``ClosedResourceError``, the other direction keeps
    working, and (with a clogged maker) it conflicts with a blocked ``send_all`` or
    ``wait_send_all_might_not_block`` with ``BusyResourceError``.
    """
    await _run_checks(_half_closeable_checks(stream_maker, clogged_stream_maker))
