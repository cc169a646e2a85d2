"""Async files, continued: every tether.Path file-system method against pathlib's answer,
and closing a file when the caller is cancelled."""

from __future__ import annotations

import grp
import os
import pathlib
import pwd
import stat
import threading

import pytest

import tether


async def test_aclose_closes_the_file_even_when_cancelled(tmp_path: pathlib.Path) -> None:
    f = await tether.open_file(tmp_path / "data", "w")
    await f.write("kept")
    with tether.CancelScope() as scope:
        scope.cancel()
        await f.aclose()  # the Cancelled comes after the file is closed (and flushed)
    assert scope.cancelled_caught
    assert f.closed
    assert (tmp_path / "data").read_text() == "kept"


async def test_async_with_closes_on_cancellation(tmp_path: pathlib.Path) -> None:
    f = await tether.Path(tmp_path / "f").open("w")
    with tether.CancelScope() as scope:
        scope.cancel()
        async with f:
            await f.write("x")  # cancelled here; leaving the block still closes
    assert scope.cancelled_caught
    assert f.closed


async def test_wrapper_repr_names_the_wrapped_file(tmp_path: pathlib.Path) -> None:
    async with await tether.open_file(tmp_path / "r", "wb") as f:
        assert repr(f).startswith("<tether async file wrapping <_io.BufferedWriter")


async def test_file_system_queries_match_pathlib(tmp_path: pathlib.Path) -> None:
    base = tether.Path(tmp_path)
    file = base / "file.txt"
    await file.touch()
    await file.touch(exist_ok=True)
    with pytest.raises(FileExistsError):
        await file.touch(exist_ok=False)
    assert await file.is_file()
    assert not await file.is_dir()
    assert not await file.is_symlink()
    assert not await file.is_fifo()
    assert not await file.is_socket()
    assert not await file.is_block_device()
    assert not await file.is_char_device()
    assert await tether.Path("/dev/null").is_char_device()
    assert not await file.is_mount()
    assert await tether.Path("/").is_mount()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert await tether.Path(fifo).is_fifo()
    assert await file.owner() == pwd.getpwuid(os.getuid()).pw_name
    assert await file.group() == grp.getgrgid(os.getgid()).gr_name


async def test_absolute_and_expanduser_return_tether_paths(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    absolute = await tether.Path("rel").absolute()
    assert isinstance(absolute, tether.Path)
    assert absolute == tether.Path(tmp_path / "rel")
    monkeypatch.setenv("HOME", str(tmp_path))
    expanded = await tether.Path("~/x").expanduser()
    assert isinstance(expanded, tether.Path)
    assert str(expanded) == str(tmp_path / "x")


async def test_links_and_their_metadata(tmp_path: pathlib.Path) -> None:
    target = tether.Path(tmp_path) / "target"
    await target.write_text("content")
    link = tether.Path(tmp_path) / "link"
    await link.symlink_to(target)
    assert await link.is_symlink()
    assert await link.readlink() == target
    assert isinstance(await link.readlink(), tether.Path)
    assert stat.S_ISLNK((await link.lstat()).st_mode)
    assert stat.S_ISLNK((await link.stat(follow_symlinks=False)).st_mode)
    assert stat.S_ISREG((await link.stat()).st_mode)
    assert await link.samefile(target)  # a tether.Path argument (pathlib calls its stat)
    hard = tether.Path(tmp_path) / "hard"
    await hard.hardlink_to(target)
    assert (await hard.stat()).st_nlink == 2
    assert await hard.samefile(str(target))


async def test_chmod_replace_rmdir_and_rglob(tmp_path: pathlib.Path) -> None:
    base = tether.Path(tmp_path)
    deep = base / "a" / "b"
    await deep.mkdir(parents=True)
    await deep.mkdir(parents=True, exist_ok=True)
    one = deep / "one.txt"
    await one.write_text("1")
    await one.chmod(0o600)
    assert stat.S_IMODE((await one.stat()).st_mode) == 0o600
    two = base / "two.txt"
    await two.write_text("2")
    replaced = await two.replace(one)
    assert isinstance(replaced, tether.Path)
    assert await one.read_text() == "2"
    assert not await two.exists()
    found = await base.rglob("*.txt")
    assert found == [one]
    assert all(isinstance(p, tether.Path) for p in found)
    await one.unlink()
    await one.unlink(missing_ok=True)
    await deep.rmdir()
    assert not await deep.exists()


async def test_path_methods_run_in_worker_threads(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The blocking call must not run in the loop's thread.
    threads: list[threading.Thread] = []
    original = pathlib.Path.exists

    def spying_exists(self: pathlib.Path) -> bool:
        threads.append(threading.current_thread())
        return original(self)

    monkeypatch.setattr(pathlib.Path, "exists", spying_exists)
    assert await tether.Path(tmp_path).exists()
    assert len(threads) == 1
    assert threads[0] is not threading.main_thread()
