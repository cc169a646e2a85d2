"""Tier 4: running async functions concurrently and collecting their results."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from ._core import TaskHandle, open_nursery

T = TypeVar("T")


async def gather(*async_fns: Callable[[], Awaitable[T]]) -> list[T]:
    """Run the async functions concurrently; return their results in the same order.

    Built on a nursery: if one raises, the others are cancelled and the error comes out
    as an ``ExceptionGroup``, as with any nursery. Pass functions, not coroutines (use
    ``functools.partial`` for arguments)::

        page, user = await tether.gather(partial(fetch, url), partial(load_user, uid))
    """
    async with open_nursery() as nursery:
        handles: list[TaskHandle[T]] = [nursery.start_task(fn) for fn in async_fns]
    return [handle.result() for handle in handles]
