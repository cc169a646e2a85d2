"""FdStream, continued: concurrent use, descriptors that cannot do what is asked, ptys,
and errors that are neither EOF nor a closed stream."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator

import pytest

import tether
from tether.lowlevel import FdStream
from tether.testing import wait_all_tasks_blocked


@pytest.fixture
def full_pipe() -> Iterator[tuple[FdStream, FdStream]]:
    """(reader, writer) over a pipe whose buffer is already full."""
    read_fd, write_fd = os.pipe()
    reader, writer = FdStream(read_fd), FdStream(write_fd)
    try:
        while True:
            os.write(write_fd, b"x" * 65536)
    except BlockingIOError:
        pass
    yield reader, writer
    reader.close()
    writer.close()


def test_repr_and_fd_type_check() -> None:
    read_fd, write_fd = os.pipe()
    stream = FdStream(read_fd)
    try:
        assert repr(stream) == f"<tether.lowlevel.FdStream fd={read_fd}>"
    finally:
        stream.close()
        os.close(write_fd)
    assert stream.fileno() == -1
    stream.close()  # idempotent, and fine outside a run
    with pytest.raises(TypeError, match="file descriptor"):
        FdStream("0")  # type: ignore[arg-type]


async def test_a_second_sender_is_busy_while_one_waits(
    full_pipe: tuple[FdStream, FdStream],
) -> None:
    reader, writer = full_pipe
    async with tether.open_nursery() as nursery:
        nursery.start_soon(writer.send_all, b"more")
        await wait_all_tasks_blocked()
        with pytest.raises(tether.BusyResourceError):
            await writer.send_all(b"again")
        with pytest.raises(tether.BusyResourceError):
            await writer.wait_send_all_might_not_block()
        # Drain the pipe so the waiting sender can finish.
        while True:
            try:
                os.read(reader.fileno(), 1 << 20)
            except BlockingIOError:
                break
    await writer.wait_send_all_might_not_block()


async def test_wait_send_all_might_not_block_on_a_closed_stream() -> None:
    read_fd, write_fd = os.pipe()
    writer = FdStream(write_fd)
    writer.close()
    os.close(read_fd)
    with pytest.raises(tether.ClosedResourceError):
        await writer.wait_send_all_might_not_block()
    with pytest.raises(tether.ClosedResourceError):
        await writer.send_all(b"x")


async def test_wrong_direction_descriptors_report_a_closed_stream() -> None:
    # A pipe end used the wrong way round fails with EBADF, like a closed descriptor.
    read_fd, write_fd = os.pipe()
    reader, writer = FdStream(read_fd), FdStream(write_fd)
    try:
        with pytest.raises(tether.ClosedResourceError):
            await reader.send_all(b"x")
        with pytest.raises(tether.ClosedResourceError):
            await writer.receive_some()
    finally:
        reader.close()
        writer.close()


async def test_a_pty_whose_other_side_closed_reads_as_end_of_stream() -> None:
    controller, terminal = os.openpty()
    stream = FdStream(controller)
    try:
        os.write(terminal, b"hi\n")
        assert (await stream.receive_some()).strip() == b"hi"
        os.close(terminal)  # Linux then fails reads on the controller with EIO
        assert await stream.receive_some() == b""
    finally:
        stream.close()


async def test_other_read_errors_are_a_broken_resource(tmp_path: pathlib.Path) -> None:
    directory_fd = os.open(tmp_path, os.O_RDONLY)
    stream = FdStream(directory_fd)
    try:
        with pytest.raises(tether.BrokenResourceError, match="Is a directory"):
            await stream.receive_some()
    finally:
        stream.close()


async def test_receive_some_checks_max_bytes() -> None:
    read_fd, write_fd = os.pipe()
    reader = FdStream(read_fd)
    try:
        with pytest.raises(ValueError, match="max_bytes"):
            await reader.receive_some(0)
        os.write(write_fd, b"abcdef")
        assert await reader.receive_some(2) == b"ab"
    finally:
        reader.close()
        os.close(write_fd)
