"""Socket.IO v5 packets: ``<type>[<attachments>-][<namespace>,][<ack id>][<json>]``.

Binary data travels as placeholders ``{"_placeholder": true, "num": i}`` inside the JSON,
followed by one Engine.IO binary message per attachment, in order. ``encode_sio`` lifts
every ``bytes`` value out of the data; ``SioDecoder`` is the small state machine that
collects attachments and puts them back. Anything malformed raises ``ProtocolError``.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs
import orjson

from hub.errors import ProtocolError


class SioType(enum.IntEnum):
    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


# Event names a client may not emit: the client library uses them for itself.
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)
_BINARY_TYPES = (SioType.BINARY_EVENT, SioType.BINARY_ACK)
_MAX_ATTACHMENTS = 1_000
_MAX_ACK_ID_DIGITS = 15
_TYPE_BY_CHAR = {str(t.value): t for t in SioType}


@attrs.frozen
class SioPacket:
    type: SioType
    namespace: str = "/"
    data: Any = None
    id: int | None = None

    @property
    def is_event(self) -> bool:
        return self.type is SioType.EVENT or self.type is SioType.BINARY_EVENT

    @property
    def is_ack(self) -> bool:
        return self.type is SioType.ACK or self.type is SioType.BINARY_ACK


def encode_sio(packet: SioPacket) -> tuple[bytes, list[bytes]]:
    """The packet's text (UTF-8) and its binary attachments, in wire order.

    An EVENT or ACK whose data holds ``bytes`` is sent as BINARY_EVENT / BINARY_ACK.
    """
    attachments: list[bytes] = []

    def lift_binary(value: Any) -> Any:
        if isinstance(value, bytes | bytearray | memoryview):
            attachments.append(bytes(value))
            return {"_placeholder": True, "num": len(attachments) - 1}
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    body = b"" if packet.data is None else orjson.dumps(packet.data, default=lift_binary)
    packet_type = packet.type
    if attachments:
        if packet_type is SioType.EVENT:
            packet_type = SioType.BINARY_EVENT
        elif packet_type is SioType.ACK:
            packet_type = SioType.BINARY_ACK
        elif packet_type not in _BINARY_TYPES:
            raise ValueError(f"{packet_type.name} packets cannot carry binary data")
    head = str(packet_type.value)
    if packet_type in _BINARY_TYPES:
        head += f"{len(attachments)}-"
    if packet.namespace != "/":
        head += packet.namespace + ","
    if packet.id is not None:
        head += str(packet.id)
    return head.encode() + body, attachments


def _parse_text(text: str) -> tuple[SioPacket, int]:
    """The packet a text message carries, and how many attachments must follow it."""
    if not text:
        raise ProtocolError("empty socket.io packet")
    packet_type = _TYPE_BY_CHAR.get(text[0])
    if packet_type is None:
        raise ProtocolError(f"unknown socket.io packet type {text[0]!r}")
    i, end = 1, len(text)

    attachments = 0
    if packet_type in _BINARY_TYPES:
        dash = text.find("-", i)
        digits = text[i:dash] if dash != -1 else ""
        if not digits.isdigit() or not digits.isascii() or len(digits) > 4:
            raise ProtocolError("bad attachment count")
        attachments = int(digits)
        if attachments > _MAX_ATTACHMENTS:
            raise ProtocolError("too many attachments")
        i = dash + 1

    namespace = "/"
    if i < end and text[i] == "/":
        comma = text.find(",", i)
        stop = end if comma == -1 else comma
        namespace = text[i:stop]
        i = stop + 1

    ack_id = None
    start = i
    while i < end and "0" <= text[i] <= "9":
        i += 1
    if i > start:
        if i - start > _MAX_ACK_ID_DIGITS:
            raise ProtocolError("ack id too long")
        ack_id = int(text[start:i])

    data: Any = None
    if i < end:
        try:
            data = orjson.loads(text[i:])
        except orjson.JSONDecodeError as exc:
            raise ProtocolError(f"invalid JSON payload: {exc.msg}") from None
    packet = SioPacket(packet_type, namespace, data, ack_id)
    _validate(packet)
    return packet, attachments


def _validate(packet: SioPacket) -> None:
    data = packet.data
    match packet.type:
        case SioType.CONNECT:
            ok = data is None or isinstance(data, dict)
        case SioType.DISCONNECT:
            ok = data is None
        case SioType.CONNECT_ERROR:
            ok = isinstance(data, str | dict)
        case SioType.EVENT | SioType.BINARY_EVENT:
            ok = (
                isinstance(data, list)
                and len(data) > 0
                and isinstance(data[0], str)
                and data[0] not in RESERVED_EVENTS
            )
        case SioType.ACK | SioType.BINARY_ACK:
            ok = isinstance(data, list) and packet.id is not None
    if not ok:
        raise ProtocolError(f"invalid {packet.type.name} payload")
    if packet.id is not None and not (packet.is_event or packet.is_ack):
        raise ProtocolError(f"{packet.type.name} cannot carry an ack id")


def _restore_binary(value: Any, attachments: list[bytes]) -> Any:
    if isinstance(value, list):
        return [_restore_binary(item, attachments) for item in value]
    if isinstance(value, dict):
        if value.get("_placeholder") is True and len(value) == 2:
            num = value.get("num")
            if type(num) is not int or not 0 <= num < len(attachments):
                raise ProtocolError("binary placeholder out of range")
            return attachments[num]
        return {key: _restore_binary(item, attachments) for key, item in value.items()}
    return value


@attrs.define
class SioDecoder:
    """Feeds on the Engine.IO MESSAGE payloads of one connection, in order.

    ``feed`` returns a complete packet, or ``None`` while binary attachments are
    still due.
    """

    _pending: SioPacket | None = None
    _expected: int = 0
    _attachments: list[bytes] = attrs.field(factory=list)

    @property
    def awaiting_attachments(self) -> bool:
        return self._pending is not None

    def feed(self, message: str | bytes) -> SioPacket | None:
        if isinstance(message, str):
            if self._pending is not None:
                raise ProtocolError("text packet while binary attachments were due")
            packet, expected = _parse_text(message)
            if expected == 0:
                return self._reassemble(packet, []) if packet.type in _BINARY_TYPES else packet
            self._pending, self._expected = packet, expected
            return None
        if self._pending is None:
            raise ProtocolError("binary attachment without a packet announcing it")
        self._attachments.append(bytes(message))
        if len(self._attachments) < self._expected:
            return None
        packet, attachments = self._pending, self._attachments
        self._pending, self._expected, self._attachments = None, 0, []
        return self._reassemble(packet, attachments)

    @staticmethod
    def _reassemble(packet: SioPacket, attachments: list[bytes]) -> SioPacket:
        try:
            data = _restore_binary(packet.data, attachments)
        except RecursionError:
            raise ProtocolError("binary packet nested too deeply") from None
        return attrs.evolve(packet, data=data)
