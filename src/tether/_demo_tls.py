"""TLS for ``python -m tether.demo``: a TLS server and client on loopback."""

from __future__ import annotations

import functools
import ssl

from ._core import open_nursery
from ._streams._socket_stream import SocketStream
from ._streams._ssl import SSLStream
from ._streams._ssl_helpers import open_ssl_over_tcp_stream, serve_ssl_over_tcp

__all__ = ["demo_tls"]


async def demo_tls() -> None:
    """Serve TLS on 127.0.0.1 with a certificate from a throw-away trustme CA, and do
    one round trip with a client that verifies it. Prints three lines (one, saying it
    skipped, if trustme is not installed)."""
    try:
        import trustme
    except ImportError:
        print("   TLS: skipped (pip install trustme to see it)")
        return
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)

    async def shout(stream: SSLStream[SocketStream]) -> None:
        async for chunk in stream:
            await stream.send_all(chunk.upper())

    async with open_nursery() as nursery:
        serve = functools.partial(serve_ssl_over_tcp, host="127.0.0.1")
        listeners = await nursery.start(serve, shout, 0, server_context)
        port = listeners[0].transport_listener.socket.getsockname()[1]
        print(f"   TLS: serving on 127.0.0.1:{port}, certificate from a throw-away CA")
        stream = await open_ssl_over_tcp_stream("127.0.0.1", port, ssl_context=client_context)
        async with stream:
            await stream.do_handshake()
            version, cipher = stream.version(), stream.cipher()[0]
            print(f"   TLS: the client verified the server's certificate; {version}, {cipher}")
            await stream.send_all(b"hello over tls")
            reply = await stream.receive_some()
            print(f"   TLS: sent b'hello over tls', echoed {reply!r}")
        nursery.cancel_scope.cancel()
