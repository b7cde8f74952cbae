"""A minimal asyncio Socket.IO v5 / Engine.IO v4 client over a raw WebSocket.

The load generator has to absorb tens of thousands of messages a second on one core, so
this is an ``asyncio.Protocol`` with a hand-written RFC 6455 frame parser instead of a
full WebSocket library: per-message overhead is what limits the generator. It speaks
only what the benchmark needs: the WebSocket transport (no polling), the default
namespace, text packets, acknowledgements, and answering pings.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import os
import time
from collections.abc import Callable
from typing import Any, cast

import orjson

SOCKET_IO_PATH = "/socket.io/?EIO=4&transport=websocket"
_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_FRAME = 16 * 1024 * 1024
_MAX_HANDSHAKE = 16 * 1024

# WebSocket opcodes.
_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

# First bytes of packets, compared as ints on the hot path.
_EIO_OPEN, _EIO_CLOSE, _EIO_PING, _EIO_MESSAGE, _EIO_NOOP = b"01246"
_SIO_CONNECT, _SIO_DISCONNECT, _SIO_EVENT, _SIO_ACK, _SIO_CONNECT_ERROR = b"01234"
_OPEN_BRACKET = ord("[")
_SLASH = ord("/")

# (body of a 42 EVENT packet, i.e. the JSON array, receive time in monotonic ns)
EventHandler = Callable[[bytes, int], None]


class WireError(Exception):
    """The peer broke the WebSocket, Engine.IO or Socket.IO protocol."""


class ConnectionClosed(Exception):
    """The connection ended before the awaited reply arrived."""


def _mask(payload: bytes, key: bytes) -> bytes:
    """XOR ``payload`` with the repeating 4-byte ``key`` (one big-int op, no Python loop)."""
    size = len(payload)
    if not size:
        return payload
    stream = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(
        size, "little"
    )


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client-to-server frame (clients must mask, RFC 6455 5.3)."""
    size = len(payload)
    if size < 126:
        header = bytes((0x80 | opcode, 0x80 | size))
    elif size < 1 << 16:
        header = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    key = os.urandom(4)
    return header + key + _mask(payload, key)


def _accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + _WS_GUID).digest()).decode()


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


class SioConnection(asyncio.Protocol):
    """One Socket.IO client connection to the default namespace.

    ``ready`` resolves with the Socket.IO sid once the namespace is connected; ``emit``
    returns a future for the acknowledgement; every server EVENT goes to ``on_event``.
    """

    def __init__(self, host: str, port: int, on_event: EventHandler | None = None) -> None:
        self.host = host
        self.port = port
        self.on_event = on_event
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[str] = loop.create_future()
        self.closed: asyncio.Future[str] = loop.create_future()
        self.pings = 0
        self.unexpected = 0
        self._transport: asyncio.Transport | None = None
        self._key = base64.b64encode(os.urandom(16)).decode()
        self._handshaking = True
        self._buf = bytearray()
        self._fragments: list[bytes] = []
        self._fragment_opcode = 0
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._ack_ids = itertools.count()

    # -- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they have its methods.
        self._transport = cast(asyncio.Transport, transport)
        request = (
            f"GET {SOCKET_IO_PATH} HTTP/1.1\r\n"
            f"Host: {self.host}:{self.port}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self._key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        )
        transport.write(request.encode())

    def data_received(self, data: bytes) -> None:
        if self._buf:
            self._buf += data
            data = bytes(self._buf)
            self._buf.clear()
        try:
            if self._handshaking:
                data = self._read_handshake(data)
            used = self._read_frames(data, time.monotonic_ns())
        except WireError as exc:
            self._fail(f"protocol error: {exc}")
            return
        if used < len(data):
            self._buf += data[used:]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(f"connection lost: {exc!r}" if exc else "connection closed by peer")

    # -- public API -------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return not self.closed.done()

    def emit(self, event: str, *args: Any) -> asyncio.Future[Any]:
        """Send an EVENT asking for an ack; the future gets the ack's argument list."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if not self.is_open:
            fut.set_exception(ConnectionClosed(self.closed.result()))
            return fut
        ack_id = next(self._ack_ids)
        self._acks[ack_id] = fut
        self._send_text(b"42%d" % ack_id + orjson.dumps([event, *args]))
        return fut

    def close(self) -> None:
        """Drop the TCP connection without a closing handshake (teardown only)."""
        if self._transport is not None:
            self._transport.abort()

    # -- incoming ---------------------------------------------------------------------

    def _read_handshake(self, data: bytes) -> bytes:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            if len(data) > _MAX_HANDSHAKE:
                raise WireError("oversized HTTP upgrade response")
            self._buf += data
            return b""
        head = data[:end].decode("latin-1").split("\r\n")
        status = head[0].split(" ", 2)
        if len(status) < 2 or status[1] != "101":
            raise WireError(f"upgrade refused: {head[0]!r}")
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("sec-websocket-accept") != _accept_key(self._key):
            raise WireError("bad Sec-WebSocket-Accept")
        self._handshaking = False
        return data[end + 4 :]

    def _read_frames(self, data: bytes, now_ns: int) -> int:
        """Handle every complete frame in ``data``; return how many bytes were used."""
        pos, end = 0, len(data)
        while end - pos >= 2:
            first, second = data[pos], data[pos + 1]
            size, header = second & 0x7F, 2
            if size == 126:
                if end - pos < 4:
                    break
                size, header = int.from_bytes(data[pos + 2 : pos + 4], "big"), 4
            elif size == 127:
                if end - pos < 10:
                    break
                size, header = int.from_bytes(data[pos + 2 : pos + 10], "big"), 10
            if size > _MAX_FRAME:
                raise WireError(f"frame of {size} bytes")
            masked = second & 0x80
            if masked:
                header += 4
            if end - pos < header + size:
                break
            payload = data[pos + header : pos + header + size]
            if masked:  # servers must not mask, but tolerate it
                payload = _mask(payload, data[pos + header - 4 : pos + header])
            pos += header + size
            if first & 0x70:
                raise WireError("reserved bits set without a negotiated extension")
            self._on_frame(first, payload, now_ns)
            if not self.is_open:
                break
        return pos

    def _on_frame(self, first: int, payload: bytes, now_ns: int) -> None:
        opcode, fin = first & 0x0F, first & 0x80
        if opcode == _TEXT and fin:
            self._on_text(payload, now_ns)
        elif opcode == _BINARY and fin:
            self.unexpected += 1
        elif opcode in (_TEXT, _BINARY):
            self._fragment_opcode, self._fragments = opcode, [payload]
        elif opcode == _CONTINUATION:
            if not self._fragments:
                raise WireError("continuation frame without a start")
            self._fragments.append(payload)
            if fin:
                whole, self._fragments = b"".join(self._fragments), []
                if self._fragment_opcode == _TEXT:
                    self._on_text(whole, now_ns)
                else:
                    self.unexpected += 1
        elif opcode == _PING:
            self._send(client_frame(_PONG, payload))
        elif opcode == _CLOSE:
            self._send(client_frame(_CLOSE, payload[:2]))
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            self._fail(f"websocket close frame (code {code})")
            if self._transport is not None:
                self._transport.close()
        elif opcode != _PONG:
            raise WireError(f"unknown opcode {opcode}")

    def _on_text(self, payload: bytes, now_ns: int) -> None:
        if not payload:
            raise WireError("empty engine.io packet")
        kind = payload[0]
        if kind == _EIO_MESSAGE:
            # Hot path: a server EVENT for the default namespace without an ack id.
            if payload[1:2] == b"2" and payload[2:3] == b"[" and self.on_event is not None:
                self.on_event(payload[2:], now_ns)
            else:
                self._on_sio(payload[1:])
        elif kind == _EIO_PING:
            self.pings += 1
            self._send_text(b"3" + payload[1:])
        elif kind == _EIO_OPEN:
            handshake = orjson.loads(payload[1:])
            if not isinstance(handshake, dict) or "sid" not in handshake:
                raise WireError(f"bad open packet {payload[:200]!r}")
            self._send_text(b"40")
        elif kind == _EIO_CLOSE:
            self._fail("engine.io close packet")
        elif kind != _EIO_NOOP:
            raise WireError(f"unexpected engine.io packet {payload[:200]!r}")

    def _on_sio(self, body: bytes) -> None:
        kind, namespace, ack_id, data = parse_sio(body)
        if namespace != "/":
            self.unexpected += 1
        elif kind == _SIO_ACK and ack_id is not None:
            fut = self._acks.pop(ack_id, None)
            if fut is None:
                self.unexpected += 1
            elif not fut.done():
                fut.set_result(data)
        elif kind == _SIO_CONNECT:
            if not isinstance(data, dict) or "sid" not in data:
                raise WireError(f"bad connect packet {body[:200]!r}")
            if not self.ready.done():
                self.ready.set_result(str(data["sid"]))
        elif kind == _SIO_CONNECT_ERROR:
            self._fail(f"namespace connect refused: {data!r}")
        elif kind == _SIO_DISCONNECT:
            self._fail("socket.io disconnect packet")
        else:  # an EVENT that missed the hot path (ack id or odd spacing), or garbage
            self.unexpected += 1

    # -- outgoing and teardown --------------------------------------------------------

    def _send_text(self, payload: bytes) -> None:
        self._send(client_frame(_TEXT, payload))

    def _send(self, frame: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame)

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
        if self._transport is not None and "protocol error" in reason:
            self._transport.abort()


async def connect(host: str, port: int, on_event: EventHandler | None = None) -> SioConnection:
    """Open a connection and wait until the default namespace is connected."""
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(
        lambda: SioConnection(host, port, on_event), host, port
    )
    try:
        await protocol.ready
    except BaseException:
        protocol.close()
        raise
    return protocol
