"""Async files: open_file, wrap_file and Path, with the blocking calls in worker threads."""

from __future__ import annotations

import io
import os
import pathlib
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from functools import partial, wraps
from typing import IO, Any, Generic, TypeAlias, TypeVar

from . import to_thread
from ._core import CancelScope, checkpoint_if_cancelled
from ._core._util import final

FileT = TypeVar("FileT", bound=IO[Any])

# Methods that may block on the disk: wrapped as coroutines run in a worker thread.
_ASYNC_METHODS = frozenset(
    {
        "flush",
        "peek",
        "read",
        "read1",
        "readall",
        "readinto",
        "readinto1",
        "readline",
        "readlines",
        "seek",
        "tell",
        "truncate",
        "write",
        "writelines",
    }
)
# Attributes that never block: forwarded as they are.
_SYNC_ATTRIBUTES = frozenset(
    {
        "buffer",
        "closed",
        "encoding",
        "errors",
        "fileno",
        "isatty",
        "line_buffering",
        "mode",
        "name",
        "newlines",
        "raw",
        "readable",
        "seekable",
        "writable",
    }
)


@final
class AsyncIOWrapper(Generic[FileT]):
    """A file object whose blocking methods are async (run in a worker thread).

    ``await f.read()``, ``await f.write(data)``, ``async for line in f``, ``await
    f.aclose()`` or ``async with``; non-blocking attributes (``name``, ``mode``,
    ``closed``, ...) work as on the wrapped file, which is ``wrapped``.
    """

    def __init__(self, file: FileT) -> None:
        self._wrapped = file

    @property
    def wrapped(self) -> FileT:
        """The underlying (synchronous) file object."""
        return self._wrapped

    def __repr__(self) -> str:
        return f"<tether async file wrapping {self._wrapped!r}>"

    def __getattr__(self, name: str) -> Any:
        if name in _SYNC_ATTRIBUTES:
            return getattr(self._wrapped, name)
        if name in _ASYNC_METHODS:
            method = getattr(self._wrapped, name)

            @wraps(method)
            async def in_thread(*args: Any, **kwargs: Any) -> Any:
                return await to_thread.run_sync(partial(method, *args, **kwargs))

            setattr(self, name, in_thread)  # cache, so the next call skips __getattr__
            return in_thread
        raise AttributeError(name)

    def __dir__(self) -> Iterable[str]:
        names = set(super().__dir__())
        names.update(a for a in _SYNC_ATTRIBUTES | _ASYNC_METHODS if hasattr(self._wrapped, a))
        return names

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        line = await to_thread.run_sync(self._wrapped.readline)
        if not line:
            raise StopAsyncIteration
        return line

    async def detach(self) -> AsyncIOWrapper[Any]:
        """Like ``io.BufferedIOBase.detach``: returns the underlying raw stream, wrapped."""
        raw = await to_thread.run_sync(self._wrapped.detach)  # type: ignore[attr-defined]
        return wrap_file(raw)

    async def aclose(self) -> None:
        """Close the file (in a worker thread: closing may flush). The file is closed even
        if the caller is cancelled; the ``Cancelled`` comes afterwards."""
        with CancelScope(shield=True):
            await to_thread.run_sync(self._wrapped.close)
        await checkpoint_if_cancelled()

    async def __aenter__(self) -> AsyncIOWrapper[FileT]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def wrap_file(file: FileT) -> AsyncIOWrapper[FileT]:
    """Wrap an already open file object so its blocking methods become async."""
    if not hasattr(file, "close") or not (hasattr(file, "read") or hasattr(file, "write")):
        raise TypeError(f"{file!r} does not look like a file object")
    return AsyncIOWrapper(file)


async def open_file(
    file: int | str | bytes | os.PathLike[str] | os.PathLike[bytes],
    mode: str = "r",
    buffering: int = -1,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
    closefd: bool = True,
    opener: Callable[[str, int], int] | None = None,
) -> AsyncIOWrapper[Any]:
    """Open a file like :func:`open`, in a worker thread, and return it wrapped as an
    :class:`AsyncIOWrapper`: ``async with await tether.open_file(path) as f: ...``."""
    opened = await to_thread.run_sync(
        partial(io.open, file, mode, buffering, encoding, errors, newline, closefd, opener)
    )
    return wrap_file(opened)


def _wrap_path_result(value: Any) -> Any:
    if isinstance(value, pathlib.PurePath):
        return Path(value)
    if isinstance(value, list):
        return [_wrap_path_result(item) for item in value]
    return value


if sys.platform == "win32":  # pragma: no cover
    _PurePlatformPath: TypeAlias = pathlib.PureWindowsPath
else:
    _PurePlatformPath: TypeAlias = pathlib.PurePosixPath


class Path(_PurePlatformPath):
    """An async :class:`pathlib.Path`: pure operations (``/``, ``name``, ``parent``,
    ``with_suffix``, ...) are as usual and return tether Paths; everything that touches
    the file system is a coroutine run in a worker thread (``await path.read_text()``,
    ``await path.exists()``; ``iterdir``/``glob``/``rglob`` return lists)."""

    __slots__ = ()

    async def open(
        self,
        mode: str = "r",
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> AsyncIOWrapper[Any]:
        """Open the file, like :func:`tether.open_file`."""
        return await open_file(self, mode, buffering, encoding, errors, newline)

    def __repr__(self) -> str:
        return f"tether.Path({str(self)!r})"

    async def _in_thread(self, name: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(pathlib.Path(self), name)
        # pathlib may call methods of a path argument (samefile calls other.stat()),
        # which on a tether.Path are coroutines: hand it plain pathlib paths.
        args = tuple(pathlib.Path(arg) if isinstance(arg, Path) else arg for arg in args)

        def call() -> Any:
            result = method(*args, **kwargs)
            if name in ("iterdir", "glob", "rglob"):
                result = list(result)
            return result

        return _wrap_path_result(await to_thread.run_sync(call))

    async def absolute(self) -> Path:
        """Like :meth:`pathlib.Path.absolute`, in a worker thread."""
        result: Path = await self._in_thread("absolute")
        return result

    async def exists(self) -> bool:
        """Like :meth:`pathlib.Path.exists`, in a worker thread."""
        result: bool = await self._in_thread("exists")
        return result

    async def expanduser(self) -> Path:
        """Like :meth:`pathlib.Path.expanduser`, in a worker thread."""
        result: Path = await self._in_thread("expanduser")
        return result

    async def is_block_device(self) -> bool:
        """Like :meth:`pathlib.Path.is_block_device`, in a worker thread."""
        result: bool = await self._in_thread("is_block_device")
        return result

    async def is_char_device(self) -> bool:
        """Like :meth:`pathlib.Path.is_char_device`, in a worker thread."""
        result: bool = await self._in_thread("is_char_device")
        return result

    async def is_dir(self) -> bool:
        """Like :meth:`pathlib.Path.is_dir`, in a worker thread."""
        result: bool = await self._in_thread("is_dir")
        return result

    async def is_fifo(self) -> bool:
        """Like :meth:`pathlib.Path.is_fifo`, in a worker thread."""
        result: bool = await self._in_thread("is_fifo")
        return result

    async def is_file(self) -> bool:
        """Like :meth:`pathlib.Path.is_file`, in a worker thread."""
        result: bool = await self._in_thread("is_file")
        return result

    async def is_mount(self) -> bool:
        """Like :meth:`pathlib.Path.is_mount`, in a worker thread."""
        result: bool = await self._in_thread("is_mount")
        return result

    async def is_socket(self) -> bool:
        """Like :meth:`pathlib.Path.is_socket`, in a worker thread."""
        result: bool = await self._in_thread("is_socket")
        return result

    async def is_symlink(self) -> bool:
        """Like :meth:`pathlib.Path.is_symlink`, in a worker thread."""
        result: bool = await self._in_thread("is_symlink")
        return result

    async def owner(self) -> str:
        """Like :meth:`pathlib.Path.owner`, in a worker thread."""
        result: str = await self._in_thread("owner")
        return result

    async def group(self) -> str:
        """Like :meth:`pathlib.Path.group`, in a worker thread."""
        result: str = await self._in_thread("group")
        return result

    async def iterdir(self) -> list[Path]:
        """Like :meth:`pathlib.Path.iterdir`, in a worker thread."""
        result: list[Path] = await self._in_thread("iterdir")
        return result

    async def glob(self, pattern: str) -> list[Path]:
        """Like :meth:`pathlib.Path.glob`, in a worker thread."""
        result: list[Path] = await self._in_thread("glob", pattern)
        return result

    async def rglob(self, pattern: str) -> list[Path]:
        """Like :meth:`pathlib.Path.rglob`, in a worker thread."""
        result: list[Path] = await self._in_thread("rglob", pattern)
        return result

    async def lstat(self) -> os.stat_result:
        """Like :meth:`pathlib.Path.lstat`, in a worker thread."""
        result: os.stat_result = await self._in_thread("lstat")
        return result

    async def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        """Like :meth:`pathlib.Path.stat`, in a worker thread."""
        result: os.stat_result = await self._in_thread("stat", follow_symlinks=follow_symlinks)
        return result

    async def chmod(self, mode: int, *, follow_symlinks: bool = True) -> None:
        """Like :meth:`pathlib.Path.chmod`, in a worker thread."""
        await self._in_thread("chmod", mode, follow_symlinks=follow_symlinks)

    async def mkdir(self, mode: int = 0o777, parents: bool = False, exist_ok: bool = False) -> None:
        """Like :meth:`pathlib.Path.mkdir`, in a worker thread."""
        await self._in_thread("mkdir", mode=mode, parents=parents, exist_ok=exist_ok)

    async def rmdir(self) -> None:
        """Like :meth:`pathlib.Path.rmdir`, in a worker thread."""
        await self._in_thread("rmdir")

    async def unlink(self, missing_ok: bool = False) -> None:
        """Like :meth:`pathlib.Path.unlink`, in a worker thread."""
        await self._in_thread("unlink", missing_ok=missing_ok)

    async def touch(self, mode: int = 0o666, exist_ok: bool = True) -> None:
        """Like :meth:`pathlib.Path.touch`, in a worker thread."""
        await self._in_thread("touch", mode=mode, exist_ok=exist_ok)

    async def read_bytes(self) -> bytes:
        """Like :meth:`pathlib.Path.read_bytes`, in a worker thread."""
        result: bytes = await self._in_thread("read_bytes")
        return result

    async def read_text(self, encoding: str | None = None, errors: str | None = None) -> str:
        """Like :meth:`pathlib.Path.read_text`, in a worker thread."""
        result: str = await self._in_thread("read_text", encoding=encoding, errors=errors)
        return result

    async def write_bytes(self, data: bytes) -> int:
        """Like :meth:`pathlib.Path.write_bytes`, in a worker thread."""
        result: int = await self._in_thread("write_bytes", data)
        return result

    async def write_text(
        self,
        data: str,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> int:
        """Like :meth:`pathlib.Path.write_text`, in a worker thread."""
        result: int = await self._in_thread(
            "write_text", data, encoding=encoding, errors=errors, newline=newline
        )
        return result

    async def readlink(self) -> Path:
        """Like :meth:`pathlib.Path.readlink`, in a worker thread."""
        result: Path = await self._in_thread("readlink")
        return result

    async def rename(self, target: str | os.PathLike[str]) -> Path:
        """Like :meth:`pathlib.Path.rename`, in a worker thread."""
        result: Path = await self._in_thread("rename", target)
        return result

    async def replace(self, target: str | os.PathLike[str]) -> Path:
        """Like :meth:`pathlib.Path.replace`, in a worker thread."""
        result: Path = await self._in_thread("replace", target)
        return result

    async def resolve(self, strict: bool = False) -> Path:
        """Like :meth:`pathlib.Path.resolve`, in a worker thread."""
        result: Path = await self._in_thread("resolve", strict=strict)
        return result

    async def samefile(self, other_path: str | os.PathLike[str]) -> bool:
        """Like :meth:`pathlib.Path.samefile`, in a worker thread."""
        result: bool = await self._in_thread("samefile", other_path)
        return result

    async def symlink_to(
        self, target: str | os.PathLike[str], target_is_directory: bool = False
    ) -> None:
        """Like :meth:`pathlib.Path.symlink_to`, in a worker thread."""
        await self._in_thread("symlink_to", target, target_is_directory=target_is_directory)

    async def hardlink_to(self, target: str | os.PathLike[str]) -> None:
        """Like :meth:`pathlib.Path.hardlink_to`, in a worker thread."""
        await self._in_thread("hardlink_to", target)
