"""The echo load generator in Python, for machines without a C compiler.

``python -m bench.echo_client PORT CONNECTIONS MESSAGE_SIZE SECONDS`` behaves like
``echo_client.c`` (same arguments, same JSON on stdout, pinned to the last CPU): each
connection sends a message, waits for all of it to come back, and repeats. It is a
multi-connection ``selectors`` loop, so with many connections it can become the
bottleneck; the harness says so when it falls back to it.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import sys
import time

WARM_UP = 0.3


class _Connection:
    __slots__ = ("received", "sent", "sock", "writing")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sent = 0
        self.received = 0
        self.writing = False  # registered for EVENT_WRITE too


def run(port: int, connections: int, size: int, seconds: float) -> dict[str, float]:
    cpus = os.cpu_count() or 1
    if cpus > 1 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpus - 1})
    message = b"x" * size
    selector = selectors.DefaultSelector()
    conns: list[_Connection] = []
    for _ in range(connections):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        conn = _Connection(sock)
        conns.append(conn)
        selector.register(sock, selectors.EVENT_READ, conn)

    def send_some(conn: _Connection) -> None:
        try:
            conn.sent += conn.sock.send(message[conn.sent :] if conn.sent else message)
        except BlockingIOError:
            pass
        writing = conn.sent < size
        if writing != conn.writing:  # change the registration only when it must change
            conn.writing = writing
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if writing else 0)
            selector.modify(conn.sock, events, conn)

    for conn in conns:
        send_some(conn)
    round_trips = 0
    measure_from = time.monotonic() + WARM_UP
    end = measure_from + seconds
    measuring = False
    while True:
        now = time.monotonic()
        if not measuring and now >= measure_from:
            measuring = True
            round_trips = 0
        if now >= end:
            break
        for key, events in selector.select(0.1):
            conn = key.data
            if events & selectors.EVENT_WRITE and conn.sent < size:
                send_some(conn)
            if events & selectors.EVENT_READ:
                while True:
                    try:
                        chunk = conn.sock.recv(65536)
                    except BlockingIOError:
                        break
                    if not chunk:
                        raise SystemExit("server closed a connection")
                    conn.received += len(chunk)
                if conn.received >= size and conn.sent == size:
                    conn.received -= size
                    conn.sent = 0
                    round_trips += 1
                    send_some(conn)
    elapsed = time.monotonic() - measure_from
    for conn in conns:
        conn.sock.close()
    selector.close()
    return {"round_trips": round_trips, "bytes": round_trips * size, "seconds": elapsed}


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print("usage: python -m bench.echo_client PORT CONNECTIONS MESSAGE_SIZE SECONDS")
        return 2
    port, connections, size, seconds = int(argv[0]), int(argv[1]), int(argv[2]), float(argv[3])
    print(json.dumps(run(port, connections, size, seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
