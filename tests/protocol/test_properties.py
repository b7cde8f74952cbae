"""Hypothesis properties of the codecs: Socket.IO round trip, and fuzzing the decoders."""

from __future__ import annotations

from typing import Any

import attrs
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.protocol import (
    EioPacket,
    EioType,
    ProtocolError,
    SioDecoder,
    SioPacket,
    SioType,
    decode_eio,
    encode_eio,
    encode_sio,
)
from tests.protocol.helpers import feed_all

RESERVED = {
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
}

ROUND_TRIP = settings(max_examples=300, deadline=None)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- strategies ---------------------------------------------------------------------------


def looks_like_placeholder(value: dict[str, Any]) -> bool:
    """What SioDecoder would replace with an attachment."""
    return value.get("_placeholder") is True and len(value) == 2


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
keys = st.text(max_size=8) | st.sampled_from(["_placeholder", "num"])


def json_values(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(keys, children, max_size=4).filter(
                lambda d: not looks_like_placeholder(d)
            )
        ),
        max_leaves=12,
    )


json_plain = json_values(json_scalars)
json_with_bytes = json_values(json_scalars | st.binary(max_size=16))
json_objects = st.dictionaries(keys, json_plain, max_size=4).filter(
    lambda d: not looks_like_placeholder(d)
)

namespaces = st.just("/") | st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters=","), max_size=10
).map(lambda s: "/" + s)
ack_ids = st.integers(min_value=0, max_value=10**15 - 1)
event_names = st.text(max_size=12).filter(lambda s: s not in RESERVED) | st.sampled_from(
    ["message", "chat:send", "0", "-", "/x,"]
)
event_data = st.builds(
    lambda name, args: [name, *args], event_names, st.lists(json_with_bytes, max_size=4)
)

normal_packets = st.one_of(
    st.builds(SioPacket, st.just(SioType.EVENT), namespaces, event_data, st.none() | ack_ids),
    st.builds(
        SioPacket, st.just(SioType.ACK), namespaces, st.lists(json_with_bytes, max_size=4), ack_ids
    ),
    st.builds(SioPacket, st.just(SioType.CONNECT), namespaces, st.none() | json_objects),
    st.builds(SioPacket, st.just(SioType.DISCONNECT), namespaces),
    st.builds(
        SioPacket, st.just(SioType.CONNECT_ERROR), namespaces, json_objects | st.text(max_size=12)
    ),
)


def count_bytes(value: Any) -> int:
    if isinstance(value, bytes):
        return 1
    if isinstance(value, list):
        return sum(count_bytes(v) for v in value)
    if isinstance(value, dict):
        return sum(count_bytes(v) for v in value.values())
    return 0


def normalised(packet: SioPacket) -> SioPacket:
    """What the wire gives back: EVENT/ACK holding bytes become BINARY_EVENT/BINARY_ACK."""
    if count_bytes(packet.data):
        if packet.type is SioType.EVENT:
            return attrs.evolve(packet, type=SioType.BINARY_EVENT)
        if packet.type is SioType.ACK:
            return attrs.evolve(packet, type=SioType.BINARY_ACK)
    return packet


def assert_strictly_equal(got: Any, want: Any) -> None:
    """==, but also the same types all the way down (so True != 1, 1.0 != 1, b'' != '')."""
    assert type(got) is type(want), (got, want)
    if isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert_strictly_equal(g, w)
    elif isinstance(want, dict):
        assert list(got) == list(want)
        for key in want:
            assert_strictly_equal(got[key], want[key])
    elif isinstance(want, float) and want == 0:
        assert str(got) == str(want)  # keeps the sign of zero
    else:
        assert got == want


def feed_packet(decoder: SioDecoder, packet: SioPacket) -> SioPacket:
    text, attachments = encode_sio(packet)
    return feed_all(decoder, text.decode("utf-8"), attachments)


# -- round trip ---------------------------------------------------------------------------


@ROUND_TRIP
@given(normal_packets)
def test_sio_round_trip(packet: SioPacket) -> None:
    """encode_sio then a fresh SioDecoder gives back the (normalised) packet, types intact."""
    want = normalised(packet)
    got = feed_packet(SioDecoder(), packet)
    assert got == want
    assert got.type is want.type
    assert got.namespace == want.namespace
    assert got.id == want.id
    assert_strictly_equal(got.data, want.data)


@settings(ROUND_TRIP, max_examples=150)
@given(normal_packets)
def test_sio_attachment_count_matches_bytes_values(packet: SioPacket) -> None:
    """One attachment per bytes value, announced in the header of binary packets only."""
    text, attachments = encode_sio(packet)
    n = count_bytes(packet.data)
    assert len(attachments) == n
    if n:
        assert text.startswith(f"{normalised(packet).type.value}{n}-".encode())
    else:
        assert text[:1] == str(packet.type.value).encode()
        assert not text[1:].startswith(b"0-")


@settings(max_examples=100, deadline=None)
@given(st.lists(normal_packets, min_size=1, max_size=6))
def test_sio_stream_round_trip(packets: list[SioPacket]) -> None:
    """One decoder fed a stream of encoded packets returns each packet in turn."""
    decoder = SioDecoder()
    for packet in packets:
        assert feed_packet(decoder, packet) == normalised(packet)


@ROUND_TRIP
@given(
    st.sampled_from(list(EioType)),
    st.text(),
)
def test_eio_text_round_trip(packet_type: EioType, data: str) -> None:
    """Any text Engine.IO packet survives encode_eio then decode_eio."""
    packet = EioPacket(packet_type, data)
    assert decode_eio(encode_eio(packet)) == packet


@ROUND_TRIP
@given(st.binary())
def test_eio_binary_round_trip(data: bytes) -> None:
    """Any binary MESSAGE survives encode_eio then decode_eio as the same bytes."""
    packet = EioPacket(EioType.MESSAGE, data)
    assert encode_eio(packet) == data
    assert decode_eio(data) == packet


# -- fuzz ---------------------------------------------------------------------------------

placeholders_anywhere = json_values(
    json_scalars
    | st.builds(
        lambda num: {"_placeholder": True, "num": num},
        st.integers(0, 3) | st.integers(-2, 1000) | st.booleans() | st.text(max_size=2) | st.none(),
    )
)
fuzz_payloads = st.one_of(
    st.builds(
        lambda name, args: [name, *args],
        st.sampled_from(["e", "connect", "message"]) | st.text(max_size=3) | st.integers(-5, 5),
        st.lists(placeholders_anywhere, max_size=3),
    ),
    placeholders_anywhere,
    json_objects,
)


@st.composite
def sio_like_text(draw: st.DrawFn) -> str:
    """Text shaped like a Socket.IO packet, to reach deep into the parser."""
    parts = [draw(st.sampled_from("012345656x"))]
    if draw(st.booleans()):
        count = ["0", "1", "1", "2", "3", "0003", "1000", "1001", "99999", "x", "²", ""]
        parts.append(draw(st.sampled_from(count)))
        parts.append(draw(st.sampled_from(["-", "-", "-", "", "--"])))
    if draw(st.booleans()):
        parts.append("/" + draw(st.text(max_size=5)) + draw(st.sampled_from([",", ",", ""])))
    if draw(st.booleans()):
        parts.append(str(draw(st.integers(0, 20) | st.integers(0, 10**17))))
    if draw(st.integers(0, 3)):
        parts.append(orjson.dumps(draw(fuzz_payloads)).decode())
    if not draw(st.integers(0, 5)):
        parts.append(draw(st.text(max_size=6)))
    return "".join(parts)


@st.composite
def binary_burst(draw: st.DrawFn) -> list[str | bytes]:
    """A binary packet's text then about as many attachments as it announces."""
    count = draw(st.integers(0, 3))
    placeholder = st.builds(lambda num: {"_placeholder": True, "num": num}, st.integers(-1, count))
    args = draw(st.lists(json_values(json_scalars | placeholder), max_size=3))
    kind = draw(st.sampled_from("56"))
    if kind == "5" or draw(st.booleans()):
        args = [draw(st.sampled_from(["e", "connect", "message"])), *args]
    namespace = draw(st.sampled_from(["", "/chat,"]))
    ack = draw(st.sampled_from(["", "1", "42"]))
    text = f"{kind}{count}-{namespace}{ack}" + orjson.dumps(args).decode()
    lo = max(0, count - 1)
    attachments = draw(st.lists(st.binary(max_size=4), min_size=lo, max_size=count + 1))
    return [text, *attachments]


def flatten(chunks: list[list[str | bytes]]) -> list[str | bytes]:
    return [message for chunk in chunks for message in chunk]


def check_decoded(packet: SioPacket) -> None:
    """Invariants of anything the decoder lets through."""
    assert isinstance(packet.type, SioType)
    assert packet.namespace.startswith("/")
    assert "," not in packet.namespace
    assert packet.id is None or 0 <= packet.id < 10**15
    if packet.is_event:
        assert packet.data[0] not in RESERVED
    if packet.is_ack:
        assert packet.id is not None
    if packet.type in (SioType.BINARY_EVENT, SioType.BINARY_ACK):

        def no_placeholders(value: Any) -> None:
            if isinstance(value, list):
                for item in value:
                    no_placeholders(item)
            elif isinstance(value, dict):
                assert not looks_like_placeholder(value)
                for item in value.values():
                    no_placeholders(item)

        no_placeholders(packet.data)
    # What the hub accepted it must be able to send on (e.g. relay to a room).
    assert feed_packet(SioDecoder(), packet) == packet


def feed_checked(decoder: SioDecoder, message: str | bytes) -> None:
    try:
        result = decoder.feed(message)
    except ProtocolError as exc:
        assert exc.reason
        return
    if result is not None:
        check_decoded(result)


@FUZZ
@given(sio_like_text() | st.text())
def test_fuzz_sio_text(message: str) -> None:
    """Arbitrary text fed to SioDecoder gives a valid packet, None, or ProtocolError only."""
    feed_checked(SioDecoder(), message)


@FUZZ
@given(st.binary())
def test_fuzz_sio_bytes_on_fresh_decoder(message: bytes) -> None:
    """Arbitrary bytes on a fresh SioDecoder are always a ProtocolError (nothing announced)."""
    decoder = SioDecoder()
    try:
        decoder.feed(message)
    except ProtocolError as exc:
        assert "without a packet announcing it" in exc.reason
    else:
        raise AssertionError("bytes accepted with no binary packet pending")


@settings(FUZZ, max_examples=200)
@given(
    st.lists(
        binary_burst()
        | (sio_like_text() | st.binary(max_size=8) | st.text(max_size=20)).map(lambda m: [m]),
        max_size=8,
    ).map(flatten)
)
def test_fuzz_sio_mixed_stream(messages: list[str | bytes]) -> None:
    """A stream mixing text and bytes, even after errors, raises nothing but ProtocolError."""
    decoder = SioDecoder()
    for message in messages:
        feed_checked(decoder, message)


@FUZZ
@given(sio_like_text() | st.text() | st.binary())
def test_fuzz_eio(message: str | bytes) -> None:
    """decode_eio on arbitrary text or bytes returns a packet that re-encodes, or ProtocolError."""
    try:
        packet = decode_eio(message)
    except ProtocolError as exc:
        assert isinstance(message, str)
        assert exc.reason
        return
    assert encode_eio(packet) == message
