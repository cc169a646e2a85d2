"""Tier 9: TLS over any stream (SSLStream), built on the standard library's ``ssl.MemoryBIO``.

How it works: an ``ssl.SSLObject`` encrypts into one memory buffer and decrypts from
another; this module moves bytes between those buffers and the transport stream. Any task
that needs the transport does the moving itself, so there is no background task:

* whatever the SSL object produced is *flushed*: one task at a time sends everything
  that is pending, in order; a task that finds another one flushing waits for it;
* when the SSL object needs more input, one task at a time *fills* the incoming buffer
  with a large chunk from the transport; others wait for that chunk and retry.

That is all a concurrent ``send_all`` and ``receive_some`` (or two ``do_handshake``
callers) need to share one TLS session.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .._core import (
    BrokenResourceError,
    BusyResourceError,
    ClosedResourceError,
    ParkingLot,
    cancel_shielded_checkpoint,
    checkpoint,
    checkpoint_if_cancelled,
)
from .._core._util import final
from .._timeouts import move_on_after
from ._abc import Stream
from ._util import receive_size

__all__ = ["CLOSE_NOTIFY_TIMEOUT", "NeedHandshakeError", "SSLStream"]

TransportT = TypeVar("TransportT", bound=Stream)
R = TypeVar("R")

# Bytes asked of the transport per receive: several TLS records (16 KiB of payload each)
# at a time, so one wake-up decrypts a lot.
_TRANSPORT_RECEIVE_SIZE = 2**16
# receive_some(None) returns up to this much plaintext.
# send_all encrypts big buffers this much at a time, so the encrypted copy waiting in
# memory stays bounded.
_WRITE_CHUNK = 2**18
# Seconds aclose() spends trying to deliver close_notify before it closes the transport
# anyway (a peer that does not read must not make aclose hang).
CLOSE_NOTIFY_TIMEOUT = 1.0

_OK, _BROKEN, _CLOSED = 0, 1, 2

# SSLObject attributes readable through an SSLStream; the first set only has meaningful
# values once the handshake is done.
_AFTER_HANDSHAKE = frozenset(
    {
        "cipher",
        "compression",
        "get_channel_binding",
        "get_unverified_chain",
        "get_verified_chain",
        "getpeercert",
        "selected_alpn_protocol",
        "shared_ciphers",
        "version",
    }
)
_PASSTHROUGH = _AFTER_HANDSHAKE | {
    "context",
    "pending",
    "server_hostname",
    "server_side",
    "session",
    "session_reused",
}
# Transport failures that make the TLS session unusable (anything else is a bug and
# propagates unchanged).
_TRANSPORT_ERRORS = (BrokenResourceError, ClosedResourceError, OSError)


class NeedHandshakeError(Exception):
    """Raised when reading an :class:`SSLStream` attribute that has no meaningful value
    before the TLS handshake (the peer's certificate, the negotiated protocol, cipher or
    version...). Call :meth:`SSLStream.do_handshake` first."""


@final
class SSLStream(Stream, Generic[TransportT]):
    """A :class:`~tether.abc.Stream` that speaks TLS over another stream.

    Args:
      transport_stream: the stream carrying the encrypted bytes (a
        :class:`~tether.SocketStream`, or any :class:`~tether.abc.Stream`).
      ssl_context: an :class:`ssl.SSLContext`; certificate and hostname verification
        are whatever it says (on, for ``ssl.create_default_context()``).
      server_hostname: (client side) the name the server's certificate must match, also
        sent as SNI. Required when the context checks hostnames.
      server_side: ``True`` to act as the TLS server.
      https_compatible: mimic what HTTPS peers do in practice: a peer closing the
        connection without a ``close_notify`` alert is an ordinary end of stream (instead
        of :exc:`~tether.BrokenResourceError`), and :meth:`aclose` does not send
        ``close_notify`` either.

    The handshake runs on the first :meth:`send_all` / :meth:`receive_some` /
    :meth:`unwrap`, or explicitly with :meth:`do_handshake`. The ``ssl.SSLObject``
    attributes ``cipher``, ``compression``, ``context``, ``get_channel_binding``,
    ``getpeercert``, ``pending``, ``selected_alpn_protocol``, ``server_hostname``,
    ``server_side``, ``session``, ``session_reused``, ``shared_ciphers`` and ``version``
    (plus ``get_verified_chain`` / ``get_unverified_chain`` where Python has them) can
    be read on the stream; those that only make sense after the handshake raise
    :exc:`NeedHandshakeError` before it.

    Errors: a TLS failure (certificate rejected, protocol error) or a transport failure
    raises :exc:`~tether.BrokenResourceError` with the original exception as
    ``__cause__``, and the stream stays broken; using a closed stream raises
    :exc:`~tether.ClosedResourceError`; two tasks sending (or two receiving) at once
    raise :exc:`~tether.BusyResourceError`. One task may send while another receives.

    Attributes:
      transport_stream: the underlying stream.
      close_notify_timeout: seconds :meth:`aclose` may spend delivering ``close_notify``
        (default :data:`CLOSE_NOTIFY_TIMEOUT`, 1.0).
    """

    __slots__ = (
        "_handshook",
        "_https_compatible",
        "_incoming",
        "_ios",
        "_outgoing",
        "_receive_lot",
        "_receiving",
        "_send_lot",
        "_sending",
        "_ssl",
        "_state",
        "_transport_receiving",
        "_transport_sending",
        "close_notify_timeout",
        "transport_stream",
    )

    def __init__(
        self,
        transport_stream: TransportT,
        ssl_context: ssl.SSLContext,
        *,
        server_hostname: str | bytes | None = None,
        server_side: bool = False,
        https_compatible: bool = False,
    ) -> None:
        self.transport_stream: TransportT = transport_stream
        self.close_notify_timeout = CLOSE_NOTIFY_TIMEOUT
        self._https_compatible = https_compatible
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        if isinstance(server_hostname, bytes):
            server_hostname = server_hostname.decode("ascii")
        self._ssl = ssl_context.wrap_bio(
            self._incoming,
            self._outgoing,
            server_side=server_side,
            server_hostname=server_hostname,
        )
        self._state = _OK
        self._handshook = False
        self._sending = False  # a task is in send_all / wait_send_all_might_not_block
        self._receiving = False  # a task is in receive_some
        self._transport_sending = False  # a task is flushing into the transport
        self._transport_receiving = False  # a task is filling from the transport
        self._send_lot = ParkingLot()  # tasks waiting for the flushing task
        self._receive_lot = ParkingLot()  # tasks waiting for the filling task
        self._ios = 0  # counts waits for the transport (see _checkpoint_unless)

    def __repr__(self) -> str:
        state = ("open", "broken", "closed")[self._state]
        side = "server" if self._ssl.server_side else "client"
        return f"<tether.SSLStream {side} {state} over {self.transport_stream!r}>"

    def __getattr__(self, name: str) -> Any:
        if name in _PASSTHROUGH:
            if name in _AFTER_HANDSHAKE and not self._handshook:
                raise NeedHandshakeError(f"call do_handshake() before using {name!r}")
            return getattr(self._ssl, name)
        raise AttributeError(f"'SSLStream' object has no attribute {name!r}")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | _PASSTHROUGH)

    # -----------------------------------------------------------------------------------
    # Moving bytes between the SSL object and the transport

    def _check_usable(self) -> None:
        if self._state:
            if self._state == _CLOSED:
                raise ClosedResourceError("this SSLStream was closed")
            raise BrokenResourceError("this SSLStream is broken (an earlier operation failed)")

    def _failed(self, what: str, exc: BaseException) -> Exception:
        """The error to raise (``from exc``) when the transport or TLS failed; a stream
        that was not closed meanwhile becomes broken."""
        if self._state == _CLOSED:
            return ClosedResourceError("this SSLStream was closed")
        self._state = _BROKEN
        return BrokenResourceError(f"{what}: {exc}")

    async def _wait_for_flusher(self) -> bool:
        """Wait while another task is flushing; tell whether there was one."""
        waited = False
        while self._transport_sending:
            waited = True
            self._ios += 1
            await self._send_lot.park()
        return waited

    async def _flush(self) -> None:
        """Send everything the SSL object produced, in order."""
        if await self._wait_for_flusher():
            # What we produced went out in the other task's loop, or is still pending.
            self._check_usable()
            if not self._outgoing.pending:
                return
        self._transport_sending = True
        self._ios += 1
        try:
            while self._outgoing.pending:
                await self.transport_stream.send_all(self._outgoing.read())
        except BaseException as exc:
            # Some unknown part of a record went out: the session cannot continue.
            if self._state == _OK:
                self._state = _BROKEN
            if isinstance(exc, _TRANSPORT_ERRORS):
                raise self._failed("the transport stream failed", exc) from exc
            raise
        finally:
            self._transport_sending = False
            if self._send_lot:
                self._send_lot.unpark_all()

    async def _fill(self) -> None:
        """Feed the SSL object one chunk from the transport (or wait for the task that
        is doing it)."""
        self._ios += 1
        if self._transport_receiving:
            await self._receive_lot.park()
            self._check_usable()
            return
        self._transport_receiving = True
        try:
            data = await self.transport_stream.receive_some(_TRANSPORT_RECEIVE_SIZE)
        except _TRANSPORT_ERRORS as exc:
            raise self._failed("the transport stream failed", exc) from exc
        finally:
            self._transport_receiving = False
            if self._receive_lot:
                self._receive_lot.unpark_all()
        if data:
            self._incoming.write(data)
        elif not self._incoming.eof:
            self._incoming.write_eof()

    async def _drive(self, op: Callable[..., R], *args: Any) -> R:
        """Call an SSL object method until it succeeds, moving bytes as it asks."""
        while True:
            try:
                result = op(*args)
            except ssl.SSLWantReadError:
                if self._outgoing.pending:
                    await self._flush()
                await self._fill()
                continue
            except ssl.SSLError as exc:
                raise self._failed("TLS failed", exc) from exc
            if self._outgoing.pending:
                await self._flush()
            return result

    def _read(self, max_bytes: int) -> bytes:
        """Decrypt up to ``max_bytes`` of what has arrived, gathering several records
        when they are there; ``b""`` at the end of the stream. Raises
        ``SSLWantReadError`` when nothing can be decrypted yet."""
        ssl_object = self._ssl
        try:
            data = ssl_object.read(max_bytes)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError) as exc:
            # close_notify arrived (clean), or the transport ended without one (ragged).
            if isinstance(exc, ssl.SSLEOFError):
                if not self._https_compatible:
                    raise
                # OpenSSL queued an alert for the peer, which is gone: drop it.
                self._outgoing.read()
            return b""
        room = max_bytes - len(data)
        if not data or not room or not (self._incoming.pending or ssl_object.pending()):
            return data
        parts = [data]
        # More is decryptable right now. Errors met here are not lost: the SSL object
        # raises them again on the next read.
        try:
            while room and (self._incoming.pending or ssl_object.pending()):
                more = ssl_object.read(room)
                if not more:
                    break
                parts.append(more)
                room -= len(more)
        except ssl.SSLError:
            pass
        return b"".join(parts)

    async def _checkpoint_unless(self, ios: int) -> None:
        """End of an operation that began with ``checkpoint_if_cancelled()``: if it never
        waited for the transport, yield once (a full checkpoint, in two halves)."""
        if self._ios == ios:
            await cancel_shielded_checkpoint()

    async def _handshake(self) -> None:
        # Concurrent callers all drive the same SSL object: whichever task is filling or
        # flushing does it for everybody, the others wait for it and retry.
        await self._drive(self._ssl.do_handshake)
        self._handshook = True

    # -----------------------------------------------------------------------------------
    # Public API

    async def do_handshake(self) -> None:
        """Perform the TLS handshake now, if it was not done yet.

        Optional: the first :meth:`send_all`, :meth:`receive_some` or :meth:`unwrap` does
        it. Useful to find out early whether the peer is acceptable, or to read
        ``getpeercert()`` / ``selected_alpn_protocol()`` before exchanging data. Safe to
        call again (it returns at once, after a checkpoint) and from several tasks at once
        (they all wait for the same handshake). Certificate or hostname rejection raises
        :exc:`~tether.BrokenResourceError` caused by ``ssl.SSLCertVerificationError``.
        """
        self._check_usable()
        await checkpoint_if_cancelled()
        ios = self._ios
        if not self._handshook:
            await self._handshake()
        await self._checkpoint_unless(ios)

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Encrypt ``data`` and send it (doing the handshake first if needed).

        Cancellation while bytes are being handed to the transport breaks the stream
        (a TLS record may have been cut in half): only :meth:`aclose` works afterwards.
        """
        if self._sending:
            raise BusyResourceError("another task is using this stream for sending")
        self._sending = True
        try:
            self._check_usable()
            await checkpoint_if_cancelled()
            ios = self._ios
            if not self._handshook:
                await self._handshake()
            if data:
                if len(data) <= _WRITE_CHUNK:
                    await self._drive(self._ssl.write, data)
                else:
                    with memoryview(data) as view, view.cast("B") as raw:
                        for start in range(0, len(raw), _WRITE_CHUNK):
                            with raw[start : start + _WRITE_CHUNK] as chunk:
                                await self._drive(self._ssl.write, chunk)
            await self._checkpoint_unless(ios)
        finally:
            self._sending = False

    async def wait_send_all_might_not_block(self) -> None:
        """Wait until the transport could take more data (see
        :meth:`tether.abc.SendStream.wait_send_all_might_not_block`). Does not start the
        handshake."""
        if self._sending:
            raise BusyResourceError("another task is using this stream for sending")
        self._sending = True
        try:
            self._check_usable()
            if await self._wait_for_flusher():
                # receive_some was flushing something: now that it is out, we can send.
                self._check_usable()
                return
            # Hold the transport's sending side meanwhile, so a flush from receive_some
            # waits for us instead of colliding in the transport.
            self._transport_sending = True
            try:
                await self.transport_stream.wait_send_all_might_not_block()
            except _TRANSPORT_ERRORS as exc:
                raise self._failed("the transport stream failed", exc) from exc
            finally:
                self._transport_sending = False
                if self._send_lot:
                    self._send_lot.unpark_all()
        finally:
            self._sending = False

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """Receive and decrypt up to ``max_bytes`` bytes (up to 64 KiB if ``None``),
        doing the handshake first if needed.

        Returns ``b""`` at the end of the stream: once the peer sent ``close_notify``, or
        (only with ``https_compatible=True``) when the transport ended without it. A
        transport that ends without ``close_notify`` otherwise raises
        :exc:`~tether.BrokenResourceError` caused by ``ssl.SSLEOFError``: someone may
        have cut the data short.
        """
        max_bytes = receive_size(max_bytes)
        if self._receiving:
            raise BusyResourceError("another task is using this stream for receiving")
        self._receiving = True
        try:
            self._check_usable()
            await checkpoint_if_cancelled()
            ios = self._ios
            if not self._handshook:
                await self._handshake()
            data = await self._drive(self._read, max_bytes)
            await self._checkpoint_unless(ios)
            return data
        finally:
            self._receiving = False

    async def unwrap(self) -> tuple[TransportT, bytes]:
        """End TLS but keep the connection: send ``close_notify``, wait for the peer's,
        and hand back the transport for unencrypted use.

        Both sides must call it. Returns ``(transport_stream, trailing_bytes)``, where
        ``trailing_bytes`` is what already arrived after the peer's ``close_notify``
        (plain data, to be processed before reading from the transport again). The
        SSLStream is closed afterwards, without closing the transport. Needs both the
        sending and receiving sides free (else :exc:`~tether.BusyResourceError`).
        """
        if self._sending or self._receiving:
            raise BusyResourceError("another task is using this stream")
        self._sending = self._receiving = True
        try:
            self._check_usable()
            await checkpoint_if_cancelled()
            ios = self._ios
            if not self._handshook:
                await self._handshake()
            await self._drive(self._ssl.unwrap)
            self._state = _CLOSED
            trailing = self._incoming.read()
            await self._checkpoint_unless(ios)
            return self.transport_stream, trailing
        finally:
            self._sending = self._receiving = False

    async def aclose(self) -> None:
        """Close the stream: send ``close_notify`` (best effort), then close the transport.

        ``close_notify`` is sent unless the stream is broken, ``https_compatible`` is on
        or another task is in the middle of sending or of the handshake; if the handshake
        was not done yet it is done first. All that gets at most
        :attr:`close_notify_timeout` seconds, and a peer that went away meanwhile is not
        an error. The peer's own ``close_notify`` is not awaited. The transport is closed
        in every case, cancellation included; tasks blocked on this stream get
        :exc:`~tether.ClosedResourceError`.
        """
        if self._state == _CLOSED:
            await checkpoint()
            return
        state, self._state = self._state, _CLOSED
        try:
            if (
                state == _OK
                and not self._https_compatible
                and not self._transport_sending
                # (a handshake that another task is waiting on would make us wait too)
                and (self._handshook or not self._transport_receiving)
            ):
                await self._send_close_notify()
        finally:
            await self.transport_stream.aclose()

    async def _send_close_notify(self) -> None:
        with move_on_after(self.close_notify_timeout):
            try:
                if not self._handshook:
                    # close_notify needs a session: a peer that is waiting for our data
                    # then sees a clean end of stream rather than a broken handshake.
                    await self._handshake()
                try:
                    self._ssl.unwrap()
                except ssl.SSLWantReadError:
                    pass  # close_notify is out; we do not wait for the reply
                await self._flush()
            except (BrokenResourceError, ClosedResourceError, ssl.SSLError):
                pass  # the peer is gone, or the session failed: nobody to notify
