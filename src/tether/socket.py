"""tether.socket: the stdlib :mod:`socket` API, with blocking operations made async.

Constants, exceptions and the non-blocking helper functions are the stdlib's own (every
upper-case name of the stdlib module is here). These are replaced: :func:`socket`,
:func:`socketpair`, :func:`fromfd`, :class:`SocketType`, :func:`getaddrinfo` and
:func:`getnameinfo` (async, in a worker thread unless the host is numeric). Blocking
helpers with no async form (``create_connection``, ``gethostbyname``, ``getfqdn``, ...)
are left out: use :func:`getaddrinfo` or the stream helpers instead.
"""

from __future__ import annotations

import socket as _stdlib_socket
from typing import TYPE_CHECKING

from ._socket import (
    SocketType,
    from_stdlib_socket,
    fromfd,
    getaddrinfo,
    getnameinfo,
    set_custom_hostname_resolver,
    set_custom_socket_factory,
    socket,
    socketpair,
)

_SAFE_FUNCTIONS = (
    "CMSG_LEN",
    "CMSG_SPACE",
    "getdefaulttimeout",
    "gethostname",
    "getprotobyname",
    "htonl",
    "htons",
    "if_indextoname",
    "if_nameindex",
    "if_nametoindex",
    "inet_aton",
    "inet_ntoa",
    "inet_ntop",
    "inet_pton",
    "ntohl",
    "ntohs",
    "sethostname",
)
_EXCEPTIONS_AND_FLAGS = ("error", "gaierror", "herror", "timeout", "has_ipv6")

# Every constant of this platform's socket module, plus the safe helpers, at run time.
_reexported = [
    name
    for name in dir(_stdlib_socket)
    if (name[:1].isupper() and name not in ("SocketType",))
    or name in _SAFE_FUNCTIONS
    or name in _EXCEPTIONS_AND_FLAGS
]
globals().update({name: getattr(_stdlib_socket, name) for name in _reexported})

if TYPE_CHECKING:
    # What type checkers see: the commonly used names (all platforms' constants exist at
    # run time; reach rarer ones through the stdlib module if your checker complains).
    pass

__all__ = [  # the re-exported stdlib names are added below
    "SocketType",
    "from_stdlib_socket",
    "fromfd",
    "getaddrinfo",
    "getnameinfo",
    "set_custom_hostname_resolver",
    "set_custom_socket_factory",
    "socket",
    "socketpair",
]
__all__ += _reexported
