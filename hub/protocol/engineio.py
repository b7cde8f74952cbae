"""Engine.IO v4 packets as carried by a WebSocket: one packet per message.

Text messages are ``<type digit><data>``; a binary message is a MESSAGE packet whose data
is the raw bytes (v4 dropped the binary type prefix). The open packet's JSON tells the
client its sid, the heartbeat timing and the largest payload the server accepts.
"""

from __future__ import annotations

import enum

import attrs
import orjson

from hub.errors import ProtocolError


class EioType(enum.IntEnum):
    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


@attrs.frozen
class EioPacket:
    type: EioType
    data: str | bytes = ""


_TYPE_BY_CHAR = {str(t.value): t for t in EioType}


def decode_eio(message: str | bytes) -> EioPacket:
    """One WebSocket message to one packet; ``ProtocolError`` if it is not one."""
    if isinstance(message, bytes | bytearray | memoryview):
        return EioPacket(EioType.MESSAGE, bytes(message))
    if not isinstance(message, str):
        raise ProtocolError("engine.io message is neither text nor bytes")
    if not message:
        raise ProtocolError("empty engine.io packet")
    packet_type = _TYPE_BY_CHAR.get(message[0])
    if packet_type is None:
        raise ProtocolError(f"unknown engine.io packet type {message[0]!r}")
    return EioPacket(packet_type, message[1:])


def encode_eio(packet: EioPacket) -> str | bytes:
    """One packet to one WebSocket message (text, or bytes for binary MESSAGE data)."""
    if isinstance(packet.data, bytes):
        if packet.type is not EioType.MESSAGE:
            raise ValueError("only MESSAGE packets carry binary data")
        return packet.data
    return f"{packet.type.value}{packet.data}"


def encode_open(
    sid: str,
    *,
    ping_interval_ms: int,
    ping_timeout_ms: int,
    max_payload: int,
    upgrades: tuple[str, ...] = (),
) -> str:
    """The OPEN packet that starts an Engine.IO session."""
    handshake = {
        "sid": sid,
        "upgrades": list(upgrades),
        "pingInterval": ping_interval_ms,
        "pingTimeout": ping_timeout_ms,
        "maxPayload": max_payload,
    }
    return "0" + orjson.dumps(handshake).decode()
