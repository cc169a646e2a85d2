"""A line-based chat server: every line a client types goes to everyone else.

Run ``python examples/chat_server.py`` (port 12346 on 127.0.0.1; ``--port 0`` picks a
free port, and the first line printed says which). Then, in two or more other terminals::

    nc 127.0.0.1 12346

and type. Commands: ``/nick NAME`` to rename yourself, ``/who`` to list who is here,
``/quit`` to leave. Stop the server with Ctrl+C.

How it is built:

* ``serve_tcp`` runs ``handle_client`` in its own task for each connection;
* a ``BufferedReceiveStream`` turns the bytes a client sends into lines, with a length
  limit, so nobody can make the server buffer without bound;
* each client has a memory channel, its *outbox*. Whoever wants to talk to the client
  puts a message in the outbox; one writer task per client takes messages out and sends
  them. So one slow client never holds up the others: its outbox fills, and messages
  for it are dropped (with a note once it catches up) instead of everyone waiting.
"""

from __future__ import annotations

import argparse
import functools
import itertools

import tether

MAX_LINE = 1024  # bytes, newline included
OUTBOX_SIZE = 64  # messages waiting for one client before we drop some


class Client:
    def __init__(self, name: str, outbox: tether.MemorySendChannel[bytes]) -> None:
        self.name = name
        self.outbox = outbox
        self.dropped = 0

    def tell(self, text: str) -> None:
        """Queue a line for this client, without waiting."""
        try:
            if self.dropped:
                self.outbox.send_nowait(f"*** {self.dropped} messages dropped\n".encode())
                self.dropped = 0
            self.outbox.send_nowait(text.encode() + b"\n")
        except tether.WouldBlock:
            self.dropped += 1  # too slow to keep up
        except (tether.ClosedResourceError, tether.BrokenResourceError):
            pass  # just leaving


class Room:
    def __init__(self) -> None:
        self.clients: list[Client] = []

    def broadcast(self, text: str, *, sender: Client | None = None) -> None:
        print(text)
        for client in self.clients:
            if client is not sender:
                client.tell(text)

    def names(self) -> list[str]:
        return [client.name for client in self.clients]


room = Room()
guest_numbers = itertools.count(1)


async def writer(stream: tether.SocketStream, outbox: tether.MemoryReceiveChannel[bytes]) -> None:
    """Send everything put in the client's outbox, until the outbox is closed."""
    async with outbox:
        async for message in outbox:
            await stream.send_all(message)


async def chat(client: Client, stream: tether.SocketStream) -> None:
    """Read the client's lines and act on them, until it leaves."""
    lines = tether.BufferedReceiveStream(stream).lines(max_line_length=MAX_LINE)
    async for raw in lines:
        line = raw.decode("utf-8", errors="replace").strip()
        if not line:
            continue
        if line == "/quit":
            client.tell("*** bye")
            return
        if line == "/who":
            client.tell("*** here: " + ", ".join(room.names()))
        elif line.startswith("/nick "):
            new_name = line.removeprefix("/nick ").strip()[:32] or client.name
            room.broadcast(f"*** {client.name} is now {new_name}")
            client.name = new_name
        else:
            room.broadcast(f"<{client.name}> {line}", sender=client)


async def handle_client(stream: tether.SocketStream) -> None:
    outbox, outgoing = tether.open_memory_channel[bytes](OUTBOX_SIZE)
    client = Client(f"guest{next(guest_numbers)}", outbox)
    try:
        async with tether.open_nursery() as nursery:
            nursery.start_soon(writer, stream, outgoing)
            client.tell(f"*** welcome, {client.name}! /nick NAME, /who, /quit")
            room.broadcast(f"*** {client.name} joined", sender=client)
            room.clients.append(client)
            try:
                await chat(client, stream)
            except tether.DelimiterTooFarError:
                client.tell(f"*** lines are limited to {MAX_LINE} bytes; bye")
            finally:
                room.clients.remove(client)
                # Closing the outbox lets the writer send what is queued, then finish.
                await outbox.aclose()
            room.broadcast(f"*** {client.name} left")
    except* tether.BrokenResourceError:
        # The connection broke (the client vanished). Its problem, not the server's:
        # an exception that escapes a handler stops the whole server.
        room.broadcast(f"*** {client.name} lost their connection")
        if client in room.clients:
            room.clients.remove(client)


async def main(host: str, port: int) -> None:
    async with tether.open_nursery() as nursery:
        serve = functools.partial(tether.serve_tcp, handle_client, port, host=host)
        listeners = await nursery.start(serve)
        actual_port = listeners[0].socket.getsockname()[1]
        print(f"chat server listening on {host}:{actual_port}", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=12346, help="0 picks a free port")
    return parser.parse_args()


if __name__ == "__main__":
    args = parse_args()
    try:
        tether.run(main, args.host, args.port)
    except* KeyboardInterrupt:  # Ctrl+C (it may come wrapped in an ExceptionGroup)
        print("chat server stopped")
