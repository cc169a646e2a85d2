"""Abstract interfaces: implement these to plug your own pieces into tether."""

from ._core import Clock, Instrument

__all__ = ["Clock", "Instrument"]
