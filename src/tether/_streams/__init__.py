"""Tier 9: streams. Re-exported from ``tether`` and ``tether.abc``."""

from ._abc import HalfCloseableStream, Listener, ReceiveStream, SendStream, Stream
from ._buffered import BufferedReceiveStream, DelimiterTooFarError, IncompleteReceiveError
from ._serve import serve_listeners
from ._socket_stream import SocketListener, SocketStream
from ._tcp import open_tcp_listeners, open_tcp_stream, serve_tcp
from ._unix import open_unix_listener, open_unix_socket, serve_unix
from ._util import aclose_forcefully

__all__ = [
    "BufferedReceiveStream",
    "DelimiterTooFarError",
    "HalfCloseableStream",
    "IncompleteReceiveError",
    "Listener",
    "ReceiveStream",
    "SendStream",
    "SocketListener",
    "SocketStream",
    "Stream",
    "aclose_forcefully",
    "open_tcp_listeners",
    "open_tcp_stream",
    "open_unix_listener",
    "open_unix_socket",
    "serve_listeners",
    "serve_tcp",
    "serve_unix",
]
