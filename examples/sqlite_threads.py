"""Calling blocking code from tether: sqlite3 in worker threads.

sqlite3 is a blocking library: every call holds the thread until the disk (or the query
planner) is done. Called straight from a task it would freeze every other task, so each
call goes to a worker thread with ``tether.to_thread.run_sync``. This example shows:

* one connection shared by several writer tasks, kept safe by a ``CapacityLimiter(1)``:
  whichever thread runs, it is the only one using the connection;
* progress reports sent from the worker threads back to the loop with
  ``tether.from_thread.run_sync``;
* a slow report query given a deadline: with ``abandon_on_cancel=True`` the task stops
  waiting at once, and the thread, which checks ``tether.from_thread.check_cancelled``
  from sqlite's progress handler, stops the query soon after.

Run it with ``python examples/sqlite_threads.py``; the docs walk through it in
docs/howto-blocking-code.md.
"""

from __future__ import annotations

import functools
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any

import tether

BATCH = 10
REPORT_DEADLINE = 0.1  # seconds we are willing to wait for the slow report


def create_table(conn: sqlite3.Connection) -> None:
    with conn:
        conn.execute("CREATE TABLE readings (worker INTEGER, seq INTEGER, value REAL, thread TEXT)")


def insert_batch(conn: sqlite3.Connection, worker: int, start: int, count: int) -> int:
    """Runs in a worker thread: write one batch, then tell the loop how far we got."""
    thread = threading.current_thread().name
    rows = [(worker, seq, seq * 0.5, thread) for seq in range(start, start + count)]
    with conn:  # one transaction per batch
        conn.executemany("INSERT INTO readings VALUES (?, ?, ?, ?)", rows)
    done = start + count
    # Back in the loop thread (a plain function, so it must not block): update the report.
    tether.from_thread.run_sync(report_progress, worker, done)
    return done


progress: dict[int, int] = {}


def report_progress(worker: int, done: int) -> None:
    """Runs in the loop thread, called from a worker thread by from_thread.run_sync."""
    progress[worker] = done
    print(f"progress: worker {worker} has written {done} rows ({sum(progress.values())} total)")


def summarize(conn: sqlite3.Connection) -> tuple[dict[int, int], list[str]]:
    """Rows per worker, and the names of the threads that wrote them."""
    query = "SELECT worker, count(*) FROM readings GROUP BY worker ORDER BY worker"
    per_worker = dict(conn.execute(query).fetchall())
    threads = [name for (name,) in conn.execute("SELECT DISTINCT thread FROM readings")]
    return per_worker, sorted(threads)


def slow_report(conn: sqlite3.Connection) -> int:
    """A query that takes far too long (a four-way self-join), cancellable from the loop.

    sqlite calls the progress handler every 10,000 virtual-machine steps; it asks tether
    whether the task waiting for this thread was cancelled, and a non-zero answer makes
    sqlite stop the query with ``OperationalError: interrupted``.
    """

    def stop_if_cancelled() -> int:
        try:
            tether.from_thread.check_cancelled()
        except tether.Cancelled:
            return 1
        return 0

    conn.set_progress_handler(stop_if_cancelled, 10_000)
    try:
        query = "SELECT count(*) FROM readings AS a, readings AS b, readings AS c, readings AS d"
        (count,) = conn.execute(query).fetchone()
        return int(count)
    finally:
        conn.set_progress_handler(None, 0)


async def main(workers: int = 4, rows_each: int = 250) -> dict[str, Any]:
    progress.clear()
    with tempfile.TemporaryDirectory() as tmp:
        # Even opening the file is blocking work. check_same_thread=False: the connection
        # is used from several worker threads, never two at once, because every call
        # below goes through the `db` limiter.
        conn = await tether.to_thread.run_sync(
            functools.partial(sqlite3.connect, Path(tmp) / "readings.db", check_same_thread=False)
        )
        db = tether.CapacityLimiter(1)
        try:
            await tether.to_thread.run_sync(create_table, conn, limiter=db)

            async def writer(worker: int) -> None:
                for start in range(0, rows_each, BATCH):
                    count = min(BATCH, rows_each - start)
                    await tether.to_thread.run_sync(
                        insert_batch,
                        conn,
                        worker,
                        start,
                        count,
                        limiter=db,
                        thread_name=f"sqlite writer {worker}",
                    )

            async with tether.open_nursery() as nursery:
                for worker in range(workers):
                    nursery.start_soon(writer, worker)

            # A report with a deadline. Without abandon_on_cancel the task would wait for
            # the thread to finish before noticing the timeout (soon here, thanks to the
            # progress handler; with a library that has no such hook, however long the
            # call takes). With it, the task moves on at once and the thread is left to
            # finish on its own: it keeps the `db` token until then, so nothing else
            # touches the connection meanwhile.
            with tether.move_on_after(REPORT_DEADLINE) as scope:
                await tether.to_thread.run_sync(
                    slow_report, conn, limiter=db, abandon_on_cancel=True
                )
            if scope.cancelled_caught:
                print(f"slow report cancelled after {REPORT_DEADLINE} s; the thread stops it")

            # This waits for the `db` token, so it also waits for the abandoned query's
            # thread to notice the cancellation and give the connection back.
            per_worker, threads = await tether.to_thread.run_sync(summarize, conn, limiter=db)
        finally:
            # Closing is blocking work too. Through `db`, so no thread still uses the
            # connection; shielded, so it happens even if we are being cancelled.
            with tether.CancelScope(shield=True):
                await tether.to_thread.run_sync(conn.close, limiter=db)
    total = sum(per_worker.values())
    print(f"rows in the table: {total}, written by threads {', '.join(threads)}")
    return {"rows": total, "per_worker": per_worker, "threads": threads}


if __name__ == "__main__":
    tether.run(main)
