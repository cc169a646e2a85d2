"""A client for the echo server: send some messages, print what comes back.

Start examples/echo_server.py first, then run
``python examples/echo_client.py [--port 12345] [message ...]``. The sending and the
receiving run as two tasks at the same time, so a large message cannot deadlock the
client (the server's replies are read while we are still sending). It checks that every
byte came back and exits with status 1 if not. docs/tutorial-echo.md walks through it.
"""

from __future__ import annotations

import argparse
import sys

import tether


async def sender(stream: tether.SocketStream, messages: list[bytes]) -> None:
    for message in messages:
        print(f"sending {message!r}")
        await stream.send_all(message)
        await tether.sleep(0.1)  # only so that the output is easy to follow
    # Half-close: "nothing more from me". We can still receive; the server sees the end
    # of its input, finishes, and closes, which ends the receiver's loop.
    await stream.send_eof()


async def receiver(stream: tether.SocketStream, received: bytearray) -> None:
    async for data in stream:
        print(f"received {data!r}")
        received += data
    print("the server closed the connection")


async def main(host: str, port: int, messages: list[bytes]) -> bool:
    received = bytearray()
    async with await tether.open_tcp_stream(host, port) as stream:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(sender, stream, messages)
            nursery.start_soon(receiver, stream, received)
    expected = b"".join(messages)
    if received == expected:
        print(f"all {len(expected)} bytes came back")
        return True
    print(f"MISMATCH: sent {len(expected)} bytes, got back {len(received)}")
    return False


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12345)
    parser.add_argument("messages", nargs="*", default=["hello", "echo", "world"])
    return parser.parse_args()


if __name__ == "__main__":
    args = parse_args()
    ok = tether.run(main, args.host, args.port, [m.encode() for m in args.messages])
    sys.exit(0 if ok else 1)
