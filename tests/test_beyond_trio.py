"""Structured concurrency beyond Trio: handles, gather, services, graceful shutdown,
introspection, readable tracebacks and seeded scheduling."""

import functools
import os
import subprocess
import sys
import textwrap
import time
import traceback

import pytest

import tether
from tether.lowlevel import task_tree
from tether.testing import wait_all_tasks_blocked


async def _double_after(seconds: float, value: int) -> int:
    await tether.sleep(seconds)
    return value * 2


async def _fail_after(seconds: float) -> None:
    await tether.sleep(seconds)
    raise ValueError("child failed")


# -- 1. results from children -----------------------------------------------------------


async def test_task_handle_returns_the_child_result(autojump_clock: object) -> None:
    async with tether.open_nursery() as nursery:
        handle = nursery.start_task(_double_after, 1, 21)
        assert not handle.done()
        assert await handle == 42
        assert handle.done()
        assert handle.result() == 42
        assert handle.outcome is not None


async def test_task_handle_cancel_stops_only_that_child(autojump_clock: object) -> None:
    async with tether.open_nursery() as nursery:
        slow = nursery.start_task(_double_after, 100, 1)
        fast = nursery.start_task(_double_after, 1, 2)
        await wait_all_tasks_blocked()
        slow.cancel()
        with pytest.raises(tether.TaskCancelledError):
            await slow
        assert slow.cancelled()
        assert await fast == 4
    assert tether.current_time() < 100


async def test_failed_child_raises_through_nursery_and_handle(autojump_clock: object) -> None:
    handles: list[tether.TaskHandle[None]] = []
    seen: list[str] = []

    async def body() -> None:
        async with tether.open_nursery() as nursery:
            handles.append(nursery.start_task(_fail_after, 1))
            try:
                await handles[0]
            except tether.Cancelled:
                seen.append("cancelled")  # the nursery owns the error and cancels us
                raise

    with pytest.raises(ExceptionGroup) as info:
        await body()
    assert info.group_contains(ValueError, match="child failed")
    assert len(info.value.exceptions) == 1  # reported once, by the nursery
    assert seen == ["cancelled"]
    with pytest.raises(tether.TaskFailedError) as failed:
        handles[0].result()
    assert isinstance(failed.value.__cause__, ValueError)


async def test_failed_handle_awaited_from_outside_raises_task_failed(
    autojump_clock: object,
) -> None:
    async with tether.open_nursery() as outer:
        handles: list[tether.TaskHandle[None]] = []

        async def owner() -> None:
            async with tether.open_nursery() as inner:
                handles.append(inner.start_task(_fail_after, 1))

        async def guarded_owner() -> None:
            with pytest.raises(ExceptionGroup):
                await owner()

        outer.start_soon(guarded_owner)
        await wait_all_tasks_blocked()
        with pytest.raises(tether.TaskFailedError):
            await handles[0]


async def test_unawaited_failed_handle_is_not_lost(autojump_clock: object) -> None:
    with pytest.raises(ExceptionGroup) as info:
        async with tether.open_nursery() as nursery:
            nursery.start_task(_fail_after, 1)
    assert info.group_contains(ValueError)


async def test_handle_result_before_done_is_an_error() -> None:
    async with tether.open_nursery() as nursery:
        handle = nursery.start_task(tether.sleep, 0)
        with pytest.raises(RuntimeError, match="not finished"):
            handle.result()


async def test_start_task_rejects_a_coroutine_object() -> None:
    async with tether.open_nursery() as nursery:
        coro = _double_after(0, 1)
        with pytest.raises(TypeError, match="coroutine object"):
            nursery.start_task(coro)  # type: ignore[arg-type]


async def test_gather_returns_results_in_order(autojump_clock: object) -> None:
    results = await tether.gather(
        functools.partial(_double_after, 3, 1),
        functools.partial(_double_after, 1, 2),
        functools.partial(_double_after, 2, 3),
    )
    assert results == [2, 4, 6]


async def test_gather_error_cancels_the_rest(autojump_clock: object) -> None:
    start = tether.current_time()
    with pytest.raises(ExceptionGroup) as info:
        await tether.gather(
            functools.partial(_double_after, 100, 1), functools.partial(_fail_after, 1)
        )
    assert info.group_contains(ValueError)
    assert tether.current_time() - start == pytest.approx(1)


# -- 2. service tasks ---------------------------------------------------------------------


async def test_services_do_not_keep_the_nursery_open(autojump_clock: object) -> None:
    beats: list[float] = []

    async def heartbeat() -> None:
        while True:
            beats.append(tether.current_time())
            await tether.sleep(1)

    start = tether.current_time()
    async with tether.open_nursery() as nursery:
        nursery.start_service(heartbeat)
        nursery.start_service(tether.sleep_forever)
    assert tether.current_time() == start  # the nursery exited at once
    assert len(beats) <= 1


async def test_services_run_until_regular_children_finish(autojump_clock: object) -> None:
    beats: list[float] = []

    async def heartbeat() -> None:
        while True:
            beats.append(tether.current_time())
            await tether.sleep(1)

    start = tether.current_time()
    async with tether.open_nursery() as nursery:
        nursery.start_service(heartbeat)
        nursery.start_soon(tether.sleep, 5.5)
    assert tether.current_time() - start == pytest.approx(5.5)
    assert len(beats) == 6


async def test_service_error_propagates(autojump_clock: object) -> None:
    async def body() -> None:
        async with tether.open_nursery() as nursery:
            nursery.start_service(_fail_after, 1)
            await tether.sleep(10)

    with pytest.raises(ExceptionGroup) as info:
        await body()
    assert info.group_contains(ValueError)


# -- 3. graceful cancellation ---------------------------------------------------------------


async def test_request_shutdown_lets_work_finish_within_grace(autojump_clock: object) -> None:
    finished: list[str] = []

    async def worker() -> None:
        await tether.wait_shutdown_requested()
        assert tether.shutdown_requested()
        await tether.sleep(2)  # wrap up
        finished.append("clean")

    with tether.CancelScope() as scope:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(worker)
            await wait_all_tasks_blocked()
            assert not tether.shutdown_requested()
            scope.request_shutdown(grace_period=5)
    assert finished == ["clean"]
    assert not scope.cancelled_caught


async def test_request_shutdown_cancels_hard_after_grace(autojump_clock: object) -> None:
    start = tether.current_time()
    with tether.CancelScope() as scope:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(tether.sleep_forever)  # ignores the request
            await wait_all_tasks_blocked()
            scope.request_shutdown(grace_period=5)
    assert scope.cancelled_caught
    assert tether.current_time() - start == pytest.approx(5)


async def test_shield_hides_an_outer_shutdown_request(autojump_clock: object) -> None:
    with tether.CancelScope() as outer:
        outer.request_shutdown(grace_period=100)
        assert tether.shutdown_requested()
        with tether.CancelScope(shield=True):
            assert not tether.shutdown_requested()


async def test_graceful_server_shutdown(autojump_clock: object) -> None:
    served: list[bytes] = []

    async def handler(stream: tether.SocketStream) -> None:
        data = await stream.receive_some()
        await tether.sleep(3)  # a slow in-flight request
        served.append(bytes(data))
        await stream.send_all(b"ok:" + bytes(data))

    with tether.CancelScope() as scope:
        async with tether.open_nursery() as nursery:
            listeners = await nursery.start(
                functools.partial(tether.serve_tcp, handler, 0, host="127.0.0.1")
            )
            port = listeners[0].socket.getsockname()[1]
            client = await tether.open_tcp_stream("127.0.0.1", port)
            await client.send_all(b"req")
            await wait_all_tasks_blocked()
            scope.request_shutdown(grace_period=10)
            assert await client.receive_some() == b"ok:req"
            with pytest.raises(OSError):
                await tether.open_tcp_stream("127.0.0.1", port)
            await client.aclose()
    assert served == [b"req"]
    assert not scope.cancelled_caught


# -- 4. what is my program doing? ----------------------------------------------------------


async def test_task_tree_describes_tasks_scopes_and_blocking(autojump_clock: object) -> None:
    lock = tether.Lock()

    async def holder() -> None:
        async with lock:
            await tether.sleep(50)

    async with tether.open_nursery() as nursery:
        nursery.start_soon(holder, name="holder")
        nursery.start_soon(holder, name="waiter")
        await wait_all_tasks_blocked()
        tree = task_tree()
        by_name = {t.name: t for t in tree.tasks()}
        assert by_name["holder"].state == "blocked"
        assert "sleep" in (by_name["holder"].blocked_on or "")
        assert by_name["holder"].scopes[0].deadline_in == pytest.approx(50)
        assert "acquire" in (by_name["waiter"].blocked_on or "")
        assert any(f.function.endswith("holder") for f in by_name["waiter"].stack)
        text = str(tree)
        assert "task 'holder' [blocked]" in text
        assert "deadline in 50s" in text
        nursery.cancel_scope.cancel()


def test_hung_program_prints_its_tree_within_a_second(tmp_path: object) -> None:
    program = textwrap.dedent(
        """
        import time, tether, tether.lowlevel
        async def stuck():
            time.sleep(60)  # hogs the loop: nothing async can run
        async def main():
            tether.lowlevel.enable_task_dump_on_signal()
            async with tether.open_nursery() as nursery:
                nursery.start_soon(stuck, name="the-stuck-task")
                print("ready", flush=True)
        tether.run(main)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", program],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.1)  # let the stuck task start hogging
        start = time.monotonic()
        cli = subprocess.run(
            [sys.executable, "-m", "tether", "dump", str(proc.pid)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert cli.returncode == 0, cli.stderr
        assert proc.stderr is not None
        lines = []
        while "the-stuck-task" not in "".join(lines):
            lines.append(proc.stderr.readline())
        assert time.monotonic() - start < 1.0
        assert "tether task tree" in "".join(lines)
    finally:
        proc.kill()
        proc.communicate()


def test_dump_refuses_processes_that_did_not_enable_it() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        cli = subprocess.run(
            [sys.executable, "-m", "tether", "dump", str(proc.pid)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert cli.returncode == 1
        assert "has not enabled" in cli.stderr
        assert proc.poll() is None  # not killed by a stray SIGUSR1
    finally:
        proc.kill()
        proc.wait()


def test_async_repl_supports_top_level_await() -> None:
    script = "x = await tether.gather(lambda: tether.sleep(0))\nprint('result', x)\n"
    result = subprocess.run(
        [sys.executable, "-m", "tether"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "result [None]" in result.stdout


# -- 5. tracebacks people can read -----------------------------------------------------------


def test_child_failure_traceback_has_few_tether_frames() -> None:
    async def leaf() -> None:
        await tether.sleep(0)
        raise KeyError("deep")

    async def middle() -> None:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(leaf)

    async def main() -> None:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(middle)

    with pytest.raises(ExceptionGroup) as info:
        tether.run(main)
    rendered = "".join(traceback.format_exception(info.value))
    tether_dir = os.path.dirname(tether.__file__)
    tether_frames = [
        line for line in rendered.splitlines() if line.strip().startswith(f'File "{tether_dir}')
    ]
    nursery_levels = 2
    # At most two frames of tether per nursery level, plus run() itself.
    assert len(tether_frames) <= 2 * nursery_levels + 1, rendered
    assert "in leaf" in rendered
    assert "KeyError: 'deep'" in rendered


# -- 6. deterministic scheduling ---------------------------------------------------------------


def _interleaving(seed: int | None) -> list[int]:
    order: list[int] = []

    async def worker(n: int) -> None:
        for _ in range(3):
            order.append(n)
            await tether.checkpoint()

    async def main() -> None:
        async with tether.open_nursery() as nursery:
            for n in range(6):
                nursery.start_soon(worker, n)

    tether.run(main, scheduling_seed=seed)
    return order


def test_scheduling_seed_replays_exactly() -> None:
    assert _interleaving(1234) == _interleaving(1234)


def test_different_seeds_give_different_orders() -> None:
    orders = {tuple(_interleaving(seed)) for seed in range(10)}
    assert len(orders) > 1


def test_default_scheduling_is_first_come_first_served() -> None:
    assert _interleaving(None) == [0, 1, 2, 3, 4, 5] * 3


def test_scheduling_seed_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_SCHEDULING_SEED", "77")
    from_env = _interleaving(None)
    monkeypatch.delenv("TETHER_SCHEDULING_SEED")
    assert from_env == _interleaving(77)


async def test_unwrap_single_error_lets_a_lone_error_out_bare() -> None:
    async def fails() -> None:
        raise KeyError("lonely")

    async def nested_nurseries() -> None:
        with tether.unwrap_single_error():
            async with tether.open_nursery():
                async with tether.open_nursery() as inner:  # one-member groups, nested
                    inner.start_soon(fails)

    with pytest.raises(KeyError, match="lonely") as info:
        await nested_nurseries()
    assert isinstance(info.value.__context__, BaseExceptionGroup)
    # The error keeps its own frames: the failing function is in its traceback.
    assert "fails" in {entry.name for entry in info.traceback}


async def test_unwrap_single_error_keeps_groups_of_several() -> None:
    async def fails(exc: Exception) -> None:
        raise exc

    async def two_failures() -> None:
        with tether.unwrap_single_error():
            async with tether.open_nursery() as nursery:
                nursery.start_soon(fails, KeyError(1))
                nursery.start_soon(fails, ValueError(2))

    with pytest.raises(ExceptionGroup) as info:
        await two_failures()
    assert {type(e) for e in info.value.exceptions} == {KeyError, ValueError}


def test_unwrap_single_error_leaves_other_exceptions_and_success_alone() -> None:
    with pytest.raises(ValueError):
        with tether.unwrap_single_error():
            raise ValueError
    with tether.unwrap_single_error():
        pass
    with pytest.raises(BaseExceptionGroup):
        with tether.unwrap_single_error():
            raise BaseExceptionGroup(
                "two-deep, then two", [ExceptionGroup("x", [KeyError(), KeyError()])]
            )
