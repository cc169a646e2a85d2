"""Control-C: how SIGINT becomes KeyboardInterrupt, and KI protection.

Tests that raise SIGINT call ``tether.run`` through ``_helpers.run_captured``, so that
whatever comes out -- KeyboardInterrupt included -- is a value to assert on and never
reaches pytest (which would abort the whole session). Each waiting test has a generous real-time
``move_on_after`` as a safety net: it only fires if the kernel fails to deliver the
interrupt, turning a hang into a failure.
"""

import os
import signal
import threading

import outcome
import pytest

import tether
from _helpers import run_captured
from tether.lowlevel import (
    currently_ki_protected,
    disable_ki_protection,
    enable_ki_protection,
)

SAFETY_NET = 10  # seconds of real time; never reached when the kernel works


def assert_keyboard_interrupt(result: outcome.Outcome) -> None:
    assert isinstance(result, outcome.Error), f"expected KeyboardInterrupt, got {result!r}"
    assert isinstance(result.error, KeyboardInterrupt), repr(result.error)


def test_sigint_in_unprotected_code_raises_immediately():
    async def main():
        assert not currently_ki_protected()
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        await tether.checkpoint()
        return "kept running"

    assert run_captured(main) == outcome.Value("kept running")


def test_sigint_in_protected_code_is_delivered_at_the_next_checkpoint():
    events = []

    @enable_ki_protection
    async def main():
        signal.raise_signal(signal.SIGINT)
        events.append("protected code kept running")
        with pytest.raises(KeyboardInterrupt), tether.move_on_after(SAFETY_NET):
            await tether.sleep_forever()
        events.append("KeyboardInterrupt delivered at the checkpoint")
        await tether.checkpoint()  # delivered once only
        return events

    assert run_captured(main) == outcome.Value(
        ["protected code kept running", "KeyboardInterrupt delivered at the checkpoint"]
    )


def test_sigint_in_a_protected_child_is_delivered_to_the_main_task():
    @enable_ki_protection
    async def child():
        signal.raise_signal(signal.SIGINT)

    async def main():
        async with tether.open_nursery() as nursery:
            nursery.start_soon(child)
            with pytest.raises(KeyboardInterrupt), tether.move_on_after(SAFETY_NET):
                await tether.sleep_forever()
        return "main task got it"

    assert run_captured(main) == outcome.Value("main task got it")


def test_sigint_in_an_unprotected_child_is_raised_in_that_child():
    async def child():
        signal.raise_signal(signal.SIGINT)

    async def main():
        async with tether.open_nursery() as nursery:
            nursery.start_soon(child)
            await tether.sleep_forever()

    result = run_captured(main)
    assert isinstance(result, outcome.Error)
    assert isinstance(result.error, BaseExceptionGroup), repr(result.error)
    assert result.error.subgroup(KeyboardInterrupt) is not None


def test_sigint_while_the_run_loop_is_idle():
    main_is_about_to_sleep = threading.Event()

    def interrupt():
        main_is_about_to_sleep.wait()
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=interrupt)

    async def main():
        thread.start()
        main_is_about_to_sleep.set()
        # Every task is blocked here, so the signal arrives while the loop waits for I/O
        # (or, if it is very quick, just before; KeyboardInterrupt either way).
        with tether.move_on_after(SAFETY_NET):
            await tether.sleep_forever()

    try:
        result = run_captured(main)
    finally:
        thread.join()
    assert_keyboard_interrupt(result)


def test_run_restores_the_default_sigint_handler():
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    async def main():
        await tether.checkpoint()

    tether.run(main)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_custom_sigint_handler_is_left_alone():
    received = []

    def handler(signum, frame):
        received.append(signum)

    async def main():
        signal.raise_signal(signal.SIGINT)
        await tether.checkpoint()
        return signal.getsignal(signal.SIGINT)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        result = run_captured(main)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert result == outcome.Value(handler)
    assert received == [signal.SIGINT]


# --- protection decorators ----------------------------------------------------------------


async def test_user_tasks_are_unprotected_by_default():
    assert not currently_ki_protected()


async def test_enable_ki_protection_on_an_async_function():
    @enable_ki_protection
    async def protected():
        await tether.checkpoint()
        return currently_ki_protected()

    assert await protected()
    assert not currently_ki_protected()


async def test_enable_ki_protection_on_a_sync_function_and_its_callees():
    def callee():
        return currently_ki_protected()

    @enable_ki_protection
    def protected():
        return currently_ki_protected(), callee()

    assert protected() == (True, True)
    assert callee() is False


async def test_enable_ki_protection_on_generators():
    @enable_ki_protection
    def gen():
        yield currently_ki_protected()

    @enable_ki_protection
    async def agen():
        yield currently_ki_protected()

    assert list(gen()) == [True]
    assert [value async for value in agen()] == [True]


async def test_disable_ki_protection_inside_protected_code():
    @disable_ki_protection
    def unprotected():
        return currently_ki_protected()

    @enable_ki_protection
    async def protected():
        return currently_ki_protected(), unprotected()

    assert await protected() == (True, False)


def test_protection_decorators_keep_the_function_metadata():
    @enable_ki_protection
    async def documented():
        """Docstring."""

    @disable_ki_protection
    def other():
        """Other docstring."""

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Docstring."
    assert other.__name__ == "other"


def test_protected_main_task_returns_normally_without_a_signal():
    @enable_ki_protection
    async def main():
        await tether.sleep(0)
        return currently_ki_protected()

    assert tether.run(main) is True
