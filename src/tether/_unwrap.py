"""Unwrapping an ExceptionGroup that holds a single error, for callers that want that."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["unwrap_single_error"]


def _only_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    # Nested groups with one member each (a nursery inside a nursery) still hold one error.
    member: BaseException = group
    while isinstance(member, BaseExceptionGroup):
        if len(member.exceptions) != 1:
            return None
        member = member.exceptions[0]
    return member


@contextmanager
def unwrap_single_error() -> Iterator[None]:
    """Let a lone error out of an ``ExceptionGroup`` bare.

    Nurseries are strict: even one failing child comes out as an ``ExceptionGroup``. Wrap
    the nursery (or any code) in this context manager where you would rather catch the
    error itself::

        with tether.unwrap_single_error():
            async with tether.open_nursery() as nursery:
                nursery.start_soon(fetch, url)
        # a single ValueError from fetch propagates as ValueError

    A group holding exactly one error (through any depth of one-member groups) is replaced
    by that error, raised with its own traceback and the group as its ``__context__``. A
    group of two or more errors propagates unchanged, so nothing is ever dropped.
    """
    try:
        yield
    except BaseExceptionGroup as group:
        leaf = _only_leaf(group)
        if leaf is None:
            raise
        raise leaf from None
