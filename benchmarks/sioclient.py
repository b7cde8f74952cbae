"""The Socket.IO client side that both benchmark clients share, whatever the transport.

``wire.SioConnection`` (WebSocket) and ``pollwire.PollingConnection`` (long-polling)
differ only in how Engine.IO packets travel. What is done with a packet once it arrived
is here, in ``SioClient``: Engine.IO pings, the hot path for server events, Socket.IO
connect and acknowledgements, the ``ready`` and ``closed`` futures, and failing
everything still waiting when the connection ends. A subclass sends packets
(``_send_packet``), says what an Engine.IO open packet means on its transport
(``_on_open``) and drops its sockets (``_drop``, ``close``).
"""

from __future__ import annotations

import abc
import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import orjson

# First bytes of packets, compared as ints on the hot path.
EIO_OPEN, EIO_CLOSE, EIO_PING, EIO_MESSAGE, EIO_NOOP = b"01246"
SIO_CONNECT, SIO_DISCONNECT, SIO_EVENT, SIO_ACK, SIO_CONNECT_ERROR = b"01234"
_SLASH = ord("/")

# (body of a 42 EVENT packet, i.e. the JSON array, receive time in monotonic ns)
EventHandler = Callable[[bytes, int], None]


class WireError(Exception):
    """The peer broke the WebSocket, HTTP, Engine.IO or Socket.IO protocol."""


class ConnectionClosed(Exception):
    """The connection ended before the awaited reply arrived."""


def parse_sio(body: bytes) -> tuple[int, str, int | None, Any]:
    """A Socket.IO packet (after the Engine.IO ``4``) as (type, namespace, ack id, data)."""
    if not body:
        raise WireError("empty socket.io packet")
    kind, pos = body[0], 1
    if kind in b"56":
        raise WireError("binary socket.io packets are not expected in this benchmark")
    namespace = "/"
    if pos < len(body) and body[pos] == _SLASH:
        comma = body.find(b",", pos)
        end = comma if comma >= 0 else len(body)
        namespace = body[pos:end].decode()
        pos = end + 1
    start = pos
    while pos < len(body) and 0x30 <= body[pos] <= 0x39:
        pos += 1
    ack_id = int(body[start:pos]) if pos > start else None
    data = orjson.loads(body[pos:]) if pos < len(body) else None
    return kind, namespace, ack_id, data


class SioClient(abc.ABC):
    """One Socket.IO client on the default namespace, apart from its transport.

    ``ready`` resolves with the Socket.IO sid once the namespace is connected, ``closed``
    with the reason the connection ended; ``emit`` returns a future for the
    acknowledgement; every server EVENT goes to ``on_event``.
    """

    def __init__(self, host: str, port: int, on_event: EventHandler | None = None) -> None:
        loop = asyncio.get_running_loop()
        self.host = host
        self.port = port
        self.on_event = on_event
        self.ready: asyncio.Future[str] = loop.create_future()
        self.closed: asyncio.Future[str] = loop.create_future()
        self.pings = 0
        self.unexpected = 0
        self._loop = loop
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._ack_ids = itertools.count()

    # -- what a transport provides ----------------------------------------------------

    @abc.abstractmethod
    def close(self) -> None:
        """Drop the connection without a closing handshake (teardown only)."""

    @abc.abstractmethod
    def _send_packet(self, packet: bytes) -> None:
        """Send one Engine.IO packet."""

    @abc.abstractmethod
    def _on_open(self, packet: bytes) -> None:
        """An Engine.IO open packet (``0{...}``) arrived on the open connection."""

    @abc.abstractmethod
    def _drop(self, reason: str) -> None:
        """The connection ended for ``reason``: release what the transport holds."""

    # -- public API -------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return not self.closed.done()

    def emit(self, event: str, *args: Any) -> asyncio.Future[Any]:
        """Send an EVENT asking for an ack; the future gets the ack's argument list."""
        fut: asyncio.Future[Any] = self._loop.create_future()
        if not self.is_open:
            fut.set_exception(ConnectionClosed(self.closed.result()))
            return fut
        ack_id = next(self._ack_ids)
        self._acks[ack_id] = fut
        self._send_packet(b"42%d" % ack_id + orjson.dumps([event, *args]))
        return fut

    # -- incoming ---------------------------------------------------------------------

    def _on_packet(self, packet: bytes, now_ns: int) -> None:
        """One Engine.IO packet, received at ``now_ns``."""
        if not packet:
            raise WireError("empty engine.io packet")
        kind = packet[0]
        if kind == EIO_MESSAGE:
            # Hot path: a server EVENT for the default namespace without an ack id.
            if packet[1:3] == b"2[" and self.on_event is not None:
                self.on_event(packet[2:], now_ns)
            else:
                self._on_sio(packet[1:])
        elif kind == EIO_PING:
            self.pings += 1
            self._send_packet(b"3" + packet[1:])
        elif kind == EIO_OPEN:
            self._on_open(packet)
        elif kind == EIO_CLOSE:
            self._fail("engine.io close packet")
        elif kind != EIO_NOOP:
            raise WireError(f"unexpected engine.io packet {packet[:200]!r}")

    def _on_sio(self, body: bytes) -> None:
        kind, namespace, ack_id, data = parse_sio(body)
        if namespace != "/":
            self.unexpected += 1
        elif kind == SIO_ACK and ack_id is not None:
            fut = self._acks.pop(ack_id, None)
            if fut is None:
                self.unexpected += 1
            elif not fut.done():
                fut.set_result(data)
        elif kind == SIO_CONNECT:
            if not isinstance(data, dict) or "sid" not in data:
                raise WireError(f"bad connect packet {body[:200]!r}")
            if not self.ready.done():
                self.ready.set_result(str(data["sid"]))
        elif kind == SIO_CONNECT_ERROR:
            self._fail(f"namespace connect refused: {data!r}")
        elif kind == SIO_DISCONNECT:
            self._fail("socket.io disconnect packet")
        else:  # an EVENT that missed the hot path (ack id or odd spacing), or garbage
            self.unexpected += 1

    # -- teardown ---------------------------------------------------------------------

    def _fail(self, reason: str) -> None:
        """Record why the connection ended and fail everything still waiting on it."""
        if self.closed.done():
            return
        self.closed.set_result(reason)
        error = ConnectionClosed(reason)
        if not self.ready.done():
            self.ready.set_exception(error)
            self.ready.exception()  # mark retrieved: a refused connect is reported, not raised
        for fut in self._acks.values():
            if not fut.done():
                fut.set_exception(error)
                fut.exception()
        self._acks.clear()
        self._drop(reason)
