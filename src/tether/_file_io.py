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
from ._core import checkpoint
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
        """Close the file (in a worker thread: closing may flush)."""
        await to_thread.run_sync(self._wrapped.close)
        await checkpoint()

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


# pathlib.Path methods that touch the file system: async (in a worker thread) on Path.
_PATH_IO_METHODS = (
    "absolute",
    "chmod",
    "cwd",
    "exists",
    "expanduser",
    "glob",
    "group",
    "hardlink_to",
    "home",
    "is_block_device",
    "is_char_device",
    "is_dir",
    "is_fifo",
    "is_file",
    "is_mount",
    "is_socket",
    "is_symlink",
    "iterdir",
    "lchmod",
    "lstat",
    "mkdir",
    "owner",
    "read_bytes",
    "read_text",
    "readlink",
    "rename",
    "replace",
    "resolve",
    "rglob",
    "rmdir",
    "samefile",
    "stat",
    "symlink_to",
    "touch",
    "unlink",
    "write_bytes",
    "write_text",
)


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

    def _sync(self) -> pathlib.Path:
        return pathlib.Path(self)

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


def _make_io_method(name: str) -> Callable[..., Any]:
    async def method(self: Path, *args: Any, **kwargs: Any) -> Any:
        target = getattr(self._sync(), name)

        def call() -> Any:
            result = target(*args, **kwargs)
            if name in ("iterdir", "glob", "rglob"):
                result = list(result)
            return result

        return _wrap_path_result(await to_thread.run_sync(call))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Like :meth:`pathlib.Path.{name}`, in a worker thread."
    return method


for _name in _PATH_IO_METHODS:
    if hasattr(pathlib.Path, _name):
        setattr(Path, _name, _make_io_method(_name))
