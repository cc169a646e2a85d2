"""Tier 9: SSLListener, TLS on top of any listener."""

from __future__ import annotations

import ssl
from typing import Generic, TypeVar

from .._core._util import final
from ._abc import Listener, Stream
from ._ssl import SSLStream

__all__ = ["SSLListener"]

TransportT = TypeVar("TransportT", bound=Stream)


@final
class SSLListener(Listener[SSLStream[TransportT]], Generic[TransportT]):
    """A :class:`~tether.abc.Listener` that wraps each connection from another listener
    in a server-side :class:`SSLStream`.

    :meth:`accept` does not wait for the TLS handshake (one slow client must not hold up
    the accept loop): it happens on the stream's first use, or with
    :meth:`SSLStream.do_handshake`.

    Args:
      transport_listener: the listener whose connections carry TLS (e.g. a
        :class:`~tether.SocketListener`).
      ssl_context: the server's :class:`ssl.SSLContext` (with its certificate loaded).
      https_compatible: passed on to every :class:`SSLStream`.

    Attributes:
      transport_listener: the underlying listener.
    """

    __slots__ = ("_https_compatible", "_ssl_context", "transport_listener")

    def __init__(
        self,
        transport_listener: Listener[TransportT],
        ssl_context: ssl.SSLContext,
        *,
        https_compatible: bool = False,
    ) -> None:
        self.transport_listener = transport_listener
        self._ssl_context = ssl_context
        self._https_compatible = https_compatible

    def __repr__(self) -> str:
        return f"<tether.SSLListener over {self.transport_listener!r}>"

    async def accept(self) -> SSLStream[TransportT]:
        """Accept the next connection and return it as a server-side :class:`SSLStream`
        (its handshake not done yet)."""
        transport = await self.transport_listener.accept()
        return SSLStream(
            transport,
            self._ssl_context,
            server_side=True,
            https_compatible=self._https_compatible,
        )

    async def aclose(self) -> None:
        """Close the transport listener."""
        await self.transport_listener.aclose()
