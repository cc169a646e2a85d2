"""A TLS client with tether: fetch the first line of https://example.com's response.

``open_ssl_over_tcp_stream`` connects over TCP (happy eyeballs included) and wraps the
connection in a client-side ``SSLStream``. With no ``ssl_context`` it uses
``ssl.create_default_context()``: the system's trusted CAs, and the server's certificate
must match the host name. ``https_compatible=True`` because web servers often close the
connection without a TLS ``close_notify``.

Run it with ``python examples/tls_client.py`` (it needs the internet).
"""

from __future__ import annotations

import tether

HOST = "example.com"
PORT = 443


async def main() -> None:
    stream = await tether.open_ssl_over_tcp_stream(HOST, PORT, https_compatible=True)
    async with stream:
        await stream.do_handshake()
        print(f"connected with {stream.version()}, cipher {stream.cipher()[0]}")
        request = f"GET / HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n"
        await stream.send_all(request.encode("ascii"))
        received = bytearray()
        async for chunk in stream:
            received += chunk
            if b"\r\n" in received:
                break
        status_line = bytes(received).split(b"\r\n", 1)[0].decode("latin-1")
        print(f"first response line: {status_line}")


if __name__ == "__main__":
    tether.run(main)
