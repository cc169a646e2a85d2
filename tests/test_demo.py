"""python -m tether.demo tours the tower and exits by itself."""

import subprocess
import sys

import pytest

from tether import demo


def test_demo_tours_every_tier(capsys: pytest.CaptureFixture[str]) -> None:
    demo.run_demo()
    out = capsys.readouterr().out
    for expected in (
        "a nursery of tasks",
        "cancelled_caught=True",
        "fail_after(0.02) raised TooSlowError",
        "caught with except*: ['something went wrong']",
        "start_task(square, 3) -> 9",
        "gather -> [0, 1, 4, 9]",
        "the client still gets: finished my request",
        "hard-cancelled: False",
        "producer/consumer",
        "THREAD ANSWERED 7",
        "the thread at the end received ['ALPHA', 'BETA', 'GAMMA']",
        "echoed: second line",
        "7837 primes below 80,000, counted in 4 chunks",
        "TLS: sent b'hello over tls', echoed b'HELLO OVER TLS'",
        "3 workers squared a queue of 6 numbers: [1, 4, 9, 16, 25, 36]",
        "child said: running processes!",
        "received SIGUSR1 through open_signal_receiver",
        "file: written and read back in worker threads",
        "done.",
    ):
        assert expected in out


def test_demo_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tether.demo"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("done.")
