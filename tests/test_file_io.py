"""Async files: open_file, wrap_file, Path."""

import io
import pathlib

import pytest

import tether


async def test_open_file_text_and_binary_round_trips(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "data.txt"
    async with await tether.open_file(path, "w") as f:
        assert await f.write("first\nsecond\n") == 13
        assert f.name == str(path)
        assert f.mode == "w"
    async with await tether.open_file(path) as f:
        assert await f.readline() == "first\n"
        assert await f.tell() == 6
        await f.seek(0)
        assert [line async for line in f] == ["first\n", "second\n"]
    async with await tether.open_file(path, "rb+") as f:
        assert await f.read(5) == b"first"
        await f.truncate(5)
        await f.flush()
    assert path.read_bytes() == b"first"
    assert f.closed


async def test_wrap_file_over_memory_and_real_files(tmp_path: pathlib.Path) -> None:
    wrapped = tether.wrap_file(io.BytesIO(b"a\nb\n"))
    assert await wrapped.readlines() == [b"a\n", b"b\n"]
    assert isinstance(wrapped.wrapped, io.BytesIO)
    assert "readline" in dir(wrapped)
    with pytest.raises(AttributeError):
        wrapped.no_such_method
    real = tether.wrap_file(open(tmp_path / "x", "w"))  # noqa: SIM115
    await real.write("x")
    await real.aclose()
    with pytest.raises(TypeError, match="file object"):
        tether.wrap_file(object())  # type: ignore[type-var]


async def test_detach_gives_the_raw_stream(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "raw"
    path.write_bytes(b"raw bytes")
    f = await tether.open_file(path, "rb")
    raw = await f.detach()
    assert await raw.read() == b"raw bytes"
    await raw.aclose()


async def test_path_pure_operations_stay_sync(tmp_path: pathlib.Path) -> None:
    path = tether.Path(tmp_path) / "dir" / "file.txt"
    assert isinstance(path, tether.Path)
    assert path.name == "file.txt"
    assert isinstance(path.parent, tether.Path)
    assert path.with_suffix(".md").suffix == ".md"
    assert "tether.Path" in repr(path)


async def test_path_io_methods_are_async(tmp_path: pathlib.Path) -> None:
    base = tether.Path(tmp_path)
    directory = base / "dir"
    await directory.mkdir()
    assert await directory.is_dir()
    file = directory / "f.txt"
    await file.write_text("hello")
    assert await file.read_text() == "hello"
    await file.write_bytes(b"bytes")
    assert await file.read_bytes() == b"bytes"
    assert (await file.stat()).st_size == 5
    assert await file.exists()
    children = await directory.iterdir()
    assert children == [file]
    assert isinstance(children[0], tether.Path)
    assert await base.glob("*/f.txt") == [file]
    moved = await file.rename(directory / "g.txt")
    assert isinstance(moved, tether.Path)
    assert await (directory / "g.txt").exists()
    resolved = await moved.resolve()
    assert isinstance(resolved, tether.Path)
    async with await moved.open() as f:
        assert await f.read() == "bytes"
    await moved.unlink()
    assert not await moved.exists()
