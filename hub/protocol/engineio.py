"""Engine.IO v4 packets, as a WebSocket carries them and as a long-polling payload does.

WebSocket: one packet per message. Text messages are ``<type digit><data>``; a binary
message is a MESSAGE packet whose data is the raw bytes (v4 dropped the binary type
prefix). Long-polling: the packets of a request or response body joined by the record
separator ``\x1e``, a binary one written as ``b<base64>``. The open packet's JSON tells
the client its sid, its upgrades, the heartbeat timing and the largest payload accepted.
"""

from __future__ import annotations

import binascii
import enum
from base64 import b64decode

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


RECORD_SEPARATOR = "\x1e"


def decode_payload(body: bytes) -> list[EioPacket]:
    """A long-polling request body to its packets; ``ProtocolError`` if malformed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("polling payload is not UTF-8") from None
    packets = []
    for part in text.split(RECORD_SEPARATOR):
        if part.startswith("b"):
            try:
                data = b64decode(part[1:], validate=True)
            except (binascii.Error, ValueError):
                raise ProtocolError("bad base64 in a binary polling packet") from None
            packets.append(EioPacket(EioType.MESSAGE, data))
        else:
            packets.append(decode_eio(part))
    return packets


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
