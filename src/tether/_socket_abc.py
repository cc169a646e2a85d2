"""Interfaces for customizing tether.socket: name resolution and socket creation."""

from __future__ import annotations

import socket as _stdlib_socket
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._socket import SocketType

AddrInfo = tuple[
    _stdlib_socket.AddressFamily | int,
    _stdlib_socket.SocketKind | int,
    int,
    str,
    tuple[Any, ...],
]


class HostnameResolver(ABC):
    """Replaces tether's name resolution; install with
    :func:`tether.socket.set_custom_hostname_resolver` (e.g. for a DNS cache or tests)."""

    __slots__ = ()

    @abstractmethod
    async def getaddrinfo(
        self,
        host: bytes | None,
        port: bytes | str | int | None,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[AddrInfo]:
        """Like :func:`socket.getaddrinfo`. ``host`` arrives IDNA-encoded as bytes (or None);
        numeric hosts never reach the resolver."""

    @abstractmethod
    async def getnameinfo(self, sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
        """Like :func:`socket.getnameinfo`."""


class SocketFactory(ABC):
    """Replaces how :func:`tether.socket.socket` creates sockets; install with
    :func:`tether.socket.set_custom_socket_factory` (e.g. to hand out fakes in tests)."""

    __slots__ = ()

    @abstractmethod
    def socket(self, family: int, type: int, proto: int) -> SocketType:
        """Return a new :class:`tether.socket.SocketType` (when ``fileno`` is not given)."""
