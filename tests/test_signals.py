"""open_signal_receiver: signals as an async iterator."""

import os
import signal
import threading

import pytest

import tether
from tether.testing import wait_all_tasks_blocked


async def test_signals_are_delivered_to_the_receiver() -> None:
    with tether.open_signal_receiver(signal.SIGUSR1) as receiver:
        os.kill(os.getpid(), signal.SIGUSR1)
        async for signum in receiver:
            assert signum == signal.SIGUSR1
            break


async def test_repeats_coalesce_while_the_consumer_is_busy() -> None:
    received: list[int] = []
    with tether.open_signal_receiver(signal.SIGUSR1, signal.SIGUSR2) as receiver:
        os.kill(os.getpid(), signal.SIGUSR1)
        os.kill(os.getpid(), signal.SIGUSR1)
        os.kill(os.getpid(), signal.SIGUSR2)
        await wait_all_tasks_blocked()  # let the deliveries arrive
        async with tether.open_nursery() as nursery:

            async def drain() -> None:
                async for signum in receiver:
                    received.append(signum)  # noqa: PERF401  # one by one: we get cancelled

            nursery.start_soon(drain)
            await wait_all_tasks_blocked()
            nursery.cancel_scope.cancel()
    assert received == [signal.SIGUSR1, signal.SIGUSR2]


async def test_previous_handlers_are_restored() -> None:
    def mine(signum: int, frame: object) -> None:
        pass

    previous = signal.signal(signal.SIGUSR1, mine)
    try:
        with tether.open_signal_receiver(signal.SIGUSR1):
            assert signal.getsignal(signal.SIGUSR1) is not mine
        assert signal.getsignal(signal.SIGUSR1) is mine
    finally:
        signal.signal(signal.SIGUSR1, previous)


async def test_pending_signals_are_redelivered_on_exit() -> None:
    seen: list[int] = []

    def mine(signum: int, frame: object) -> None:
        seen.append(signum)

    previous = signal.signal(signal.SIGUSR2, mine)
    try:
        with tether.open_signal_receiver(signal.SIGUSR2):
            os.kill(os.getpid(), signal.SIGUSR2)
            await wait_all_tasks_blocked()  # received, not consumed
        assert seen == [signal.SIGUSR2]
    finally:
        signal.signal(signal.SIGUSR2, previous)


async def test_bad_uses() -> None:
    with pytest.raises(TypeError), tether.open_signal_receiver():
        pass
    errors: list[BaseException] = []

    def in_thread() -> None:
        async def main() -> None:
            with tether.open_signal_receiver(signal.SIGUSR1):
                pass

        try:
            tether.run(main)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    assert isinstance(errors[0], RuntimeError)
    assert "main thread" in str(errors[0])


async def test_two_iterating_tasks_is_an_error() -> None:
    with tether.open_signal_receiver(signal.SIGUSR1) as receiver:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(receiver.__anext__)
            await wait_all_tasks_blocked()
            with pytest.raises(RuntimeError, match="already iterating"):
                await receiver.__anext__()
            nursery.cancel_scope.cancel()
    with pytest.raises(RuntimeError, match="has ended"):
        await receiver.__anext__()
