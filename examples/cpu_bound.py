"""CPU-bound work in tether: counting primes in worker processes.

Pure-Python computation holds the interpreter lock, so neither the loop nor worker
threads can run it in parallel. ``tether.to_process.run_sync`` runs it in a pool of
worker processes and awaits the answer while the loop goes on. This example:

* counts the primes below a limit once in a single worker process, as a baseline;
* splits the same range into chunks and counts them at once, one task per chunk in a
  nursery, each reporting as it finishes (the pool runs one chunk per CPU at a time);
* gives a much bigger count a deadline: with ``cancellable=True`` the worker is killed
  when the deadline passes, instead of the task waiting for it.

Run it with ``python examples/cpu_bound.py [LIMIT]``; the docs walk through it in
docs/howto-cpu-bound.md.
"""

from __future__ import annotations

import os
import sys
import time

import tether

DEFAULT_LIMIT = 250_000
CHUNKS = 8
DEADLINE = 0.25  # seconds we give the big count


def count_primes(start: int, stop: int) -> int:
    """How many primes in [start, stop). Runs in a worker process, so it must be defined at
    module level: workers receive the function by name and import it."""
    found = 0
    for n in range(max(start, 2), stop):
        if all(n % d for d in range(2, int(n**0.5) + 1)):
            found += 1
    return found


def chunks(limit: int, count: int) -> list[tuple[int, int]]:
    """``count`` ranges covering [0, limit). Later numbers cost more to test, so the
    ranges are equal in cost only roughly; more chunks than CPUs evens out the load."""
    step = -(-limit // count)
    return [(lo, min(lo + step, limit)) for lo in range(0, limit, step)]


async def count_in_chunks(limit: int) -> int:
    total = 0
    done = 0

    async def count_one(lo: int, hi: int) -> None:
        nonlocal total, done
        found = await tether.to_process.run_sync(count_primes, lo, hi)
        total += found
        done += 1
        print(f"  chunk {lo:>9,} .. {hi:<9,} {found:>6,} primes   ({done}/{CHUNKS} done)")

    async with tether.open_nursery() as nursery:
        for lo, hi in chunks(limit, CHUNKS):
            nursery.start_soon(count_one, lo, hi)
    return total


async def count_with_deadline(limit: int) -> int | None:
    with tether.move_on_after(DEADLINE):
        return await tether.to_process.run_sync(count_primes, 0, limit, cancellable=True)
    return None


async def main(limit: int = DEFAULT_LIMIT) -> dict[str, float]:
    workers = tether.to_process.current_default_process_limiter().total_tokens
    print(f"counting the primes below {limit:,}; {os.cpu_count()} CPUs, {workers} at a time")

    # Start the workers first (one trivial call per token, at once), so that neither
    # timing below includes starting processes.
    async with tether.open_nursery() as nursery:
        for _ in range(int(min(workers, CHUNKS))):
            nursery.start_soon(tether.to_process.run_sync, os.getpid)

    start = time.perf_counter()
    expected = await tether.to_process.run_sync(count_primes, 0, limit)
    one_process = time.perf_counter() - start
    print(f"one worker process: {expected:,} primes in {one_process:.2f} s")

    start = time.perf_counter()
    total = await count_in_chunks(limit)
    chunked = time.perf_counter() - start
    assert total == expected
    print(
        f"{CHUNKS} chunks at once: {total:,} primes in {chunked:.2f} s "
        f"(speed-up {one_process / chunked:.1f}x)"
    )

    start = time.perf_counter()
    result = await count_with_deadline(100 * limit)
    if result is None:
        print(
            f"counting below {100 * limit:,}: gave up after "
            f"{time.perf_counter() - start:.2f} s; the worker was killed"
        )
    else:  # a very fast machine
        print(f"counting below {100 * limit:,}: {result:,} primes, within the deadline")
    return {"primes": total, "one_process": one_process, "chunked": chunked}


if __name__ == "__main__":  # required: worker processes re-import this module
    tether.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_LIMIT)
