"""A minimal asyncio Socket.IO v5 / Engine.IO v4 client over a raw WebSocket.

The load generator has to absorb tens of thousands of messages a second on one core, so
this is an ``asyncio.Protocol`` with a hand-written RFC 6455 frame parser instead of a
full WebSocket library: per-message overhead is what limits the generator. It speaks
only what the benchmark needs: the WebSocket transport (no polling), the default
namespace, text packets, acknowledgements, and answering pings. This module is the
WebSocket framing; what is done with the packets is ``sioclient.SioClient``'s.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import time
from typing import cast

import orjson
from sioclient import EventHandler, SioClient, WireError

SOCKET_IO_PATH = "/socket.io/?EIO=4&transport=websocket"
_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_FRAME = 16 * 1024 * 1024
_MAX_HANDSHAKE = 16 * 1024

# WebSocket opcodes.
_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


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


class SioConnection(SioClient, asyncio.Protocol):
    """One Socket.IO client connection to the default namespace, over a WebSocket.

    What it does with the packets is ``SioClient``'s; this is the framing.
    """

    def __init__(self, host: str, port: int, on_event: EventHandler | None = None) -> None:
        super().__init__(host, port, on_event)
        self._transport: asyncio.Transport | None = None
        self._key = base64.b64encode(os.urandom(16)).decode()
        self._handshaking = True
        self._buf = bytearray()
        self._fragments: list[bytes] = []
        self._fragment_opcode = 0

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
        self._transport.write(request.encode())

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
            self._on_packet(payload, now_ns)
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
                    self._on_packet(whole, now_ns)
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

    def _on_open(self, packet: bytes) -> None:
        handshake = orjson.loads(packet[1:])
        if not isinstance(handshake, dict) or "sid" not in handshake:
            raise WireError(f"bad open packet {packet[:200]!r}")
        self._send_packet(b"40")

    # -- outgoing and teardown --------------------------------------------------------

    def _send_packet(self, packet: bytes) -> None:
        self._send(client_frame(_TEXT, packet))

    def _send(self, frame: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame)

    def _drop(self, reason: str) -> None:
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
