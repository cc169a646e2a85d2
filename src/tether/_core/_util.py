"""Small helpers for the kernel: constructor control, function naming, coroutine checks."""

from __future__ import annotations

import collections.abc
import functools
import types
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, final

if TYPE_CHECKING:
    from collections.abc import Coroutine

T = TypeVar("T")
# Code flags (see the inspect module, which costs milliseconds to import).
_CO_ITERABLE_COROUTINE = 0x100
_CO_ASYNC_GENERATOR = 0x200

__all__ = ["FrozenRecord", "NoPublicConstructor", "coroutine_or_error", "final", "name_of"]


class FrozenRecord:
    """Base for the kernel's small read-only snapshots (statistics): what ``attrs.frozen``
    gave them (repr, equality, hashing, immutability, ``match``), without importing attrs.

    A subclass lists its fields in ``__slots__`` and, in ``__init__``'s order, in
    ``__match_args__``; its ``__init__`` calls ``self._fill(field1, field2, ...)``.
    """

    __slots__ = ()
    __match_args__: tuple[str, ...] = ()

    def _fill(self, *values: object) -> None:
        for name, value in zip(self.__match_args__, values, strict=True):
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__match_args__)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__match_args__)
        return f"{type(self).__qualname__}({fields})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, FrozenRecord)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), *self._values()))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__qualname__} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__qualname__} is read-only")

    def __reduce__(self) -> tuple[type[FrozenRecord], tuple[object, ...]]:
        return type(self), self._values()


class NoPublicConstructor(type):
    """Metaclass that forbids ``Cls(...)``; the kernel builds instances with ``Cls._create()``."""

    def __call__(cls, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(
            f"{cls.__module__}.{cls.__qualname__} has no public constructor; only tether creates it"
        )

    def _create(cls: type[T], *args: object, **kwargs: object) -> T:
        return super().__call__(*args, **kwargs)  # type: ignore[misc, no-any-return]


def name_of(fn: object) -> str:
    """A readable ``module.qualname`` for a callable, looking through partials."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    qualname = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if qualname is None:
        return repr(fn)
    module = getattr(fn, "__module__", None)
    return f"{module}.{qualname}" if module else str(qualname)


def _looks_like_foreign_awaitable(value: object) -> str | None:
    cls = type(value)
    module = getattr(cls, "__module__", "") or ""
    if module.startswith(("asyncio", "twisted", "tornado", "concurrent.futures")):
        return f"a {module}.{cls.__qualname__}"
    return None


def coroutine_object_error(coro: Coroutine[Any, Any, Any]) -> TypeError:
    """The error for passing ``fn(arg)`` where ``fn, arg`` was meant; closes ``coro``."""
    # Close it so Python does not also warn "coroutine was never awaited".
    coro.close()
    return TypeError(
        f"tether expected an async function, but got a coroutine object {coro!r}.\n"
        "Pass the function and its arguments separately: write\n"
        "    run(fn, arg)      not    run(fn(arg))\n"
        "    start_soon(fn, arg)    not    start_soon(fn(arg))"
    )


def coroutine_or_error(async_fn: object, *args: object) -> Coroutine[Any, Any, Any]:
    """Call ``async_fn(*args)`` and check that it gave a coroutine; a clear TypeError if not."""
    # Fast path for the overwhelmingly common case: a plain async function.
    if type(async_fn) is types.FunctionType:
        coro: object = async_fn(*args)
        if type(coro) is types.CoroutineType:
            return coro
        return _check_call_result(async_fn, coro)
    if isinstance(async_fn, collections.abc.Coroutine):
        raise coroutine_object_error(async_fn)
    if not callable(async_fn):
        raise TypeError(f"tether expected an async function, but got {async_fn!r}")
    code = getattr(async_fn, "__code__", None)
    if code is not None and code.co_flags & _CO_ASYNC_GENERATOR:
        raise TypeError(
            f"tether expected an async function, but {name_of(async_fn)} is an async "
            "generator function; iterate it from inside an async function instead"
        )
    return _check_call_result(async_fn, async_fn(*args))


def _check_call_result(async_fn: object, coro: object) -> Coroutine[Any, Any, Any]:
    if isinstance(coro, collections.abc.Coroutine):
        return coro
    if type(coro) is types.AsyncGeneratorType:
        raise TypeError(
            f"tether expected an async function, but {name_of(async_fn)} is an async "
            "generator function; iterate it from inside an async function instead"
        )
    if type(coro) is types.GeneratorType and coro.gi_code.co_flags & _CO_ITERABLE_COROUTINE:
        return coro  # type: ignore[return-value]  # a @types.coroutine generator: fine
    foreign = _looks_like_foreign_awaitable(coro)
    if foreign is not None:
        raise TypeError(
            f"{name_of(async_fn)} returned {foreign}: tether cannot run objects from "
            "another event loop"
        )
    if isinstance(coro, collections.abc.Awaitable):
        raise TypeError(
            f"{name_of(async_fn)} returned an awaitable {coro!r} but not a coroutine; "
            "wrap it in an async function that awaits it"
        )
    raise TypeError(
        f"tether expected an async function, but {name_of(async_fn)} is a plain function "
        f"that returned {type(coro).__name__}; define it with 'async def'"
    )


_CO_COROUTINE = 0x80
_CO_ASYNC_GENERATOR = 0x200


def check_sync_fn(sync_fn: object, api: str, runs_in: str) -> None:
    """Raise a ``TypeError`` naming the mistake unless ``sync_fn`` is a plain callable.

    ``api`` names the public function being called (``"to_thread.run_sync"``) and
    ``runs_in`` what would run ``sync_fn`` (``"threads"``), for the message.
    """
    if type(sync_fn) is types.FunctionType:
        # The common case, checked without inspect: a plain function is fine unless it
        # is an async def (CO_COROUTINE) or an async generator (CO_ASYNC_GENERATOR).
        # (3.12's inspect.markcoroutinefunction leaves a marker attribute: slow path.)
        flags = sync_fn.__code__.co_flags
        if not flags & (_CO_COROUTINE | _CO_ASYNC_GENERATOR) and not hasattr(
            sync_fn, "_is_coroutine_marker"
        ):
            return
    elif type(sync_fn) is types.BuiltinFunctionType:
        return
    import inspect  # here, not at import: the kernel keeps start-up lean

    if inspect.iscoroutine(sync_fn):
        sync_fn.close()
        raise TypeError(
            f"{api} expected a sync function, but got a coroutine object "
            f"{sync_fn!r}; pass the function and its arguments separately"
        )
    if inspect.iscoroutinefunction(sync_fn):
        raise TypeError(
            f"{api} expected a sync function, but got {sync_fn!r}; "
            f"async functions run in tasks, not {runs_in}"
        )
    if not callable(sync_fn):
        raise TypeError(f"{api} expected a callable, not {sync_fn!r}")
