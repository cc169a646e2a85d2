"""The networking examples run as their users run them: examples/echo_server.py with
examples/echo_client.py, and examples/chat_server.py with plain sockets standing in for
``nc``. Servers start with ``--port 0`` and print where they listen; they are stopped
with SIGINT (Ctrl+C) and must exit cleanly. Reads use blocking sockets with a timeout
as a safety net only: every read waits for a line the server must send."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from _stream_helpers import no_leaked_fds  # noqa: F401  (a fixture, used through pytestmark)

pytestmark = pytest.mark.usefixtures("no_leaked_fds")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SAFETY = 30.0  # seconds


def start_server(name: str) -> tuple[subprocess.Popen[str], int]:
    server = subprocess.Popen(
        [sys.executable, str(EXAMPLES / name), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    first = server.stdout.readline()
    if "listening on 127.0.0.1:" not in first:
        server.kill()
        server.communicate()
        pytest.fail(f"{name} did not start: {first!r}")
    return server, int(first.rsplit(":", 1)[1])


def stop_server(server: subprocess.Popen[str]) -> str:
    """Ctrl+C the server; return the rest of its output. It must exit with status 0."""
    server.send_signal(signal.SIGINT)
    try:
        out, _ = server.communicate(timeout=SAFETY)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate()
        raise
    assert server.returncode == 0, out
    return out


def test_echo_server_and_client() -> None:
    server, port = start_server("echo_server.py")
    try:
        client = subprocess.run(
            [sys.executable, str(EXAMPLES / "echo_client.py"), "--port", str(port), "a", "bc"],
            capture_output=True,
            text=True,
            timeout=SAFETY,
        )
        assert client.returncode == 0, client.stderr
        assert "sending b'a'" in client.stdout
        assert "the server closed the connection" in client.stdout
        assert client.stdout.rstrip().endswith("all 3 bytes came back")
        # The default messages.
        client = subprocess.run(
            [sys.executable, str(EXAMPLES / "echo_client.py"), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=SAFETY,
        )
        assert client.stdout.rstrip().endswith("all 14 bytes came back")
    finally:
        out = stop_server(server)
    assert "echo 1: connected" in out
    assert "echo 1: the client is done; closing" in out
    assert "echo 2: connected" in out
    assert out.rstrip().endswith("echo server stopped")


class LineClient:
    """A blocking client, like nc: send text, read lines."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=SAFETY)
        self.file = self.sock.makefile("rb")

    def send(self, text: bytes) -> None:
        self.sock.sendall(text)

    def line(self) -> str:
        return self.file.readline().decode().rstrip("\n")

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def test_chat_server() -> None:
    server, port = start_server("chat_server.py")
    clients: list[LineClient] = []
    try:
        alice = LineClient(port)
        clients.append(alice)
        assert alice.line() == "*** welcome, guest1! /nick NAME, /who, /quit"
        bob = LineClient(port)
        clients.append(bob)
        assert bob.line() == "*** welcome, guest2! /nick NAME, /who, /quit"
        assert alice.line() == "*** guest2 joined"

        alice.send(b"/nick alice\nhello bob\n")
        assert bob.line() == "*** guest1 is now alice"
        assert bob.line() == "<alice> hello bob"
        assert alice.line() == "*** guest1 is now alice"  # one's own line is not echoed

        bob.send(b"hi alice, bye alice\n/who\n/quit\n")
        assert alice.line() == "<guest2> hi alice, bye alice"
        assert bob.line() == "*** here: alice, guest2"
        assert bob.line() == "*** bye"
        assert bob.line() == ""  # end of stream: the server hung up
        assert alice.line() == "*** guest2 left"

        alice.send(b"x" * 5000 + b"\n")
        assert alice.line() == "*** lines are limited to 1024 bytes; bye"
        assert alice.line() == ""
    finally:
        for client in clients:
            client.close()
        out = stop_server(server)
    assert "<alice> hello bob" in out
    assert "*** alice left" in out
    assert out.rstrip().endswith("chat server stopped")
