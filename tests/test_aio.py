"""tether.aio runs asyncio programs: each program in tests/aio_programs/ was run under
real asyncio once to record its expected output (the .expected files); here it runs
in-process under tether.aio (its `import asyncio` pointed at tether.aio) and must print
the same. Plus unit tests of the semantics that programs lean on."""

import contextlib
import io
import pathlib
import sys

import pytest

import tether
import tether.aio as asyncio

PROGRAMS = sorted((pathlib.Path(__file__).parent / "aio_programs").glob("*.py"))


def run_under_tether_aio(path: pathlib.Path) -> str:
    # asyncio numbers tasks per process ("Task-1", ...); start afresh as a new process would.
    import itertools

    import tether.aio._futures

    tether.aio._futures._task_names = itertools.count(1)
    source = path.read_text()
    source = source.replace("import asyncio, ", "import tether.aio as asyncio, ", 1)
    source = source.replace("import asyncio\n", "import tether.aio as asyncio\n", 1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, str(path), "exec"), {"__name__": "__main__"})
    return out.getvalue()


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_prints_what_asyncio_prints(path: pathlib.Path) -> None:
    expected = path.with_suffix(".expected").read_text()
    assert run_under_tether_aio(path) == expected
    assert "asyncio" not in sys.modules or sys.modules["asyncio"] is not asyncio


def test_run_returns_and_raises_like_asyncio() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    async def fails() -> None:
        raise KeyError("x")

    assert asyncio.run(answer()) == 42
    with pytest.raises(KeyError):
        asyncio.run(fails())
    with pytest.raises(ValueError, match="coroutine was expected"):
        asyncio.run(answer)  # type: ignore[arg-type]


def test_edge_triggered_cancellation() -> None:
    events: list[str] = []

    async def victim() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            events.append("caught")
        await asyncio.sleep(0.01)  # asyncio lets a task carry on after catching
        events.append("carried on")
        return "ok"

    async def main() -> None:
        task = asyncio.create_task(victim())
        await asyncio.sleep(0.01)
        assert task.cancel()
        assert await task == "ok"
        assert task.cancelling() == 1
        assert not task.cancelled()

    asyncio.run(main())
    assert events == ["caught", "carried on"]


def test_tether_timeouts_inside_aio_tasks_keep_tether_semantics() -> None:
    async def main() -> bool:
        with tether.move_on_after(0.01) as scope:
            await asyncio.sleep(10)
        return scope.cancelled_caught

    assert asyncio.run(main()) is True


def test_cancelled_task_result_and_future_states() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        assert not fut.done()
        with pytest.raises(asyncio.InvalidStateError):
            fut.result()
        fut.cancel("why")
        with pytest.raises(asyncio.CancelledError):
            fut.result()
        task = asyncio.create_task(asyncio.sleep(1))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled()
        assert asyncio.current_task() is not None
        assert len(asyncio.all_tasks()) == 1  # only main

    asyncio.run(main())


def test_get_running_loop_outside_a_run_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no running event loop"):
        asyncio.get_running_loop()


def test_unretrieved_task_exception_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    async def boom() -> None:
        raise ValueError("nobody looked")

    async def main() -> None:
        asyncio.create_task(boom())
        await asyncio.sleep(0.01)

    asyncio.run(main())
    assert "Task exception was never retrieved" in caplog.text
    assert "nobody looked" in caplog.text


def test_custom_exception_handler_sees_callback_errors() -> None:
    seen: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda lp, ctx: seen.append(ctx["message"]))
        loop.call_soon(lambda: 1 / 0)
        await asyncio.sleep(0.01)

    asyncio.run(main())
    assert seen
    assert seen[0].startswith("Exception in callback")


def test_tasks_still_running_at_exit_are_cancelled_and_awaited() -> None:
    log: list[str] = []

    async def background() -> None:
        try:
            await asyncio.sleep(100)
        finally:
            log.append("cleaned up")

    async def main() -> None:
        asyncio.create_task(background())
        await asyncio.sleep(0)

    asyncio.run(main())
    assert log == ["cleaned up"]


def test_gather_cancels_children_when_cancelled() -> None:
    async def main() -> list[bool]:
        children = [asyncio.create_task(asyncio.sleep(100)) for _ in range(3)]
        gathering = asyncio.ensure_future(asyncio.gather(*children))
        await asyncio.sleep(0.01)
        gathering.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gathering
        await asyncio.sleep(0)
        return [c.cancelled() for c in children]

    assert asyncio.run(main()) == [True, True, True]


def test_wait_first_exception_and_timeout() -> None:
    async def boom() -> None:
        await asyncio.sleep(0.01)
        raise RuntimeError("x")

    async def main() -> tuple[int, int, int]:
        slow = asyncio.create_task(asyncio.sleep(1))
        done, pending = await asyncio.wait(
            [asyncio.create_task(boom()), slow], return_when=asyncio.FIRST_EXCEPTION
        )
        for task in done:
            task.exception()
        _, still = await asyncio.wait([slow], timeout=0.01)
        slow.cancel()
        return len(done), len(pending), len(still)

    assert asyncio.run(main()) == (1, 1, 1)


def test_timeout_reschedule_and_expired() -> None:
    async def main() -> bool:
        try:
            async with asyncio.timeout(None) as cm:
                cm.reschedule(asyncio.get_running_loop().time() + 0.01)
                await asyncio.sleep(1)
        except TimeoutError:
            return cm.expired()
        return False

    assert asyncio.run(main()) is True


def test_queue_task_done_too_many_times() -> None:
    async def main() -> None:
        q: asyncio.Queue[int] = asyncio.Queue()
        with pytest.raises(ValueError, match="too many"):
            q.task_done()

    asyncio.run(main())


def test_stream_reader_limits_and_incomplete_reads() -> None:
    async def main() -> None:
        reader = asyncio.StreamReader(limit=8)
        reader.feed_data(b"abc")
        reader.feed_eof()
        with pytest.raises(asyncio.IncompleteReadError) as info:
            await reader.readexactly(5)
        assert info.value.partial == b"abc"
        long_line = asyncio.StreamReader(limit=4)
        long_line.feed_data(b"0123456789\n")
        with pytest.raises(asyncio.LimitOverrunError):
            await long_line.readuntil(b"\n")

    asyncio.run(main())


def test_runner_context_manager() -> None:
    async def value() -> int:
        return 7

    with asyncio.Runner() as runner:
        assert runner.run(value()) == 7
        assert runner.get_loop().is_closed() is False
    assert runner.get_loop().is_closed()


def test_no_asyncio_needed() -> None:
    import subprocess

    code = (
        "import sys, tether.aio as asyncio\n"
        "async def main():\n    await asyncio.sleep(0)\n"
        "asyncio.run(main())\nassert 'asyncio' not in sys.modules, 'asyncio imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# -- API surface and error paths the corpus does not reach ------------------------------------


def test_future_error_paths_and_reprs() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        assert repr(fut) == "<Future pending>"
        with pytest.raises(asyncio.InvalidStateError, match="Exception is not set"):
            fut.exception()
        fut.set_exception(KeyError)  # a class is instantiated
        assert isinstance(fut.exception(), KeyError)
        assert "exception=KeyError()" in repr(fut)
        with pytest.raises(asyncio.InvalidStateError):
            fut.set_exception(ValueError())
        assert fut.cancel() is False
        other = loop.create_future()
        with pytest.raises(TypeError, match="StopIteration"):
            other.set_exception(StopIteration())
        other.set_result(3)
        assert repr(other) == "<Future finished result=3>"
        assert other.get_loop() is loop
        with pytest.raises(TypeError, match="coroutine was expected"):
            asyncio.Task(42, loop=loop)  # type: ignore[arg-type]

    asyncio.run(main())


def test_task_accessors_and_forbidden_setters() -> None:
    async def sleeper() -> None:
        await asyncio.sleep(0)

    async def main() -> None:
        coro = sleeper()
        task = asyncio.create_task(coro, name="t")
        assert task.get_coro() is coro
        assert task.get_context() is not None
        assert len(task.get_stack()) == 1
        assert "name='t'" in repr(task)
        with pytest.raises(RuntimeError, match="set_result"):
            task.set_result(None)
        with pytest.raises(RuntimeError, match="set_exception"):
            task.set_exception(ValueError())
        assert task.uncancel() == 0
        await task
        assert task.get_stack() == []

    asyncio.run(main())


def test_cancel_a_task_before_its_first_step() -> None:
    async def main() -> bool:
        task = asyncio.create_task(asyncio.sleep(1))
        task.cancel()
        task.cancel()  # twice: still one CancelledError
        with pytest.raises(asyncio.CancelledError):
            await task
        return task.cancelled()

    assert asyncio.run(main()) is True


def test_keyboard_interrupt_in_a_task_ends_the_run() -> None:
    async def interrupt() -> None:
        raise KeyboardInterrupt

    async def main() -> None:
        await asyncio.create_task(interrupt())

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(main())


def test_tether_cancellation_from_outside_a_task_reaches_it() -> None:
    async def main() -> bool:
        task = asyncio.create_task(asyncio.sleep(10))
        with tether.move_on_after(0.01):
            await task  # the scope's Cancelled cancels what main awaits, as asyncio does
        await asyncio.sleep(0.01)
        return task.cancelled()

    assert asyncio.run(main()) is True


def test_error_delivered_by_the_kernel_reaches_the_coroutine() -> None:
    async def main() -> str:
        send, receive = tether.open_memory_channel[int](0)

        async def sender() -> str:
            try:
                await send.send(1)
            except tether.BrokenResourceError:
                return "broken"
            return "sent"

        task = asyncio.create_task(sender())
        await asyncio.sleep(0.01)
        await receive.aclose()
        result = await task
        await send.aclose()
        return result

    assert asyncio.run(main()) == "broken"


def test_loop_state_errors_and_reprs() -> None:
    import functools

    loop = asyncio.new_event_loop()
    assert "running=False" in repr(loop)
    loop.set_debug(True)
    assert loop.get_debug() is True

    async def inside() -> None:
        coro = asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="already running"):
            loop.run_until_complete(coro)
        with pytest.raises(RuntimeError, match="already running"):
            loop.run_forever()
        with pytest.raises(RuntimeError, match="running event loop"):
            loop.close()
        other = asyncio.new_event_loop()
        with pytest.raises(RuntimeError, match="another loop is running"):
            other.run_until_complete(coro)
        with pytest.raises(RuntimeError, match="cannot be called from a running event loop"):
            asyncio.run(coro)
        runner = asyncio.Runner()
        with pytest.raises(RuntimeError, match=r"Runner\.run"):
            runner.run(coro)
        coro.close()
        handle = loop.call_soon(functools.partial(print, "x"), 1)
        assert repr(handle).startswith("<Handle print('x', 1)")
        assert handle.get_context() is not None
        handle.cancel()
        assert "cancelled" in repr(handle)
        await loop.shutdown_asyncgens()
        assert await loop.run_in_executor(None, int, "5") == 5
        await loop.shutdown_default_executor()
        await loop.shutdown_default_executor()  # nothing left to shut down

    loop.run_until_complete(inside())
    loop.stop()  # stop before run_forever: it returns after one round of callbacks
    loop.run_forever()
    assert loop.run_in_executor(None, int, "1") is not None  # made while not running
    loop.close()
    with pytest.raises(RuntimeError, match="closed"):
        loop.call_soon(print)
    with pytest.raises(ValueError, match="coroutine was expected"):
        asyncio.Runner().run(42)  # type: ignore[arg-type]
    with asyncio.Runner(debug=True) as runner:
        assert runner.get_loop().get_debug() is True


def test_get_event_loop_outside_a_run_makes_one() -> None:
    asyncio.set_event_loop(None)
    first = asyncio.get_event_loop()
    assert asyncio.get_event_loop() is first
    first.close()
    second = asyncio.get_event_loop()
    assert second is not first
    second.close()
    asyncio.set_event_loop(None)


def test_exception_handler_errors_and_interrupts(caplog: pytest.LogCaptureFixture) -> None:
    def bad_handler(loop: asyncio.EventLoop, context: dict[str, object]) -> None:
        raise RuntimeError("handler broke")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(bad_handler)
        loop.call_exception_handler({"message": "m"})
        loop.set_exception_handler(None)
        loop.default_exception_handler({})

    asyncio.run(main())
    assert "Exception in the exception handler" in caplog.text
    assert "Unhandled exception in event loop" in caplog.text

    async def exits() -> None:
        asyncio.get_running_loop().call_soon(sys.exit, 3)
        await asyncio.sleep(1)

    with pytest.raises(SystemExit):
        asyncio.run(exits())


def test_ensure_future_and_wrap_future_edges() -> None:
    import concurrent.futures

    class Awaitable:
        def __await__(self):  # type: ignore[no-untyped-def]
            return asyncio.sleep(0, "awaited").__await__()

    async def main() -> None:
        assert await asyncio.ensure_future(Awaitable()) == "awaited"
        with pytest.raises(TypeError, match="awaitable is required"):
            asyncio.ensure_future(42)  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        assert asyncio.wrap_future(fut) is fut
        source: concurrent.futures.Future[int] = concurrent.futures.Future()
        wrapped = asyncio.wrap_future(source)
        wrapped.cancel()  # cancels the source too
        await asyncio.sleep(0.01)
        assert source.cancelled()
        cancelled_source: concurrent.futures.Future[int] = concurrent.futures.Future()
        follower = asyncio.wrap_future(cancelled_source)
        cancelled_source.cancel()
        with pytest.raises(asyncio.CancelledError):
            await follower
        with pytest.raises(TypeError, match="coroutine object is required"):
            asyncio.run_coroutine_threadsafe(42, loop)  # type: ignore[arg-type]

    asyncio.run(main())


def test_run_coroutine_threadsafe_cancellation() -> None:
    import threading

    async def main() -> tuple[bool, bool]:
        loop = asyncio.get_running_loop()
        results: list[bool] = []

        def in_thread() -> None:
            never = asyncio.run_coroutine_threadsafe(asyncio.sleep(10), loop)
            never.cancel()  # before the loop started it: the coroutine never runs
            running = asyncio.run_coroutine_threadsafe(asyncio.sleep(10), loop)
            results.append(never.cancelled())
            holder.append(running)

        holder: list[object] = []
        thread = threading.Thread(target=in_thread)
        thread.start()
        await asyncio.to_thread(thread.join)
        await asyncio.sleep(0.01)
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()
        await asyncio.sleep(0.01)
        running = holder[0]
        return results[0], running.cancelled()  # type: ignore[attr-defined]

    assert asyncio.run(main()) == (True, True)


def test_signal_handler_needs_a_running_loop_in_the_main_thread() -> None:
    import signal
    import threading

    loop = asyncio.new_event_loop()
    with pytest.raises(RuntimeError, match="running loop"):
        loop.add_signal_handler(signal.SIGUSR1, print)
    assert loop.remove_signal_handler(signal.SIGUSR1) is False
    loop.close()

    async def main() -> str:
        loop = asyncio.get_running_loop()
        errors: list[str] = []

        def in_thread() -> None:
            try:
                loop.add_signal_handler(signal.SIGUSR1, print)
            except RuntimeError as exc:
                errors.append(str(exc))

        thread = threading.Thread(target=in_thread)
        thread.start()
        await asyncio.to_thread(thread.join)
        loop.add_signal_handler(signal.SIGUSR2, print)  # left installed: the run removes it
        return errors[0]

    previous = signal.getsignal(signal.SIGUSR2)
    assert "main thread" in asyncio.run(main())
    assert signal.getsignal(signal.SIGUSR2) == previous


def test_gather_edges() -> None:
    async def fails() -> None:
        await asyncio.sleep(0)
        raise ValueError("x")

    async def main() -> None:
        coro = asyncio.sleep(0.001, "same")
        assert await asyncio.gather(coro, coro) == ["same", "same"]  # one child for both
        done = asyncio.gather(asyncio.sleep(0))
        await done
        assert done.cancel() is False
        finished = asyncio.create_task(asyncio.sleep(0))
        await finished
        assert asyncio.gather(finished).cancel() is False  # nothing left to cancel
        slow = asyncio.gather(asyncio.sleep(1), return_exceptions=True)
        await asyncio.sleep(0)
        assert slow.cancel() is True
        with pytest.raises(asyncio.CancelledError):
            await slow
        victim = asyncio.create_task(asyncio.sleep(1))
        both = asyncio.gather(victim, asyncio.sleep(0.01))
        await asyncio.sleep(0)
        victim.cancel()  # a child cancelled on its own: gather raises CancelledError
        with pytest.raises(asyncio.CancelledError):
            await both
        failing = asyncio.gather(fails(), asyncio.sleep(0.01))
        with pytest.raises(ValueError):
            await failing
        await asyncio.sleep(0.02)  # the other child finishing later is absorbed

    asyncio.run(main())


def test_wait_and_wait_for_edges() -> None:
    async def ignores_cancel() -> str:
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            return "finished anyway"
        return "slept"

    async def main() -> None:
        task = asyncio.create_task(asyncio.sleep(0, "v"))
        with pytest.raises(ValueError, match="Invalid return_when"):
            await asyncio.wait([task], return_when="SOMETIMES")
        await task
        done, pending = await asyncio.wait([task])  # already done: returns at once
        assert done == {task}
        assert not pending
        assert await asyncio.wait_for(task, 0) == "v"  # done and no time: its result
        assert await asyncio.wait_for(ignores_cancel(), 0.01) == "finished anyway"
        inner = asyncio.create_task(asyncio.sleep(1))
        outer = asyncio.create_task(asyncio.wait_for(inner, 10))
        await asyncio.sleep(0.01)
        outer.cancel()  # cancelling the caller cancels what it waits for
        with pytest.raises(asyncio.CancelledError):
            await outer
        assert inner.cancelled()

    asyncio.run(main())


def test_shield_edges() -> None:
    async def fails() -> None:
        await asyncio.sleep(0.01)
        raise KeyError("k")

    async def main() -> None:
        finished = asyncio.create_task(asyncio.sleep(0, 1))
        await finished
        assert asyncio.shield(finished) is finished
        with pytest.raises(KeyError):
            await asyncio.shield(fails())
        inner = asyncio.create_task(asyncio.sleep(1))
        outer = asyncio.shield(inner)
        inner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await outer
        abandoned = asyncio.shield(fails())
        abandoned.cancel()  # the inner error is then nobody's: marked retrieved
        await asyncio.sleep(0.02)

    asyncio.run(main())


def test_timeout_object_edges() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        cm = asyncio.timeout(10)
        async with cm:
            cm.reschedule(loop.time() + 20)  # replaces the pending timer
            cm.reschedule(None)
            await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="already been entered"):
            async with cm:
                pass

        async def past_deadline() -> None:
            async with asyncio.timeout(10) as late:
                late.reschedule(loop.time() - 1)  # in the past: fires at once
                await asyncio.sleep(1)

        with pytest.raises(TimeoutError):
            await past_deadline()
        async with asyncio.timeout(0.01) as caught:
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                pass  # swallowed inside: the block ends normally
        assert caught.expired()

        async def native() -> None:
            with pytest.raises(RuntimeError, match="inside a task"):
                async with asyncio.timeout(1):
                    pass
            with pytest.raises(RuntimeError, match="parent task"):
                async with asyncio.TaskGroup():
                    pass

        async with tether.open_nursery() as nursery:  # a tether task is no aio Task
            nursery.start_soon(native)

    asyncio.run(main())


def test_taskgroup_misuse_and_outside_cancellation() -> None:
    async def main() -> None:
        tg = asyncio.TaskGroup()
        coro = asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="not been entered"):
            tg.create_task(coro)
        async with tg:
            pass
        with pytest.raises(RuntimeError, match="already been entered"):
            async with tg:
                pass
        with pytest.raises(RuntimeError, match="finished"):
            tg.create_task(coro)

        async def failing() -> None:
            raise ValueError("v")

        async def create_while_aborting() -> None:
            async with asyncio.TaskGroup() as aborting:
                aborting.create_task(failing())
                await asyncio.sleep(0.01)
                with pytest.raises(RuntimeError, match="shutting down"):
                    aborting.create_task(coro)

        with pytest.raises(ExceptionGroup):
            await create_while_aborting()
        coro.close()

        async def group_in_task() -> None:
            async with asyncio.TaskGroup() as inner:
                inner.create_task(asyncio.sleep(1))

        task = asyncio.create_task(group_in_task())
        await asyncio.sleep(0.01)
        task.cancel()  # arrives while the group waits in __aexit__
        with pytest.raises(asyncio.CancelledError):
            await task
        body = asyncio.create_task(group_in_body())
        await asyncio.sleep(0.01)
        body.cancel()  # arrives in the body
        with pytest.raises(asyncio.CancelledError):
            await body

    async def group_in_body() -> None:
        async with asyncio.TaskGroup() as inner:
            inner.create_task(asyncio.sleep(1))
            await asyncio.sleep(1)

    asyncio.run(main())


def test_stream_reader_argument_errors_and_state() -> None:
    with pytest.raises(ValueError, match="Limit"):
        asyncio.StreamReader(limit=0)

    async def main() -> None:
        reader = asyncio.StreamReader(limit=4)
        assert "0 bytes" in repr(reader)
        assert await reader.read(0) == b""
        with pytest.raises(ValueError, match="less than zero"):
            await reader.readexactly(-1)
        with pytest.raises(ValueError, match="Separator"):
            await reader.readuntil(b"")
        reader.feed_data(b"abcdefgh;")
        with pytest.raises(asyncio.LimitOverrunError, match="Separator is found"):
            await reader.readuntil(b";")
        reader.feed_data(b"\n")
        with pytest.raises(ValueError):
            await reader.readline()  # too long: the line is dropped
        assert reader.exception() is None
        late = asyncio.create_task(reader.readexactly(3))
        await asyncio.sleep(0)
        reader.feed_data(b"xyz")
        assert await late == b"xyz"
        waiting = asyncio.create_task(reader.read())
        await asyncio.sleep(0)
        reader.set_exception(ConnectionResetError("gone"))
        with pytest.raises(ConnectionResetError):
            await waiting
        with pytest.raises(ConnectionResetError):
            await reader.read(1)
        assert isinstance(reader.exception(), ConnectionResetError)
        error = asyncio.IncompleteReadError(b"ab", 5)
        import pickle

        copy = pickle.loads(pickle.dumps(error))
        assert (copy.partial, copy.expected) == (b"ab", 5)

    asyncio.run(main())


def test_stream_writer_over_memory_streams() -> None:
    from tether.testing import lockstep_stream_pair, memory_stream_pair

    async def main() -> None:
        loop = asyncio.get_running_loop()
        left, right = lockstep_stream_pair()  # unbuffered: a send waits for the receiver
        reader = asyncio.StreamReader(stream=left)
        writer = asyncio.StreamWriter(left, reader, loop, extra={"peername": "memory"})
        assert "StreamWriter" in repr(writer)
        assert writer.get_extra_info("peername") == "memory"
        assert writer.get_extra_info("sockname", "none") == "none"  # no socket underneath
        assert writer.transport.get_extra_info("peername") == "memory"
        assert writer.can_write_eof() is True  # a StapledStream can send EOF
        writer.write(b"x" * 100_000)  # taken at once by the background sender...
        await asyncio.sleep(0.01)
        writer.write(b"x" * 100_000)  # ...so this waits, over the high-water mark
        drained = asyncio.create_task(writer.drain())
        await asyncio.sleep(0.01)
        assert not drained.done()
        received = 0
        while received < 200_000:
            received += len(await right.receive_some())
        await drained
        await right.send_all(b"reply")
        assert await reader.readexactly(5) == b"reply"
        writer.transport.close()
        assert writer.transport.is_closing()
        writer.write(b"dropped")  # after close: ignored, as asyncio does
        await writer.wait_closed()
        await writer.wait_closed()  # already closed: returns at once
        with pytest.raises(NotImplementedError):
            await writer.start_tls()
        await right.aclose()

        # A peer that goes away: the next drain reports it.
        left2, right2 = memory_stream_pair()
        writer2 = asyncio.StreamWriter(left2, None, loop)
        await right2.aclose()
        writer2.write(b"to nobody" * 10_000)
        await asyncio.sleep(0.01)
        with pytest.raises(ConnectionResetError):
            await writer2.drain()
        writer2.transport.abort()

    asyncio.run(main())


def test_stream_reader_pump_pauses_and_reports_broken_streams() -> None:
    from tether.testing import memory_stream_pair

    async def main() -> None:
        left, right = memory_stream_pair()
        reader = asyncio.StreamReader(limit=10, stream=left)
        await right.send_all(b"0123456789" * 5)
        await asyncio.sleep(0.01)
        assert len(reader._buffer) <= 50
        assert await reader.readexactly(50) == b"0123456789" * 5  # resumes as it drains
        await right.send_all(b"more")
        assert await reader.read(4) == b"more"
        await right.aclose()
        assert await reader.read() == b""

    asyncio.run(main())


def test_protocol_transport_over_memory_streams() -> None:
    from tether.testing import memory_stream_pair

    class Recorder(asyncio.Protocol):
        def __init__(self) -> None:
            self.events: list[object] = []

        def data_received(self, data: bytes) -> None:
            self.events.append(data)

        def connection_lost(self, exc: Exception | None) -> None:
            self.events.append(("lost", type(exc).__name__ if exc else None))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        left, right = memory_stream_pair()
        proto = Recorder()
        transport = asyncio.Transport(left, proto, loop)
        assert transport.get_extra_info("peername", "none") == "none"  # no socket
        transport.set_write_buffer_limits(high=10)
        transport.pause_reading()
        await right.send_all(b"held")
        await asyncio.sleep(0.01)
        assert proto.events == []
        transport.resume_reading()
        await asyncio.sleep(0.01)
        assert proto.events == [b"held"]
        transport.writelines([b"a", b"b"])
        assert await right.receive_some() == b"ab"
        transport.write(b"unsent")
        transport.close()  # data still buffered: connection_lost waits for it
        transport.write(b"ignored")
        transport.close()
        assert await right.receive_some() == b"unsent"
        await asyncio.sleep(0.01)
        assert proto.events[-1] == ("lost", None)
        await right.aclose()

        left2, right2 = memory_stream_pair()
        proto2 = Recorder()
        transport2 = asyncio.Transport(left2, proto2, loop)
        transport2.write_eof()
        with pytest.raises(RuntimeError, match="write_eof"):
            transport2.write(b"late")
        await right2.send_all(b"arrives as we close")
        transport2.close()
        await asyncio.sleep(0.01)
        assert b"arrives as we close" not in proto2.events  # closing: not delivered
        await right2.aclose()

    asyncio.run(main())


def test_protocol_transport_sees_a_broken_stream() -> None:
    class BrokenStream:
        async def receive_some(self, max_bytes: int | None = None) -> bytes:
            await tether.checkpoint()
            raise tether.BrokenResourceError("peer vanished")

        async def send_all(self, data: bytes) -> None:
            await tether.checkpoint()

        async def aclose(self) -> None:
            await tether.checkpoint()

    class Lost(asyncio.Protocol):
        def __init__(self, fut: asyncio.Future[object]) -> None:
            self.fut = fut

        def connection_lost(self, exc: Exception | None) -> None:
            self.fut.set_result(exc)

    async def main() -> object:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[object] = loop.create_future()
        asyncio.Transport(BrokenStream(), Lost(fut), loop)
        return await fut

    assert isinstance(asyncio.run(main()), ConnectionResetError)


def test_datagram_transport_edges() -> None:
    class Errors(asyncio.DatagramProtocol):
        def __init__(self, fut: asyncio.Future[Exception]) -> None:
            self.fut = fut

        def error_received(self, exc: Exception) -> None:
            if not self.fut.done():
                self.fut.set_result(exc)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        with pytest.raises(OSError):
            await loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, local_addr=("256.0.0.1", 0)
            )
        # A connected UDP socket towards a closed port: the refusal comes back as an error.
        import socket

        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
        probe.close()
        fut: asyncio.Future[Exception] = loop.create_future()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: Errors(fut), remote_addr=("127.0.0.1", closed_port), family=socket.AF_INET
        )
        assert transport.get_extra_info("peername") == ("127.0.0.1", closed_port)
        assert transport.get_extra_info("nothing", 1) == 1
        assert transport.get_extra_info("socket") is not None
        for _ in range(3):
            transport.sendto(b"anyone?")
            await asyncio.sleep(0.01)
        assert isinstance(await asyncio.wait_for(fut, 5), ConnectionRefusedError)
        transport.abort()
        assert transport.is_closing()
        transport.sendto(b"after close")  # ignored
        await asyncio.sleep(0.01)
        with pytest.raises(ValueError, match="host and port"):
            await loop.create_connection(asyncio.Protocol)

    asyncio.run(main())


def test_server_and_process_surface() -> None:
    import signal

    async def main() -> None:
        with pytest.raises(ValueError, match="host and port"):
            await asyncio.open_connection("127.0.0.1")
        with pytest.raises(ValueError, match="path is required"):
            await asyncio.start_unix_server(lambda r, w: None)
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        assert "Server sockets=" in repr(server)
        assert server.get_loop() is asyncio.get_running_loop()
        await server.start_serving()
        async with server:
            pass
        await server.wait_closed()  # closed already: returns at once
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import time; time.sleep(10)"
        )
        assert proc.pid > 0
        assert str(proc.pid) in repr(proc)
        proc.send_signal(signal.SIGTERM)
        assert await proc.wait() == -signal.SIGTERM
        with pytest.raises(ValueError, match="not supported"):
            await asyncio.create_subprocess_exec(sys.executable, "-c", "", universal_newlines=True)

    asyncio.run(main())


def test_sync_primitive_reprs_and_misuse() -> None:
    async def main() -> None:
        lock = asyncio.Lock()
        assert "unlocked" in repr(lock)
        event = asyncio.Event()
        assert "unset" in repr(event)
        sem = asyncio.Semaphore(2)
        assert "value:2" in repr(sem)
        cond = asyncio.Condition()
        assert cond.locked() is False
        with pytest.raises(RuntimeError, match="un-acquired"):
            await cond.wait()
        with pytest.raises(ValueError, match="parties"):
            asyncio.Barrier(0)
        queue: asyncio.Queue[int] = asyncio.Queue(1)
        assert "maxsize=1" in repr(queue)
        barrier = asyncio.Barrier(1)
        async with barrier as index:
            assert index == 0

    asyncio.run(main())


def test_demo_aio_runs_a_ported_snippet(capsys: pytest.CaptureFixture[str]) -> None:
    from tether._demo_aio import demo_aio

    demo_aio()
    out = capsys.readouterr().out
    assert "[1, 4, 9, 16, 25, 36]" in out
    assert "wait_for timed out" in out
    assert "['Task-" in out
