"""BufferedReceiveStream: exact, delimited and line reads over any ReceiveStream.

Most tests feed it from an in-memory one-way stream, which hands over exactly the chunks
sent (``chunk_size=1`` makes every byte its own read, to split delimiters across reads);
one runs it over TCP.
"""

from __future__ import annotations

import pytest

import tether
from _stream_helpers import (
    no_leaked_fds,  # noqa: F401  (a fixture, used through pytestmark)
    tcp_stream_pair,
)
from tether.testing import (
    MemorySendStream,
    MockClock,
    assert_checkpoints,
    check_one_way_stream,
    memory_stream_one_way_pair,
    wait_all_tasks_blocked,
)

pytestmark = pytest.mark.usefixtures("no_leaked_fds")


async def fed(
    *chunks: bytes, eof: bool = True, chunk_size: int = 65536
) -> tuple[MemorySendStream, tether.BufferedReceiveStream]:
    """A BufferedReceiveStream whose stream has ``chunks`` waiting (then EOF if ``eof``)."""
    send, receive = memory_stream_one_way_pair()
    for chunk in chunks:
        await send.send_all(chunk)
    if eof:
        await send.aclose()
    return send, tether.BufferedReceiveStream(receive, chunk_size=chunk_size)


async def lines_of(
    reader: tether.BufferedReceiveStream, delimiter: bytes = b"\n", max_line_length: int = 100
) -> list[bytes]:
    return [
        line async for line in reader.lines(delimiter=delimiter, max_line_length=max_line_length)
    ]


# -- as a ReceiveStream ------------------------------------------------------------------------


async def test_checkers_pass_on_a_buffered_stream() -> None:
    async def maker() -> tuple[MemorySendStream, tether.BufferedReceiveStream]:
        send, receive = memory_stream_one_way_pair()
        return send, tether.BufferedReceiveStream(receive)

    await check_one_way_stream(maker, None)


async def test_receive_some_gives_buffered_bytes_first() -> None:
    _, reader = await fed(b"header\nbody bytes")
    assert await reader.receive_until(b"\n", max_bytes=100) == b"header"
    assert reader.buffered == b"body bytes"  # the leftover of the chunk
    with assert_checkpoints():
        assert await reader.receive_some(4) == b"body"
    assert await reader.receive_some() == b" bytes"
    assert reader.buffered == b""
    assert await reader.receive_some() == b""
    with assert_checkpoints():
        assert await reader.receive_some() == b""  # EOF stays EOF
    with pytest.raises(ValueError, match="max_bytes"):
        await reader.receive_some(0)


async def test_async_iteration_yields_chunks() -> None:
    _, reader = await fed(b"one", b"two", b"three", chunk_size=4)
    assert [bytes(chunk) async for chunk in reader] == [b"onet", b"woth", b"ree"]


async def test_construction() -> None:
    send, receive = memory_stream_one_way_pair()
    reader = tether.BufferedReceiveStream(receive)
    assert reader.stream is receive
    assert reader.chunk_size == 65536
    assert "BufferedReceiveStream" in repr(reader)
    assert "0 buffered" in repr(reader)
    with pytest.raises(TypeError, match="ReceiveStream"):
        tether.BufferedReceiveStream(send)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chunk_size"):
        tether.BufferedReceiveStream(receive, chunk_size=0)


async def test_aclose_closes_the_stream_and_drops_the_buffer() -> None:
    _, reader = await fed(b"unread data")
    await reader.receive_exactly(2)
    await reader.aclose()
    assert reader.buffered == b""
    with pytest.raises(tether.ClosedResourceError):
        await reader.stream.receive_some()
    with pytest.raises(tether.ClosedResourceError):
        await reader.receive_some()
    with pytest.raises(tether.ClosedResourceError):
        await reader.receive_exactly(1)
    with pytest.raises(tether.ClosedResourceError):
        await reader.receive_until(b"\n", max_bytes=10)
    with assert_checkpoints():
        await reader.aclose()  # idempotent


async def test_closed_after_end_of_stream() -> None:
    # At EOF the wrapped stream is no longer read; closing must still be noticed.
    _, reader = await fed(b"x")
    assert await reader.receive_exactly(1) == b"x"
    assert await reader.receive_some() == b""
    await reader.aclose()
    with pytest.raises(tether.ClosedResourceError):
        await reader.receive_some()


# -- receive_exactly ---------------------------------------------------------------------------


async def test_receive_exactly_gathers_chunks() -> None:
    _, reader = await fed(b"ab", b"cde", b"fghij", b"k")
    assert await reader.receive_exactly(4) == b"abcd"
    assert await reader.receive_exactly(1) == b"e"
    assert await reader.receive_exactly(5) == b"fghij"
    assert await reader.receive_exactly(1) == b"k"
    _, reader = await fed(b"ab", b"cde", chunk_size=1)  # one byte per read
    assert await reader.receive_exactly(4) == b"abcd"
    assert reader.buffered == b""


async def test_receive_exactly_from_the_buffer_is_a_checkpoint() -> None:
    _, reader = await fed(b"abcdef")
    await reader.receive_exactly(1)  # reads the whole chunk
    with assert_checkpoints():
        assert await reader.receive_exactly(3) == b"bcd"
    with assert_checkpoints():
        assert await reader.receive_exactly(0) == b""
    with pytest.raises(ValueError, match="count"):
        await reader.receive_exactly(-1)


async def test_receive_exactly_waits_for_enough() -> None:
    send, reader = await fed(b"12", eof=False)
    got: list[bytes] = []

    async def receive() -> None:
        got.append(await reader.receive_exactly(6))

    async with tether.open_nursery() as nursery:
        nursery.start_soon(receive)
        await wait_all_tasks_blocked()
        await send.send_all(b"345")
        await wait_all_tasks_blocked()
        assert got == []
        await send.send_all(b"6789")
    assert got == [b"123456"]
    assert reader.buffered == b"789"


async def test_receive_exactly_at_a_premature_end() -> None:
    _, reader = await fed(b"abc", b"d")
    with pytest.raises(tether.IncompleteReceiveError) as info:
        await reader.receive_exactly(10)
    error = info.value
    assert isinstance(error, EOFError)
    assert error.partial == b"abcd"
    assert error.expected == 10
    assert str(error) == "stream ended after 4 bytes while waiting for 10 bytes"
    assert reader.buffered == b""  # what arrived is in the error, not kept
    assert await reader.receive_some() == b""


async def test_receive_exactly_at_a_clean_end() -> None:
    _, reader = await fed()
    with pytest.raises(tether.IncompleteReceiveError) as info:
        await reader.receive_exactly(1)
    assert info.value.partial == b""
    with pytest.raises(tether.IncompleteReceiveError):  # the end was remembered
        await reader.receive_exactly(1)


# -- receive_until -----------------------------------------------------------------------------


async def test_receive_until_consumes_the_delimiter() -> None:
    _, reader = await fed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody")
    assert await reader.receive_until(b"\r\n", max_bytes=100) == b"GET / HTTP/1.1"
    assert await reader.receive_until(b"\r\n", max_bytes=100) == b"Host: x"
    assert await reader.receive_until(b"\r\n", max_bytes=100) == b""
    assert reader.buffered == b"body"


async def test_receive_until_a_delimiter_split_across_reads() -> None:
    _, reader = await fed(b"key", b"=", b"=", b"=value", b"==", b"=end", chunk_size=1)
    assert await reader.receive_until(b"===", max_bytes=100) == b"key"
    assert await reader.receive_until(b"===", max_bytes=100) == b"value"
    assert await reader.receive_exactly(3) == b"end"


async def test_receive_until_with_a_buffered_delimiter_is_a_checkpoint() -> None:
    _, reader = await fed(b"a;b;")
    await reader.receive_until(b";", max_bytes=10)
    with assert_checkpoints():
        assert await reader.receive_until(b";", max_bytes=10) == b"b"


async def test_receive_until_max_bytes_counts_the_delimiter() -> None:
    _, reader = await fed(b"1234\r\n")
    # 4 bytes + the 2-byte delimiter: 6 are needed.
    with pytest.raises(tether.DelimiterTooFarError, match="within 5 bytes"):
        await reader.receive_until(b"\r\n", max_bytes=5)
    assert reader.buffered == b"1234\r\n"  # nothing lost
    assert await reader.receive_until(b"\r\n", max_bytes=6) == b"1234"


async def test_receive_until_gives_up_without_reading_everything() -> None:
    send, reader = await fed(b"x" * 10, eof=False)
    with pytest.raises(tether.DelimiterTooFarError):
        await reader.receive_until(b"\n", max_bytes=8)
    assert reader.buffered == b"x" * 10
    assert isinstance(tether.DelimiterTooFarError("x"), ValueError)
    await send.aclose()


async def test_after_a_failed_search_another_delimiter_is_found(
    autojump_clock: MockClock,
) -> None:
    # A search that gave up must not make the next one skip data it already looked at
    # (which would wait forever for a delimiter that is already there).
    send, reader = await fed(b"ab|cd", eof=False, chunk_size=1)
    async with tether.open_nursery() as nursery:
        nursery.start_soon(send.send_all, b"efghijkl")
        with pytest.raises(tether.DelimiterTooFarError):
            await reader.receive_until(b"\n", max_bytes=8)
    with tether.fail_after(10):
        assert await reader.receive_until(b"|", max_bytes=8) == b"ab"


async def test_after_a_cancelled_search_another_delimiter_is_found(
    autojump_clock: MockClock,
) -> None:
    send, reader = await fed(b"ab|cd", eof=False, chunk_size=1)
    with tether.move_on_after(1):
        await reader.receive_until(b"\n", max_bytes=100)
    with tether.fail_after(10):
        assert await reader.receive_until(b"|", max_bytes=100) == b"ab"
    await send.send_all(b"\n")
    assert await reader.receive_until(b"\n", max_bytes=100) == b"cd"


async def test_receive_until_at_a_premature_end() -> None:
    _, reader = await fed(b"no newline here")
    with pytest.raises(tether.IncompleteReceiveError) as info:
        await reader.receive_until(b"\n", max_bytes=100)
    assert info.value.partial == b"no newline here"
    assert info.value.expected is None
    assert str(info.value) == "stream ended after 15 bytes while waiting for a delimiter"


async def test_receive_until_argument_checks() -> None:
    _, reader = await fed(b"data")
    with pytest.raises(ValueError, match="empty"):
        await reader.receive_until(b"", max_bytes=10)
    with pytest.raises(ValueError, match="at least the delimiter"):
        await reader.receive_until(b"\r\n", max_bytes=1)


# -- lines -------------------------------------------------------------------------------------


async def test_lines() -> None:
    _, reader = await fed(b"first\nsec", b"ond\n\nthird\nlast without newline")
    assert await lines_of(reader) == [
        b"first",
        b"second",
        b"",
        b"third",
        b"last without newline",
    ]


async def test_lines_ending_with_a_newline_have_no_empty_last_line() -> None:
    _, reader = await fed(b"a\nb\n")
    assert await lines_of(reader) == [b"a", b"b"]
    _, reader = await fed()
    assert await lines_of(reader) == []


async def test_lines_with_another_delimiter() -> None:
    _, reader = await fed(b"a\r\nb\nc\r\n")
    assert [line async for line in reader.lines(delimiter=b"\r\n")] == [b"a", b"b\nc"]


async def test_an_overlong_line() -> None:
    _, reader = await fed(b"short\n", b"x" * 50 + b"\n", b"after\n")
    lines = reader.lines(max_line_length=20)
    assert await anext(lines) == b"short"
    with pytest.raises(tether.DelimiterTooFarError):
        await anext(lines)
    # The long line stays buffered: the caller may skip it or read it another way.
    assert reader.buffered.startswith(b"x" * 20)
    await reader.receive_until(b"\n", max_bytes=100)
    assert await lines_of(reader, max_line_length=20) == [b"after"]


async def test_a_line_protocol_over_tcp() -> None:
    client, server = await tcp_stream_pair()
    async with client, server:
        reader = tether.BufferedReceiveStream(server)
        async with reader:
            async with tether.open_nursery() as nursery:

                async def talk() -> None:
                    await client.send_all(b"HELLO 5\r\nworld")
                    await client.send_all(b"QUIT\r\n")
                    await client.send_eof()

                nursery.start_soon(talk)
                command, size = (await reader.receive_until(b"\r\n", max_bytes=64)).split()
                assert command == b"HELLO"
                assert await reader.receive_exactly(int(size)) == b"world"
                assert await lines_of(reader, delimiter=b"\r\n") == [b"QUIT"]
