"""Network helpers for tests."""

from __future__ import annotations

import socket as _stdlib_socket

from .. import socket as tsocket
from .._streams._socket_stream import SocketListener, SocketStream

__all__ = ["open_stream_to_socket_listener"]

# A listener bound to a wildcard address accepts on loopback; connect there.
_WILDCARD_TO_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


async def open_stream_to_socket_listener(socket_listener: SocketListener) -> SocketStream:
    """Connect to the address ``socket_listener`` listens on and return the client end as
    a :class:`~tether.SocketStream`.

    A listener bound to a wildcard address (``0.0.0.0`` or ``::``) is reached through the
    matching loopback address, so this works with :func:`~tether.open_tcp_listeners`
    ``(0)``; unix-domain listeners work too. Accept the server end with
    ``await socket_listener.accept()``::

        listeners = await tether.open_tcp_listeners(0, host="127.0.0.1")
        client = await open_stream_to_socket_listener(listeners[0])
        server = await listeners[0].accept()
    """
    listening = socket_listener.socket
    family = listening.family
    address = listening.getsockname()
    if family in (_stdlib_socket.AF_INET, _stdlib_socket.AF_INET6):
        host, *rest = address
        address = (_WILDCARD_TO_LOOPBACK.get(host, host), *rest)
    sock = tsocket.socket(family, _stdlib_socket.SOCK_STREAM)
    try:
        await sock.connect(address)
    except BaseException:
        sock.close()
        raise
    return SocketStream(sock)
