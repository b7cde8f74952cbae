"""The wire, client side (sans-IO): the Engine.IO handshake, long-polling payloads, and
Socket.IO packets as Engine.IO packets. Decoding reuses the hub's own codecs."""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import orjson

from hub.errors import ProtocolError
from hub.protocol.engineio import RECORD_SEPARATOR, EioPacket, EioType, encode_eio
from hub.protocol.socketio import SioPacket, SioType, encode_sio

PING = EioPacket(EioType.PING)
PONG = EioPacket(EioType.PONG)
CLOSE = EioPacket(EioType.CLOSE)


@attrs.frozen
class Handshake:
    """What the server's OPEN packet says about the Engine.IO session."""

    sid: str
    ping_interval: float  # seconds
    ping_timeout: float  # seconds
    max_payload: int
    upgrades: tuple[str, ...] = ()

    @property
    def silence_limit(self) -> float:
        """How long the server may stay silent before the connection counts as dead."""
        return self.ping_interval + self.ping_timeout


def parse_open(packet: EioPacket) -> Handshake:
    """The handshake an OPEN packet carries; ``ProtocolError`` for anything else."""
    if packet.type is not EioType.OPEN or not isinstance(packet.data, str):
        raise ProtocolError(f"expected an engine.io OPEN packet, got {packet.type.name}")
    try:
        body = orjson.loads(packet.data)
    except orjson.JSONDecodeError:
        raise ProtocolError("the OPEN packet is not JSON") from None
    if not isinstance(body, dict):
        raise ProtocolError("the OPEN packet is not a JSON object")
    sid, upgrades = body.get("sid"), body.get("upgrades", [])
    numbers = [body.get("pingInterval"), body.get("pingTimeout"), body.get("maxPayload", 1e6)]
    valid = [n for n in numbers if isinstance(n, int | float) and not isinstance(n, bool) and n > 0]
    if not isinstance(sid, str) or not sid or len(valid) < 3 or not isinstance(upgrades, list):
        raise ProtocolError(f"malformed OPEN packet {packet.data[:200]!r}")
    interval, timeout, max_payload = valid
    return Handshake(
        sid,
        interval / 1000,
        timeout / 1000,
        int(max_payload),
        tuple(u for u in upgrades if isinstance(u, str)),
    )


def encode_payload(packets: Iterable[EioPacket]) -> bytes:
    """Packets as one long-polling request body (binary ones as ``b<base64>``)."""
    parts = []
    for packet in packets:
        if isinstance(packet.data, bytes):
            parts.append("b" + b64encode(packet.data).decode("ascii"))
        else:
            parts.append(f"{packet.type.value}{packet.data}")
    return RECORD_SEPARATOR.join(parts).encode("utf-8")


def to_messages(packets: Iterable[EioPacket]) -> list[str | bytes]:
    """Packets as WebSocket messages, one each."""
    return [encode_eio(packet) for packet in packets]


def sio_packets(packet: SioPacket) -> list[EioPacket]:
    """One Socket.IO packet as Engine.IO MESSAGE packets: its text, then its attachments."""
    text, attachments = encode_sio(packet)
    return [
        EioPacket(EioType.MESSAGE, text.decode("utf-8")),
        *(EioPacket(EioType.MESSAGE, data) for data in attachments),
    ]


def connect_packet(namespace: str, payload: dict[str, Any] | None) -> SioPacket:
    return SioPacket(SioType.CONNECT, namespace, payload)


def disconnect_packet(namespace: str) -> SioPacket:
    return SioPacket(SioType.DISCONNECT, namespace)


def event_packet(
    namespace: str, event: str, args: Sequence[Any], ack_id: int | None = None
) -> SioPacket:
    return SioPacket(SioType.EVENT, namespace, [event, *args], ack_id)


def ack_packet(namespace: str, ack_id: int, args: Sequence[Any]) -> SioPacket:
    return SioPacket(SioType.ACK, namespace, list(args), ack_id)


def ack_args(result: Any) -> list[Any]:
    """What a handler's return value acknowledges with: None -> nothing, a tuple -> several."""
    if result is None:
        return []
    if isinstance(result, tuple):
        return list(result)
    return [result]


def ack_value(args: Sequence[Any]) -> Any:
    """What ``emit_with_ack`` and ``wait_for`` return: None, the one value, or a tuple."""
    if not args:
        return None
    if len(args) == 1:
        return args[0]
    return tuple(args)


def refusal(data: Any) -> tuple[str, Any]:
    """``(message, data)`` of a CONNECT_ERROR payload (an object, or a bare string)."""
    if isinstance(data, dict):
        message = data.get("message")
        return (message if isinstance(message, str) else repr(data)), data.get("data")
    return str(data), None
