"""Tier 9: TLS over TCP in one call: connect, listen, serve."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable

from .._core import TASK_STATUS_IGNORED, Nursery, TaskStatus
from ._serve import serve_listeners
from ._socket_stream import SocketStream
from ._ssl import SSLStream
from ._ssl_listener import SSLListener
from ._tcp import open_tcp_listeners, open_tcp_stream
from ._util import aclose_forcefully

__all__ = ["open_ssl_over_tcp_listeners", "open_ssl_over_tcp_stream", "serve_ssl_over_tcp"]


async def open_ssl_over_tcp_stream(
    host: str | bytes,
    port: int,
    *,
    https_compatible: bool = False,
    ssl_context: ssl.SSLContext | None = None,
    happy_eyeballs_delay: float | None = 0.25,
) -> SSLStream[SocketStream]:
    """Connect to ``host``:``port`` with :func:`open_tcp_stream` and wrap the connection
    in a client-side :class:`SSLStream` whose ``server_hostname`` is ``host``.

    ``ssl_context`` defaults to ``ssl.create_default_context()``: the system's trusted
    CAs, certificate and hostname verification on. The handshake is not done yet: it
    happens on first use, or call :meth:`SSLStream.do_handshake`.
    """
    tcp_stream = await open_tcp_stream(host, port, happy_eyeballs_delay=happy_eyeballs_delay)
    try:
        if ssl_context is None:
            ssl_context = ssl.create_default_context()
        return SSLStream(
            tcp_stream,
            ssl_context,
            server_hostname=host,
            https_compatible=https_compatible,
        )
    except BaseException:
        await aclose_forcefully(tcp_stream)
        raise


async def open_ssl_over_tcp_listeners(
    port: int,
    ssl_context: ssl.SSLContext,
    *,
    host: str | bytes | None = None,
    https_compatible: bool = False,
    backlog: int | None = None,
) -> list[SSLListener[SocketStream]]:
    """:func:`open_tcp_listeners`, each listener wrapped in an :class:`SSLListener`."""
    tcp_listeners = await open_tcp_listeners(port, host=host, backlog=backlog)
    return [
        SSLListener(listener, ssl_context, https_compatible=https_compatible)
        for listener in tcp_listeners
    ]


async def serve_ssl_over_tcp(
    handler: Callable[[SSLStream[SocketStream]], Awaitable[object]],
    port: int,
    ssl_context: ssl.SSLContext,
    *,
    host: str | bytes | None = None,
    https_compatible: bool = False,
    backlog: int | None = None,
    handler_nursery: Nursery | None = None,
    task_status: TaskStatus[list[SSLListener[SocketStream]]] = TASK_STATUS_IGNORED,
) -> None:
    """Serve TLS over TCP on ``port``: :func:`open_ssl_over_tcp_listeners` then
    :func:`serve_listeners`. Each ``handler(stream)`` gets a server-side
    :class:`SSLStream` whose handshake happens on first use.

    ``await nursery.start(serve_ssl_over_tcp, handler, 0, ctx)`` returns the listeners;
    ``listeners[0].transport_listener.socket.getsockname()`` tells the port chosen.
    """
    listeners = await open_ssl_over_tcp_listeners(
        port, ssl_context, host=host, https_compatible=https_compatible, backlog=backlog
    )
    await serve_listeners(
        handler,
        listeners,
        handler_nursery=handler_nursery,
        task_status=task_status,
    )
