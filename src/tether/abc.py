"""Abstract interfaces: implement these to plug your own pieces into tether."""

from ._abc import AsyncResource, Channel, ReceiveChannel, SendChannel
from ._core import Clock, Instrument

__all__ = [
    "AsyncResource",
    "Channel",
    "Clock",
    "Instrument",
    "ReceiveChannel",
    "SendChannel",
]
