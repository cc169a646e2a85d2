"""Abstract interfaces: implement these to plug your own pieces into tether."""

from ._abc import AsyncResource, Channel, ReceiveChannel, SendChannel
from ._core import Clock, Instrument
from ._socket_abc import HostnameResolver, SocketFactory
from ._streams import HalfCloseableStream, Listener, ReceiveStream, SendStream, Stream

__all__ = [
    "AsyncResource",
    "Channel",
    "Clock",
    "HalfCloseableStream",
    "HostnameResolver",
    "Instrument",
    "Listener",
    "ReceiveChannel",
    "ReceiveStream",
    "SendChannel",
    "SendStream",
    "SocketFactory",
    "Stream",
]
