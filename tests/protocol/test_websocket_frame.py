"""``ws_frame``: unmasked server frames, checked by parsing them as wsproto's client does."""

from __future__ import annotations

import struct

import pytest
import wsproto
from hypothesis import given, settings
from hypothesis import strategies as st
from wsproto import ConnectionType
from wsproto.events import AcceptConnection, BytesMessage, Request, TextMessage
from wsproto.frame_protocol import FrameProtocol, Opcode

from hub.protocol import ws_frame

SIZES = [0, 1, 125, 126, 127, 65535, 65536, 100000]


def payload_of(size: int) -> bytes:
    """size bytes of printable ASCII (so valid UTF-8 for text frames too)."""
    return bytes(33 + i % 94 for i in range(size))


def parse_frames(
    data: bytes, chunk: int | None = None
) -> list[tuple[Opcode | None, bytes | str, bool]]:
    """Feed data to a wsproto client-side frame parser; return (opcode, payload, finished)."""
    protocol = FrameProtocol(client=True, extensions=[])
    frames = []
    step = chunk or max(len(data), 1)
    for start in range(0, max(len(data), 1), step):
        protocol.receive_bytes(data[start : start + step])
        frames.extend(protocol.received_frames())
    return [(f.opcode, f.payload, f.message_finished) for f in frames]


def client_connection() -> wsproto.WSConnection:
    """A wsproto client that has completed its opening handshake with a wsproto server."""
    client = wsproto.WSConnection(ConnectionType.CLIENT)
    server = wsproto.WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(Request(host="example.com", target="/socket.io/?EIO=4")))
    assert isinstance(next(server.events()), Request)
    client.receive_data(server.send(AcceptConnection()))
    assert isinstance(next(client.events()), AcceptConnection)
    return client


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_frame_parsed_by_wsproto_frame_protocol(size: int, binary: bool) -> None:
    """wsproto's client parser reads one final frame with the right opcode and payload."""
    payload = payload_of(size)
    frames = parse_frames(ws_frame(payload, binary=binary))
    want = payload if binary else payload.decode()
    assert frames == [(Opcode.BINARY if binary else Opcode.TEXT, want, True)]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_frame_received_by_wsproto_client_connection(size: int, binary: bool) -> None:
    """After a real handshake a wsproto client gets one complete Text/BytesMessage."""
    client = client_connection()
    payload = payload_of(size)
    client.receive_data(ws_frame(payload, binary=binary))
    events = list(client.events())
    assert len(events) == 1
    event = events[0]
    if binary:
        assert isinstance(event, BytesMessage)
        assert event.data == payload
    else:
        assert isinstance(event, TextMessage)
        assert event.data == payload.decode()
    assert event.frame_finished
    assert event.message_finished


@pytest.mark.parametrize(
    ("size", "header"),
    [
        (0, b"\x81\x00"),
        (125, b"\x81\x7d"),
        (126, b"\x81\x7e\x00\x7e"),
        (65535, b"\x81\x7e\xff\xff"),
        (65536, b"\x81\x7f" + struct.pack("!Q", 65536)),
        (100000, b"\x81\x7f" + struct.pack("!Q", 100000)),
    ],
)
def test_header_uses_the_shortest_length_encoding(size: int, header: bytes) -> None:
    """FIN set, no mask bit, 7-bit / 16-bit / 64-bit length exactly at RFC 6455's boundaries."""
    payload = payload_of(size)
    assert ws_frame(payload) == header + payload


def test_binary_opcode() -> None:
    """binary=True sets opcode 0x2 with FIN; the default is text, opcode 0x1."""
    assert ws_frame(b"ab", binary=True) == b"\x82\x02ab"
    assert ws_frame(b"ab") == b"\x81\x02ab"


def test_non_ascii_text() -> None:
    """A UTF-8 payload with multi-byte characters arrives as the same text."""
    text = '42["chat","héllo ☃ 😀"]'
    assert parse_frames(ws_frame(text.encode())) == [(Opcode.TEXT, text, True)]


def test_frames_back_to_back_are_separate_messages() -> None:
    """Concatenated frames (a packet and its attachments) parse as consecutive messages."""
    client = client_connection()
    text = b'451-["e",{"_placeholder":true,"num":0}]'
    client.receive_data(ws_frame(text) + ws_frame(b"\x00" * 200, binary=True) + ws_frame(b"3"))
    events = list(client.events())
    assert [type(e) for e in events] == [TextMessage, BytesMessage, TextMessage]
    assert [e.data for e in events] == [text.decode(), b"\x00" * 200, "3"]


sizes_near_boundaries = st.sampled_from(SIZES) | st.integers(0, 300) | st.integers(65500, 65600)


@settings(max_examples=60, deadline=None)
@given(sizes_near_boundaries, st.binary(min_size=1, max_size=16), st.integers(1, 70000))
def test_binary_round_trip(size: int, seed: bytes, chunk: int) -> None:
    """Any binary payload, delivered in any chunking, is reassembled by wsproto unchanged."""
    payload = (seed * (size // len(seed) + 1))[:size]
    frames = parse_frames(ws_frame(payload, binary=True), chunk=chunk)
    assert [opcode for opcode, _, _ in frames] == [Opcode.BINARY] * len(frames)
    assert b"".join(p for _, p, _ in frames) == payload  # type: ignore[misc]
    assert [finished for _, _, finished in frames] == [False] * (len(frames) - 1) + [True]


@settings(max_examples=100, deadline=None)
@given(st.text(), st.integers(1, 64))
def test_text_round_trip(text: str, chunk: int) -> None:
    """Any text, UTF-8 encoded and framed, is read back by wsproto as the same text."""
    frames = parse_frames(ws_frame(text.encode()), chunk=chunk)
    assert [opcode for opcode, _, _ in frames] == [Opcode.TEXT] * len(frames)
    assert "".join(p for _, p, _ in frames) == text  # type: ignore[misc]
    assert [finished for _, _, finished in frames] == [False] * (len(frames) - 1) + [True]
