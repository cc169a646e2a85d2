"""FdStream: a stream over a pipe."""

import os

import pytest

import tether
from tether.lowlevel import FdStream
from tether.testing import wait_all_tasks_blocked


@pytest.fixture
def pipe():
    read_fd, write_fd = os.pipe()
    reader, writer = FdStream(read_fd), FdStream(write_fd)
    yield reader, writer
    reader.close()
    writer.close()


async def test_send_and_receive(pipe) -> None:
    reader, writer = pipe
    await writer.send_all(b"hello")
    assert await reader.receive_some() == b"hello"
    assert reader.fileno() >= 0
    writer.close()
    assert await reader.receive_some() == b""  # EOF once the write end closes


async def test_large_transfer_in_both_tasks(pipe) -> None:
    reader, writer = pipe
    data = os.urandom(1 << 20)
    received = bytearray()

    async def consume() -> None:
        while len(received) < len(data):
            received.extend(await reader.receive_some())

    async with tether.open_nursery() as nursery:
        nursery.start_soon(consume)
        await writer.send_all(data)
        await writer.wait_send_all_might_not_block()
    assert bytes(received) == data


async def test_busy_and_closed_errors(pipe) -> None:
    reader, writer = pipe
    woken: list[type[BaseException]] = []

    async def waiting_reader() -> None:
        try:
            await reader.receive_some()
        except tether.ClosedResourceError as exc:
            woken.append(type(exc))

    async with tether.open_nursery() as nursery:
        nursery.start_soon(waiting_reader)
        await wait_all_tasks_blocked()
        with pytest.raises(tether.BusyResourceError):
            await reader.receive_some()
        reader.close()  # wakes the waiting task with ClosedResourceError
    assert woken == [tether.ClosedResourceError]
    with pytest.raises(tether.ClosedResourceError):
        await reader.receive_some()
    with pytest.raises(ValueError, match="max_bytes"):
        await writer.receive_some(0)
    await writer.aclose()
    with pytest.raises(tether.ClosedResourceError):
        await writer.send_all(b"x")
    with pytest.raises(tether.ClosedResourceError):
        await writer.wait_send_all_might_not_block()


async def test_broken_pipe_is_broken_resource_error(pipe) -> None:
    reader, writer = pipe
    reader.close()
    with pytest.raises(tether.BrokenResourceError):
        await writer.send_all(b"nobody reads this")


def test_rejects_non_int() -> None:
    with pytest.raises(TypeError, match="file descriptor"):
        FdStream("3")  # type: ignore[arg-type]
