"""tether.run: entering the kernel, what it returns, and how it rejects misuse."""

import functools
import math
import threading

import pytest

import tether
from tether.abc import Clock
from tether.lowlevel import current_clock, current_root_task, current_task
from tether.testing import MockClock


def test_run_returns_the_value_of_the_async_function():
    async def add(a, b):
        await tether.checkpoint()
        return a + b

    assert tether.run(add, 2, 3) == 5


def test_run_takes_keyword_arguments_through_functools_partial():
    async def greet(*, name):
        return f"hello {name}"

    assert tether.run(functools.partial(greet, name="tether")) == "hello tether"


def test_exception_from_the_main_function_propagates_unchanged():
    class Boom(Exception):
        pass

    async def main():
        await tether.checkpoint()
        raise Boom("main failed")

    with pytest.raises(Boom, match="main failed"):
        tether.run(main)


def test_run_rejects_a_coroutine_object():
    async def main():
        return 1

    coro = main()
    try:
        with pytest.raises(TypeError, match="coroutine") as excinfo:
            tether.run(coro)
    finally:
        coro.close()  # no-op if tether already closed it; avoids "never awaited"
    assert "async function" in str(excinfo.value)


def test_run_rejects_a_synchronous_function():
    def not_async():
        return None

    with pytest.raises(TypeError, match="async") as excinfo:
        tether.run(not_async)
    assert "not_async" in str(excinfo.value)


def test_run_rejects_a_function_that_returns_a_non_coroutine():
    class Awaitable:
        def __await__(self):
            yield from ()

    def returns_awaitable():
        return Awaitable()

    def returns_number():
        return 42

    with pytest.raises(TypeError) as excinfo:
        tether.run(returns_awaitable)
    assert "returns_awaitable" in str(excinfo.value)

    with pytest.raises(TypeError) as excinfo:
        tether.run(returns_number)
    assert "returns_number" in str(excinfo.value)


def test_run_rejects_an_async_generator_function():
    async def agen():
        yield 1

    with pytest.raises(TypeError, match="generator"):
        tether.run(agen)


def test_nested_run_is_a_runtime_error():
    async def inner():
        return "inner"

    async def main():
        with pytest.raises(RuntimeError):
            tether.run(inner)
        return "outer survived"

    assert tether.run(main) == "outer survived"


def test_kernel_functions_need_a_running_kernel():
    with pytest.raises(RuntimeError):
        tether.current_time()
    with pytest.raises(RuntimeError):
        current_task()
    with pytest.raises(RuntimeError):
        tether.current_effective_deadline()


def test_run_can_be_called_again_after_a_failed_run():
    async def fail():
        raise ValueError("first run")

    async def succeed():
        await tether.sleep(0)
        return "second run"

    with pytest.raises(ValueError, match="first run"):
        tether.run(fail)
    assert tether.run(succeed) == "second run"


def test_each_run_has_its_own_task_tree():
    async def root_and_main():
        return current_root_task(), current_task()

    first_root, first_main = tether.run(root_and_main)
    second_root, second_main = tether.run(root_and_main)
    assert first_root is not second_root
    assert first_main is not second_main


def test_run_uses_the_clock_it_is_given():
    clock = MockClock()

    async def main():
        assert current_clock() is clock
        before = tether.current_time()
        clock.jump(42)
        return tether.current_time() - before

    assert tether.run(main, clock=clock) == pytest.approx(42)


def test_run_accepts_any_clock_implementing_the_abc():
    class SkippingClock(Clock):
        """Starts at 100 and skips straight to whatever deadline the run waits for."""

        def __init__(self):
            self.now = 100.0
            self.starts = 0

        def start_clock(self):
            self.starts += 1

        def current_time(self):
            return self.now

        def deadline_to_sleep_time(self, deadline):
            if math.isinf(deadline):
                return 3600.0
            self.now = max(self.now, deadline)
            return 0.0

    async def main():
        assert tether.current_time() == 100
        await tether.sleep(5)
        return tether.current_time()

    clock = SkippingClock()
    assert tether.run(main, clock=clock) == 105
    assert clock.starts == 1


def test_run_works_outside_the_main_thread():
    results = []

    async def main():
        await tether.sleep(0)
        return threading.get_ident()

    thread = threading.Thread(target=lambda: results.append(tether.run(main)))
    thread.start()
    thread.join()
    assert results == [thread.ident]


def test_checkpoint_lets_other_tasks_run():
    order = []

    async def worker(name):
        for step in range(3):
            order.append((name, step))
            await tether.checkpoint()

    async def main():
        async with tether.open_nursery() as nursery:
            nursery.start_soon(worker, "a")
            nursery.start_soon(worker, "b")

    tether.run(main)
    # Both workers took their first step before either took its second.
    assert {name for name, _ in order[:2]} == {"a", "b"}
    assert sorted(order) == [(name, step) for name in "ab" for step in range(3)]
