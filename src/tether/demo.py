"""``python -m tether.demo``: a short tour of the whole tower, on loopback.

Each section is a small async function that prints what it does; together they take
about a second and exit by themselves.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import tempfile
import threading
import time

import tether
import tether.lowlevel
import tether.testing


def heading(title: str) -> None:
    print(f"\n== {title}")


async def nurseries() -> None:
    heading("a nursery of tasks (tier 3-4)")

    async def worker(name: str, delay: float) -> None:
        await tether.sleep(delay)
        print(f"   {name} finished after {delay:.2f}s")

    async with tether.open_nursery() as nursery:
        nursery.start_soon(worker, "slow", 0.06)
        nursery.start_soon(worker, "fast", 0.02)
        nursery.start_soon(worker, "medium", 0.04)
    print("   the nursery block ended only when all three were done")


async def timeouts() -> None:
    heading("timeouts are cancel scopes (tier 4)")
    with tether.move_on_after(0.05) as scope:
        await tether.sleep(10)
    print(
        f"   move_on_after(0.05) gave up on a 10 s sleep: cancelled_caught={scope.cancelled_caught}"
    )
    try:
        with tether.fail_after(0.02):
            await tether.sleep(10)
    except tether.TooSlowError:
        print("   fail_after(0.02) raised TooSlowError")
    with tether.CancelScope() as outer:
        outer.cancel()
        with tether.CancelScope(shield=True):
            await tether.sleep(0.01)
            print("   a shielded scope finished its work inside a cancelled one")


async def errors() -> None:
    heading("an error cancels its siblings and comes out as an ExceptionGroup")

    async def fails() -> None:
        await tether.sleep(0.01)
        raise ValueError("something went wrong")

    async def would_run_forever() -> None:
        try:
            await tether.sleep_forever()
        finally:
            print("   the sibling was cancelled and cleaned up")

    try:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(would_run_forever)
            nursery.start_soon(fails)
    except* ValueError as group:
        print(f"   caught with except*: {[str(e) for e in group.exceptions]}")


async def results() -> None:
    heading("results from children, and a service that stops by itself")

    async def square(x: int) -> int:
        await tether.sleep(0.01 * x)
        return x * x

    beats: list[int] = []

    async def heartbeat() -> None:
        while True:
            beats.append(1)
            await tether.sleep(0.01)

    async with tether.open_nursery() as nursery:
        nursery.start_service(heartbeat)
        handle = nursery.start_task(square, 3)
        print(f"   start_task(square, 3) -> {await handle}")
    print(f"   gather -> {await tether.gather(*(functools.partial(square, i) for i in range(4)))}")
    print(f"   the heartbeat service beat {len(beats)} times and ended with the nursery")


async def graceful_shutdown() -> None:
    heading("graceful shutdown, and 'what is my program doing?'")

    async def slow_request(stream: tether.SocketStream) -> None:
        await stream.receive_some()
        await tether.sleep(0.05)  # a request in flight when the shutdown comes
        await stream.send_all(b"finished my request")

    with tether.CancelScope() as server_scope:
        async with tether.open_nursery() as nursery:
            listeners = await nursery.start(
                functools.partial(tether.serve_tcp, slow_request, 0, host="127.0.0.1")
            )
            port = listeners[0].socket.getsockname()[1]
            client = await tether.open_tcp_stream("127.0.0.1", port)
            await client.send_all(b"request")
            await tether.testing.wait_all_tasks_blocked()
            tree = tether.lowlevel.task_tree()
            handler = next(
                t for t in tree.tasks() if any(f.function.endswith("slow_request") for f in t.stack)
            )
            print(f"   task tree: {len(tree.tasks())} tasks; the handler is {handler.blocked_on}")
            server_scope.request_shutdown(grace_period=5)
            reply = (await client.receive_some()).decode()
            print(f"   shutdown requested; the client still gets: {reply}")
            await client.aclose()
    print(f"   the server stopped by itself (hard-cancelled: {server_scope.cancelled_caught})")


async def threads() -> None:
    heading("blocking code in worker threads (tier 5)")

    def blocking_io(n: int) -> str:
        time.sleep(0.01)
        return tether.from_thread.run_sync(str.upper, f"thread answered {n}")

    print("   " + await tether.to_thread.run_sync(blocking_io, 7))
    from ._demo_threads import demo_threads

    await demo_threads()


async def echo_server() -> None:
    heading("a TCP echo server and client on 127.0.0.1 (tiers 7 and 9)")

    async def echo(stream: tether.SocketStream) -> None:
        async for chunk in stream:
            await stream.send_all(chunk)

    async with tether.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(tether.serve_tcp, echo, 0, host="127.0.0.1")
        )
        port = listeners[0].socket.getsockname()[1]
        stream = await tether.open_tcp_stream("127.0.0.1", port)
        reader = tether.BufferedReceiveStream(stream)
        await stream.send_all(b"hello, tether\nsecond line\n")
        async for line in reader.lines():
            print(f"   echoed: {line.decode()}")
            if line == b"second line":
                break
        await stream.aclose()
        nursery.cancel_scope.cancel()


async def subprocess_section() -> None:
    heading("running a program, signals, and async files")
    result = await tether.run_process(
        [sys.executable, "-c", "import sys; print(sys.stdin.read()[::-1])"],
        stdin=b"!sessecorp gninnur",
        capture_stdout=True,
    )
    print(f"   child said: {result.stdout.decode().strip()}")
    if threading.current_thread() is threading.main_thread():
        with tether.open_signal_receiver(signal.SIGUSR1) as signals:
            os.kill(os.getpid(), signal.SIGUSR1)
            async for signum in signals:
                print(f"   received {signal.Signals(signum).name} through open_signal_receiver")
                break
    with tempfile.TemporaryDirectory() as directory:
        path = tether.Path(directory) / "note.txt"
        await path.write_text("written and read back in worker threads")
        async with await tether.open_file(path) as f:
            print(f"   file: {await f.read()}")


async def main() -> None:
    print("tether: structured concurrency for Python -- a short tour")
    await nurseries()
    await timeouts()
    await errors()
    await results()
    await graceful_shutdown()
    try:
        from ._demo_channels import demo_channels
    except ImportError:  # pragma: no cover  # the channels tier is always there today
        pass
    else:
        heading("handing data between tasks: a producer/consumer pipeline (tier 6)")
        await demo_channels()
    await threads()
    from ._demo_processes import demo_processes

    heading("CPU-bound work in worker processes (tier 5)")
    await demo_processes()
    await echo_server()
    from ._demo_tls import demo_tls

    heading("TLS over TCP on 127.0.0.1 (tier 9)")
    await demo_tls()
    await subprocess_section()


def run_demo() -> None:
    """Run the tour."""
    tether.run(main)
    # tether.aio.run starts its own run, so the asyncio-shaped section comes after ours.
    from ._demo_aio import demo_aio

    heading("an asyncio snippet, ported by changing its import line (tether.aio)")
    demo_aio()
    print("\ndone.")


if __name__ == "__main__":
    run_demo()
