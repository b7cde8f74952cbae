"""Engine.IO v4 packets over WebSocket: ``decode_eio``, ``encode_eio``, ``encode_open``."""

from __future__ import annotations

import orjson
import pytest

from hub.protocol import EioPacket, EioType, ProtocolError, decode_eio, encode_eio, encode_open

ALL_TYPES = list(EioType)


def test_packet_type_digits_match_the_spec() -> None:
    """The seven Engine.IO v4 packet types carry the digits 0..6 the spec assigns them."""
    assert {t.name: t.value for t in EioType} == {
        "OPEN": 0,
        "CLOSE": 1,
        "PING": 2,
        "PONG": 3,
        "MESSAGE": 4,
        "UPGRADE": 5,
        "NOOP": 6,
    }


@pytest.mark.parametrize("packet_type", ALL_TYPES, ids=lambda t: t.name)
def test_decode_each_type_without_data(packet_type: EioType) -> None:
    """A bare type digit decodes to that packet type with empty text data."""
    packet = decode_eio(str(packet_type.value))
    assert packet == EioPacket(packet_type, "")
    assert packet.type is packet_type


@pytest.mark.parametrize("packet_type", ALL_TYPES, ids=lambda t: t.name)
def test_decode_each_type_with_data(packet_type: EioType) -> None:
    """Everything after the type digit is the packet's text data, verbatim."""
    assert decode_eio(f"{packet_type.value}probe") == EioPacket(packet_type, "probe")


@pytest.mark.parametrize("packet_type", ALL_TYPES, ids=lambda t: t.name)
def test_encode_each_type(packet_type: EioType) -> None:
    """A text packet encodes to its type digit followed by its data."""
    assert encode_eio(EioPacket(packet_type, "probe")) == f"{packet_type.value}probe"
    assert encode_eio(EioPacket(packet_type)) == str(packet_type.value)


@pytest.mark.parametrize("packet_type", ALL_TYPES, ids=lambda t: t.name)
def test_text_round_trip_each_type(packet_type: EioType) -> None:
    """decode_eio(encode_eio(p)) == p for text packets of every type."""
    packet = EioPacket(packet_type, '2["héllo",{"a":1}] ☃')
    assert decode_eio(encode_eio(packet)) == packet


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("2probe", EioPacket(EioType.PING, "probe")),
        ("3probe", EioPacket(EioType.PONG, "probe")),
        ("5", EioPacket(EioType.UPGRADE, "")),
        ("6", EioPacket(EioType.NOOP, "")),
        ('40{"sid":"x"}', EioPacket(EioType.MESSAGE, '0{"sid":"x"}')),
        ("44", EioPacket(EioType.MESSAGE, "4")),
        ("4", EioPacket(EioType.MESSAGE, "")),
    ],
)
def test_decode_spec_examples(message: str, expected: EioPacket) -> None:
    """Messages from the Engine.IO v4 spec decode to the packets it describes."""
    assert decode_eio(message) == expected


@pytest.mark.parametrize(
    "message",
    [b"\x01\x02\x03", b"", b"4hello", bytearray(b"\xff\x00"), memoryview(b"abc")],
    ids=["bytes", "empty", "text-looking", "bytearray", "memoryview"],
)
def test_binary_message_is_a_raw_message_packet(message: bytes | bytearray | memoryview) -> None:
    """Any binary WebSocket message is a MESSAGE whose data is exactly its bytes (as bytes)."""
    packet = decode_eio(message)
    assert packet.type is EioType.MESSAGE
    assert type(packet.data) is bytes
    assert packet.data == bytes(message)


def test_encode_binary_message_is_raw_bytes() -> None:
    """A MESSAGE with bytes data encodes to those bytes, with no type prefix."""
    encoded = encode_eio(EioPacket(EioType.MESSAGE, b"\x01\x02\x03"))
    assert encoded == b"\x01\x02\x03"
    assert isinstance(encoded, bytes)


def test_binary_round_trip() -> None:
    """Binary MESSAGE packets survive encode then decode unchanged."""
    packet = EioPacket(EioType.MESSAGE, bytes(range(256)))
    assert decode_eio(encode_eio(packet)) == packet


@pytest.mark.parametrize(
    "packet_type", [t for t in EioType if t is not EioType.MESSAGE], ids=lambda t: t.name
)
def test_encode_binary_data_on_non_message_is_refused(packet_type: EioType) -> None:
    """Only MESSAGE packets may carry bytes; encoding any other with bytes is a ValueError."""
    with pytest.raises(ValueError, match="only MESSAGE"):
        encode_eio(EioPacket(packet_type, b"x"))


def test_open_packet_fields() -> None:
    """OPEN is '0' + JSON with sid, upgrades, pingInterval, pingTimeout and maxPayload."""
    text = encode_open(
        "lv_VI97HAXpY6yYWAAAC",
        ping_interval_ms=25000,
        ping_timeout_ms=20000,
        max_payload=1_000_000,
        upgrades=("websocket",),
    )
    assert text[0] == "0"
    assert orjson.loads(text[1:]) == {
        "sid": "lv_VI97HAXpY6yYWAAAC",
        "upgrades": ["websocket"],
        "pingInterval": 25000,
        "pingTimeout": 20000,
        "maxPayload": 1000000,
    }


def test_open_packet_defaults_to_no_upgrades() -> None:
    """Without upgrades the OPEN packet advertises an empty list (a WebSocket-only session)."""
    text = encode_open("abc", ping_interval_ms=1, ping_timeout_ms=2, max_payload=3)
    fields = orjson.loads(text[1:])
    assert fields["upgrades"] == []
    assert (fields["pingInterval"], fields["pingTimeout"], fields["maxPayload"]) == (1, 2, 3)


def test_open_packet_decodes_as_open() -> None:
    """encode_open's output is itself a valid Engine.IO message of type OPEN."""
    text = encode_open("s", ping_interval_ms=10, ping_timeout_ms=5, max_payload=99)
    packet = decode_eio(text)
    assert packet.type is EioType.OPEN
    assert orjson.loads(packet.data)["sid"] == "s"


def test_open_packet_escapes_the_sid() -> None:
    """A sid with JSON-special characters is escaped, so the handshake stays valid JSON."""
    sid = 'a"b\\c\n☃'
    text = encode_open(sid, ping_interval_ms=1, ping_timeout_ms=1, max_payload=1)
    assert orjson.loads(text[1:])["sid"] == sid


def test_empty_message_is_a_protocol_error() -> None:
    """An empty text message is not a packet."""
    with pytest.raises(ProtocolError, match="empty") as info:
        decode_eio("")
    assert info.value.reason == str(info.value)
    assert "empty" in info.value.reason


@pytest.mark.parametrize(
    "message", ["7", "9hello", "bAQID", "x", "-1", " 4", "\u0664hello", "\uff14"]
)
def test_unknown_type_is_a_protocol_error(message: str) -> None:
    """A text message whose first character is not an ASCII digit 0-6 is refused."""
    with pytest.raises(ProtocolError, match=r"unknown engine\.io packet type") as info:
        decode_eio(message)
    assert repr(message[0]) in info.value.reason


@pytest.mark.parametrize("message", [None, 4, 4.0, ["4hello"], {"type": 4}, object()])
def test_non_text_non_bytes_is_a_protocol_error(message: object) -> None:
    """Anything that is neither str nor bytes-like raises ProtocolError, not TypeError."""
    with pytest.raises(ProtocolError) as info:
        decode_eio(message)  # type: ignore[arg-type]
    assert "neither text nor bytes" in info.value.reason
