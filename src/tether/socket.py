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
    # The `X as X` form marks each as a deliberate re-export.
    from socket import AF_INET as AF_INET
    from socket import AF_INET6 as AF_INET6
    from socket import AF_UNIX as AF_UNIX
    from socket import AF_UNSPEC as AF_UNSPEC
    from socket import AI_ADDRCONFIG as AI_ADDRCONFIG
    from socket import AI_CANONNAME as AI_CANONNAME
    from socket import AI_NUMERICHOST as AI_NUMERICHOST
    from socket import AI_NUMERICSERV as AI_NUMERICSERV
    from socket import AI_PASSIVE as AI_PASSIVE
    from socket import AI_V4MAPPED as AI_V4MAPPED
    from socket import EAI_NONAME as EAI_NONAME
    from socket import EAI_SERVICE as EAI_SERVICE
    from socket import INADDR_ANY as INADDR_ANY
    from socket import INADDR_LOOPBACK as INADDR_LOOPBACK
    from socket import IPPROTO_IP as IPPROTO_IP
    from socket import IPPROTO_IPV6 as IPPROTO_IPV6
    from socket import IPPROTO_TCP as IPPROTO_TCP
    from socket import IPPROTO_UDP as IPPROTO_UDP
    from socket import IPV6_V6ONLY as IPV6_V6ONLY
    from socket import MSG_DONTWAIT as MSG_DONTWAIT
    from socket import MSG_OOB as MSG_OOB
    from socket import MSG_PEEK as MSG_PEEK
    from socket import MSG_WAITALL as MSG_WAITALL
    from socket import NI_DGRAM as NI_DGRAM
    from socket import NI_NAMEREQD as NI_NAMEREQD
    from socket import NI_NUMERICHOST as NI_NUMERICHOST
    from socket import NI_NUMERICSERV as NI_NUMERICSERV
    from socket import SCM_RIGHTS as SCM_RIGHTS
    from socket import SHUT_RD as SHUT_RD
    from socket import SHUT_RDWR as SHUT_RDWR
    from socket import SHUT_WR as SHUT_WR
    from socket import SO_BROADCAST as SO_BROADCAST
    from socket import SO_ERROR as SO_ERROR
    from socket import SO_KEEPALIVE as SO_KEEPALIVE
    from socket import SO_LINGER as SO_LINGER
    from socket import SO_RCVBUF as SO_RCVBUF
    from socket import SO_REUSEADDR as SO_REUSEADDR
    from socket import SO_REUSEPORT as SO_REUSEPORT
    from socket import SO_SNDBUF as SO_SNDBUF
    from socket import SO_TYPE as SO_TYPE
    from socket import SOCK_DGRAM as SOCK_DGRAM
    from socket import SOCK_RAW as SOCK_RAW
    from socket import SOCK_SEQPACKET as SOCK_SEQPACKET
    from socket import SOCK_STREAM as SOCK_STREAM
    from socket import SOL_SOCKET as SOL_SOCKET
    from socket import SOMAXCONN as SOMAXCONN
    from socket import TCP_NODELAY as TCP_NODELAY
    from socket import AddressFamily as AddressFamily
    from socket import SocketKind as SocketKind
    from socket import error as error
    from socket import gaierror as gaierror
    from socket import gethostname as gethostname
    from socket import has_ipv6 as has_ipv6
    from socket import herror as herror
    from socket import htonl as htonl
    from socket import htons as htons
    from socket import inet_aton as inet_aton
    from socket import inet_ntoa as inet_ntoa
    from socket import inet_ntop as inet_ntop
    from socket import inet_pton as inet_pton
    from socket import ntohl as ntohl
    from socket import ntohs as ntohs
    from socket import timeout as timeout

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
