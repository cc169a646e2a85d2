"""Worker processes for ``python -m tether.demo``: CPU-bound work off the loop.

The worker function lives in this module (not in ``demo``) so worker processes can import
it by name however the demo was started.
"""

from __future__ import annotations

import functools
import os

from . import to_process
from ._gather import gather

__all__ = ["demo_processes"]


def count_primes(start: int, stop: int) -> tuple[int, int]:
    """Count primes in ``[start, stop)`` the slow way; return (count, worker pid)."""
    count = 0
    for n in range(max(start, 2), stop):
        if all(n % d for d in range(2, int(n**0.5) + 1)):
            count += 1
    return count, os.getpid()


async def demo_processes() -> None:
    """Split a CPU-bound count over worker processes with ``to_process.run_sync``."""
    chunks = [(i * 20_000, (i + 1) * 20_000) for i in range(4)]
    results = await gather(
        *(functools.partial(to_process.run_sync, count_primes, lo, hi) for lo, hi in chunks)
    )
    total = sum(count for count, _ in results)
    workers = len({pid for _, pid in results} - {os.getpid()})
    print(f"   {total} primes below 80,000, counted in 4 chunks by {workers} worker process(es)")
