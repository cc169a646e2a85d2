"""A TCP echo server: everything a client sends comes straight back.

Run it with ``python examples/echo_server.py`` (port 12345 on 127.0.0.1), or
``--port 0`` to let the system pick a free port; the first line printed says where it
listens. Stop it with Ctrl+C. Talk to it with examples/echo_client.py or
``nc 127.0.0.1 12345``. docs/tutorial-echo.md walks through the code.
"""

from __future__ import annotations

import argparse
import functools
import itertools

import tether

connection_ids = itertools.count(1)


async def echo(stream: tether.SocketStream) -> None:
    """Handle one client: send back what it sends, until it stops sending."""
    ident = next(connection_ids)
    print(f"echo {ident}: connected")
    try:
        async for data in stream:  # chunks of bytes, until the client's end of stream
            print(f"echo {ident}: received {data!r}")
            await stream.send_all(data)
        print(f"echo {ident}: the client is done; closing")
    except tether.BrokenResourceError as exc:
        # The client vanished (connection reset). That is its problem, not the server's:
        # an exception escaping a handler would stop the whole server.
        print(f"echo {ident}: connection lost: {exc}")


async def main(host: str, port: int) -> None:
    async with tether.open_nursery() as nursery:
        # start() returns once serve_tcp is listening; it gives back the listeners.
        listeners = await nursery.start(functools.partial(tether.serve_tcp, echo, port, host=host))
        actual_port = listeners[0].socket.getsockname()[1]
        print(f"echo server listening on {host}:{actual_port}", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=12345, help="0 picks a free port")
    return parser.parse_args()


if __name__ == "__main__":
    args = parse_args()
    try:
        tether.run(main, args.host, args.port)
    except* KeyboardInterrupt:  # Ctrl+C (it may come wrapped in an ExceptionGroup)
        print("echo server stopped")
