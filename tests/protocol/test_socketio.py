"""Socket.IO v5 packets: ``encode_sio``, ``SioDecoder`` and the validation rules."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from hub.protocol import ProtocolError, SioDecoder, SioPacket, SioType, encode_sio
from tests.protocol.helpers import feed_all

CONNECT = SioType.CONNECT
DISCONNECT = SioType.DISCONNECT
EVENT = SioType.EVENT
ACK = SioType.ACK
CONNECT_ERROR = SioType.CONNECT_ERROR
BINARY_EVENT = SioType.BINARY_EVENT
BINARY_ACK = SioType.BINARY_ACK

# The names socket.io-parser refuses as incoming event names (v5).
RESERVED = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
]


def ph(num: Any) -> dict[str, Any]:
    """A binary placeholder as it appears in the packet JSON."""
    return {"_placeholder": True, "num": num}


def js(value: Any) -> str:
    """Compact JSON, the way both the JS parser and orjson write it."""
    return orjson.dumps(value).decode()


def decode(text: str, attachments: list[bytes] | tuple[bytes, ...] = ()) -> SioPacket:
    """Feed one packet's text and attachments to a fresh decoder; return the packet."""
    return feed_all(SioDecoder(), text, attachments)


def encode(packet: SioPacket) -> tuple[str, list[bytes]]:
    text, attachments = encode_sio(packet)
    assert isinstance(text, bytes)
    return text.decode("utf-8"), attachments


SID = "oSO0OpakMV_3jnilAAAA"
BUF = b"\x01\x02\x03"

# (id, wire text, attachments, packet) -- the examples of the Socket.IO v5 protocol spec.
SPEC_EXAMPLES = [
    ("connect-main", "0", [], SioPacket(CONNECT)),
    (
        "connect-admin-auth",
        '0/admin,{"token":"123"}',
        [],
        SioPacket(CONNECT, "/admin", {"token": "123"}),
    ),
    ("connect-reply", '0{"sid":"' + SID + '"}', [], SioPacket(CONNECT, "/", {"sid": SID})),
    (
        "connect-reply-admin",
        '0/admin,{"sid":"' + SID + '"}',
        [],
        SioPacket(CONNECT, "/admin", {"sid": SID}),
    ),
    ("disconnect-main", "1", [], SioPacket(DISCONNECT)),
    ("disconnect-admin", "1/admin,", [], SioPacket(DISCONNECT, "/admin")),
    ("event-main", '2["foo"]', [], SioPacket(EVENT, "/", ["foo"])),
    ("event-admin", '2/admin,["bar"]', [], SioPacket(EVENT, "/admin", ["bar"])),
    ("event-main-ack", '212["foo"]', [], SioPacket(EVENT, "/", ["foo"], 12)),
    (
        "event-admin-ack",
        '2/admin,456["project:delete",123]',
        [],
        SioPacket(EVENT, "/admin", ["project:delete", 123], 456),
    ),
    ("ack-admin", "3/admin,456[]", [], SioPacket(ACK, "/admin", [], 456)),
    ("ack-main", '312["bar",{"ok":true}]', [], SioPacket(ACK, "/", ["bar", {"ok": True}], 12)),
    (
        "connect-error",
        '4{"message":"Not authorized"}',
        [],
        SioPacket(CONNECT_ERROR, "/", {"message": "Not authorized"}),
    ),
    (
        "connect-error-admin-data",
        '4/admin,{"message":"Not authorized","data":{"code":401}}',
        [],
        SioPacket(CONNECT_ERROR, "/admin", {"message": "Not authorized", "data": {"code": 401}}),
    ),
    (
        "binary-event",
        '51-["hello",{"_placeholder":true,"num":0}]',
        [BUF],
        SioPacket(BINARY_EVENT, "/", ["hello", BUF]),
    ),
    (
        "binary-event-admin-ack",
        '51-/admin,456["project:delete",{"_placeholder":true,"num":0}]',
        [BUF],
        SioPacket(BINARY_EVENT, "/admin", ["project:delete", BUF], 456),
    ),
    (
        "binary-ack-admin",
        '61-/admin,456[{"_placeholder":true,"num":0}]',
        [b"\x03\x02\x01"],
        SioPacket(BINARY_ACK, "/admin", [b"\x03\x02\x01"], 456),
    ),
]


@pytest.mark.parametrize(
    ("text", "attachments", "packet"),
    [e[1:] for e in SPEC_EXAMPLES],
    ids=[e[0] for e in SPEC_EXAMPLES],
)
def test_decode_spec_example(text: str, attachments: list[bytes], packet: SioPacket) -> None:
    """Every wire example of the Socket.IO v5 spec decodes to the packet the spec describes."""
    assert decode(text, attachments) == packet


@pytest.mark.parametrize(
    ("text", "attachments", "packet"),
    [e[1:] for e in SPEC_EXAMPLES],
    ids=[e[0] for e in SPEC_EXAMPLES],
)
def test_encode_spec_example(text: str, attachments: list[bytes], packet: SioPacket) -> None:
    """Every packet of the Socket.IO v5 spec examples encodes to exactly the spec's wire text."""
    assert encode(packet) == (text, attachments)


def test_event_with_bytes_is_sent_as_binary_event() -> None:
    """An EVENT whose data holds bytes is encoded as BINARY_EVENT with the bytes lifted out."""
    packet = SioPacket(EVENT, "/admin", ["project:delete", BUF], 456)
    assert encode(packet) == (
        '51-/admin,456["project:delete",{"_placeholder":true,"num":0}]',
        [BUF],
    )


def test_ack_with_bytes_is_sent_as_binary_ack() -> None:
    """An ACK whose data holds bytes is encoded as BINARY_ACK with the bytes lifted out."""
    assert encode(SioPacket(ACK, "/", [b"\x00", "x"], 7)) == (
        '61-7[{"_placeholder":true,"num":0},"x"]',
        [b"\x00"],
    )


def test_encode_numbers_placeholders_in_document_order() -> None:
    """Lifted bytes are numbered 0, 1, 2... in JSON document order, attachments in that order."""
    data = ["x", b"one", {"a": [b"two", {"b": b"three"}], "c": 1}, b"four"]
    text, attachments = encode(SioPacket(EVENT, "/", data))
    assert text.startswith("54-[")
    assert orjson.loads(text[3:]) == ["x", ph(0), {"a": [ph(1), {"b": ph(2)}], "c": 1}, ph(3)]
    assert attachments == [b"one", b"two", b"three", b"four"]


def test_encode_lifts_bytearray_and_memoryview_as_bytes() -> None:
    """bytearray and memoryview values are lifted like bytes, and attachments are plain bytes."""
    _, attachments = encode(SioPacket(EVENT, "/", ["e", bytearray(b"ab"), memoryview(b"cd")]))
    assert attachments == [b"ab", b"cd"]
    assert all(type(a) is bytes for a in attachments)


def test_encode_empty_bytes_is_an_attachment() -> None:
    """Even an empty bytes value becomes a placeholder and an (empty) attachment."""
    text, attachments = encode(SioPacket(EVENT, "/", ["e", b""]))
    assert text == '51-["e",{"_placeholder":true,"num":0}]'
    assert attachments == [b""]
    assert decode(text, attachments).data == ["e", b""]


@pytest.mark.parametrize(
    "packet",
    [
        SioPacket(CONNECT, "/", {"token": b"x"}),
        SioPacket(CONNECT_ERROR, "/", {"message": "no", "data": b"x"}),
    ],
    ids=["connect", "connect-error"],
)
def test_encode_binary_on_non_binary_type_is_refused(packet: SioPacket) -> None:
    """Only EVENT/ACK (and their binary forms) may carry bytes; others raise ValueError."""
    with pytest.raises(ValueError, match="cannot carry binary data"):
        encode_sio(packet)


def test_encode_explicit_binary_type_without_bytes() -> None:
    """A BINARY_EVENT with no bytes is written with an attachment count of 0."""
    assert encode(SioPacket(BINARY_EVENT, "/", ["a"])) == ('50-["a"]', [])


def test_binary_packet_with_zero_attachments_is_complete_at_once() -> None:
    """A text packet announcing 0 attachments is returned straight away, decoder idle."""
    decoder = SioDecoder()
    assert decoder.feed('50-["a",1]') == SioPacket(BINARY_EVENT, "/", ["a", 1])
    assert not decoder.awaiting_attachments


def test_several_attachments_reassembled_in_order() -> None:
    """Attachments fill placeholders by their num, whatever order the placeholders appear in."""
    text = "53-" + js(["up", ph(2), ph(0), {"k": ph(1)}])
    decoder = SioDecoder()
    assert decoder.feed(text) is None
    assert decoder.awaiting_attachments
    assert decoder.feed(b"a") is None
    assert decoder.awaiting_attachments
    assert decoder.feed(b"b") is None
    packet = decoder.feed(b"c")
    assert packet == SioPacket(BINARY_EVENT, "/", ["up", b"c", b"a", {"k": b"b"}])
    assert not decoder.awaiting_attachments


def test_nested_placeholders_are_restored() -> None:
    """Placeholders deep inside lists and objects are replaced; other values are untouched."""
    data = [
        "upload",
        {
            "files": [{"name": "a", "body": ph(0)}, {"name": "b", "body": ph(1)}],
            "meta": {"deep": [[[ph(0)]]], "n": None, "f": 1.5},
        },
    ]
    packet = decode("52-/chat,7" + js(data), [b"AAA", b"BBB"])
    assert packet == SioPacket(
        BINARY_EVENT,
        "/chat",
        [
            "upload",
            {
                "files": [{"name": "a", "body": b"AAA"}, {"name": "b", "body": b"BBB"}],
                "meta": {"deep": [[[b"AAA"]]], "n": None, "f": 1.5},
            },
        ],
        7,
    )


def test_binary_ack_several_attachments() -> None:
    """A BINARY_ACK with several attachments is reassembled into an ack carrying the bytes."""
    packet = decode("63-9" + js([ph(0), {"x": [ph(1), ph(2)]}]), [b"0", b"1", b"2"])
    assert packet == SioPacket(BINARY_ACK, "/", [b"0", {"x": [b"1", b"2"]}], 9)
    assert packet.is_ack
    assert not packet.is_event


def test_attachments_are_converted_to_bytes() -> None:
    """Attachments fed as bytearray or memoryview come back as bytes in the data."""
    packet = decode("52-" + js(["e", ph(0), ph(1)]), [bytearray(b"x"), memoryview(b"y")])  # type: ignore[list-item]
    assert packet.data == ["e", b"x", b"y"]
    assert all(type(v) is bytes for v in packet.data[1:])


def test_decoder_resets_after_a_binary_packet() -> None:
    """After a binary packet completes the same decoder handles text and binary packets again."""
    decoder = SioDecoder()
    assert decoder.feed("51-" + js(["a", ph(0)])) is None
    assert decoder.feed(b"1") == SioPacket(BINARY_EVENT, "/", ["a", b"1"])
    assert decoder.feed('2["b"]') == SioPacket(EVENT, "/", ["b"])
    assert decoder.feed("51-" + js(["c", ph(0)])) is None
    assert decoder.feed(b"2") == SioPacket(BINARY_EVENT, "/", ["c", b"2"])
    assert not decoder.awaiting_attachments


def test_many_attachments_announced_up_to_the_limit() -> None:
    """1000 attachments (the limit) may be announced; the packet completes on the last one."""
    decoder = SioDecoder()
    assert decoder.feed("51000-" + js(["many", ph(999)])) is None
    for i in range(999):
        assert decoder.feed(bytes([i % 256])) is None
    assert decoder.feed(b"last") == SioPacket(BINARY_EVENT, "/", ["many", b"last"])


@pytest.mark.parametrize(
    ("packet", "is_event", "is_ack"),
    [
        (SioPacket(EVENT, data=["a"]), True, False),
        (SioPacket(BINARY_EVENT, data=["a"]), True, False),
        (SioPacket(ACK, data=[], id=1), False, True),
        (SioPacket(BINARY_ACK, data=[], id=1), False, True),
        (SioPacket(CONNECT), False, False),
        (SioPacket(DISCONNECT), False, False),
        (SioPacket(CONNECT_ERROR, data={}), False, False),
    ],
)
def test_is_event_and_is_ack(packet: SioPacket, is_event: bool, is_ack: bool) -> None:
    """is_event / is_ack treat the binary forms like the plain ones and nothing else."""
    assert (packet.is_event, packet.is_ack) == (is_event, is_ack)


@pytest.mark.parametrize(
    ("text", "packet"),
    [
        ("0/admin", SioPacket(CONNECT, "/admin")),
        ("0/admin,", SioPacket(CONNECT, "/admin")),
        ('2/a/b,["x"]', SioPacket(EVENT, "/a/b", ["x"])),
        ('2/,["x"]', SioPacket(EVENT, "/", ["x"])),
        ('2/ünï-cödé 1,0["x"]', SioPacket(EVENT, "/ünï-cödé 1", ["x"], 0)),
        ('2007["x"]', SioPacket(EVENT, "/", ["x"], 7)),
    ],
)
def test_namespace_and_ack_id_parsing(text: str, packet: SioPacket) -> None:
    """Namespaces run from '/' to the first ',' (or the end); ack ids are the digits after."""
    assert decode(text) == packet


def test_largest_ack_id() -> None:
    """A 15-digit ack id is accepted and parsed exactly."""
    assert decode("2" + "9" * 15 + '["a"]').id == 10**15 - 1


# -- validation ---------------------------------------------------------------------------


def refused(text: str, match: str) -> ProtocolError:
    with pytest.raises(ProtocolError, match=match) as info:
        SioDecoder().feed(text)
    assert info.value.reason == str(info.value)
    return info.value


def test_empty_text_refused() -> None:
    """An empty text message is not a Socket.IO packet."""
    refused("", r"^empty socket\.io packet$")


@pytest.mark.parametrize("text", ["7", "9[]", "x", "-1", " 2[]", '\u0662["a"]', "\uff12[]"])
def test_unknown_type_refused(text: str) -> None:
    """A first character that is not an ASCII digit 0-6 is a ProtocolError naming it."""
    error = refused(text, r"^unknown socket\.io packet type")
    assert repr(text[0]) in error.reason


@pytest.mark.parametrize("name", RESERVED)
@pytest.mark.parametrize(
    "template",
    ["2{body}", "2/admin,5{body}", "50-{body}"],
    ids=["event", "event-ns-ack", "binary-event"],
)
def test_reserved_event_names_refused(name: str, template: str) -> None:
    """Event names the client library reserves for itself are refused, binary or not."""
    refused(template.format(body=js([name, 1])), "invalid (BINARY_)?EVENT payload")


@pytest.mark.parametrize("name", ["Connect", "connected", "message", "error", "", "disconnect "])
def test_lookalike_event_names_accepted(name: str) -> None:
    """Only the exact reserved names are refused; near misses are ordinary events."""
    assert decode("2" + js([name])) == SioPacket(EVENT, "/", [name])


def test_reserved_binary_event_refused_before_attachments() -> None:
    """A reserved BINARY_EVENT is refused at its text, so no attachments are awaited."""
    decoder = SioDecoder()
    with pytest.raises(ProtocolError, match="invalid BINARY_EVENT payload"):
        decoder.feed("51-" + js(["disconnect", ph(0)]))
    assert not decoder.awaiting_attachments


@pytest.mark.parametrize("text", ['3["x"]', "3[]", "3/admin,[]", "61-" + js([ph(0)])])
def test_ack_without_id_refused(text: str) -> None:
    """An ACK or BINARY_ACK must carry the id of the emit it answers."""
    refused(text, "invalid (BINARY_)?ACK payload")


@pytest.mark.parametrize(
    "text",
    ["01{}", "01", '0/admin,1{"token":"x"}', "11", "1/admin,3", '47{"message":"x"}'],
)
def test_ack_id_on_connect_disconnect_connect_error_refused(text: str) -> None:
    """CONNECT, DISCONNECT and CONNECT_ERROR cannot carry an ack id."""
    refused(text, "cannot carry an ack id")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("0[]", "CONNECT"),
        ('0"token"', "CONNECT"),
        ("0/admin,true", "CONNECT"),
        ("1{}", "DISCONNECT"),
        ('1/admin,"bye"', "DISCONNECT"),
        ("1[]", "DISCONNECT"),
        ("4", "CONNECT_ERROR"),
        ("4[]", "CONNECT_ERROR"),
        ("4/admin,", "CONNECT_ERROR"),
        ("4null", "CONNECT_ERROR"),
        ("2", "EVENT"),
        ("2[]", "EVENT"),
        ("2[1]", "EVENT"),
        ("2[null]", "EVENT"),
        ('2{"a":1}', "EVENT"),
        ('2"foo"', "EVENT"),
        ("2/admin,", "EVENT"),
        ("212", "EVENT"),
        ("31", "ACK"),
        ("31{}", "ACK"),
        ('31"x"', "ACK"),
        ("50-", "BINARY_EVENT"),
        ("50-[]", "BINARY_EVENT"),
        ("50-{}", "BINARY_EVENT"),
        ("60-1", "BINARY_ACK"),
        ("60-1{}", "BINARY_ACK"),
    ],
)
def test_wrong_payload_shape_refused(text: str, kind: str) -> None:
    """Each type's payload must have its shape (object, none, list led by a name...)."""
    refused(text, f"^invalid {kind} payload$")


@pytest.mark.parametrize(
    ("text", "attachments", "packet"),
    [
        ('4"Not authorized"', [], SioPacket(CONNECT_ERROR, "/", "Not authorized")),
        ("31[]", [], SioPacket(ACK, "/", [], 1)),
        ("60-1[]", [], SioPacket(BINARY_ACK, "/", [], 1)),
        (
            "2" + js(["e", None, {}, [], 1.5, True]),
            [],
            SioPacket(EVENT, "/", ["e", None, {}, [], 1.5, True]),
        ),
    ],
)
def test_permitted_payload_shapes(text: str, attachments: list[bytes], packet: SioPacket) -> None:
    """The looser shapes the rules allow (string CONNECT_ERROR, empty ack list...) decode."""
    assert decode(text, attachments) == packet


@pytest.mark.parametrize(
    "text",
    [
        '5["a"]',
        '5-["a"]',
        '5x-["a"]',
        '51x-["a"]',
        '5+1-["a"]',
        '5 1-["a"]',
        '512345-["a"]',
        '5²-["a"]',
        '5\u0661-["a"]',
        "6-1[]",
        "5",
    ],
)
def test_bad_attachment_count_refused(text: str) -> None:
    """A binary packet needs 1-4 ASCII digits and a '-' right after its type."""
    refused(text, "^bad attachment count$")


@pytest.mark.parametrize("count", [1001, 9999])
def test_too_many_attachments_refused(count: int) -> None:
    """More than 1000 announced attachments is refused before any is buffered."""
    decoder = SioDecoder()
    with pytest.raises(ProtocolError, match="too many attachments"):
        decoder.feed(f"5{count}-" + js(["a"]))
    assert not decoder.awaiting_attachments


def test_ack_id_too_long_refused() -> None:
    """An ack id of 16 digits or more is refused (ids stay below 10**15)."""
    refused("2" + "1" * 16 + '["a"]', "ack id too long")


def test_text_while_attachments_due_refused() -> None:
    """A text packet that arrives before all announced attachments is a ProtocolError."""
    decoder = SioDecoder()
    assert decoder.feed("52-" + js(["a", ph(0), ph(1)])) is None
    assert decoder.feed(b"first") is None
    with pytest.raises(ProtocolError, match="text packet while binary attachments were due"):
        decoder.feed('2["b"]')


@pytest.mark.parametrize(
    "before",
    [[], ['2["a"]'], ["51-" + js(["a", ph(0)]), b"x"]],
    ids=["fresh", "after-text-packet", "after-binary-packet"],
)
def test_binary_without_announcement_refused(before: list[str | bytes]) -> None:
    """A binary message with no binary packet awaiting it is a ProtocolError."""
    decoder = SioDecoder()
    for message in before:
        decoder.feed(message)
    assert not decoder.awaiting_attachments
    with pytest.raises(ProtocolError, match="binary attachment without a packet announcing it"):
        decoder.feed(b"\x00")


@pytest.mark.parametrize(
    ("count", "placeholder"),
    [
        (1, ph(1)),
        (1, ph(-1)),
        (1, ph("0")),
        (1, ph(True)),
        (1, ph(0.0)),
        (1, ph(None)),
        (1, ph([0])),
        (1, {"_placeholder": True, "nm": 0}),
        (0, ph(0)),
        (3, ph(3)),
    ],
)
def test_placeholder_out_of_range_refused(count: int, placeholder: dict[str, Any]) -> None:
    """A placeholder whose num is not an int index into the attachments is a ProtocolError."""
    decoder = SioDecoder()
    text = f"5{count}-" + js(["a", {"deep": [placeholder]}])
    with pytest.raises(ProtocolError, match="binary placeholder out of range"):
        result = decoder.feed(text)
        for _ in range(count):
            assert result is None
            result = decoder.feed(b"x")
    assert not decoder.awaiting_attachments


@pytest.mark.parametrize(
    "lookalike",
    [
        {"_placeholder": True, "num": 0, "extra": 1},
        {"_placeholder": 1, "num": 0},
        {"_placeholder": False, "num": 0},
        {"_placeholder": "true", "num": 0},
        {"num": 0},
        {"_placeholder": True},
    ],
)
def test_placeholder_lookalikes_are_left_alone(lookalike: dict[str, Any]) -> None:
    """Only {"_placeholder": true, "num": i} with exactly those two keys is replaced."""
    packet = decode("51-" + js(["a", lookalike, ph(0)]), [b"x"])
    assert packet.data == ["a", lookalike, b"x"]


def test_placeholder_in_non_binary_event_is_plain_data() -> None:
    """A plain EVENT is never reassembled: a placeholder-shaped object stays an object."""
    assert decode("2" + js(["a", ph(0)])).data == ["a", ph(0)]


@pytest.mark.parametrize(
    "text",
    [
        '2["a"',
        "2['a']",
        '2["a"]x',
        "2[NaN]",
        "2[1e400]",
        '2["a",]',
        '2["\\ud800"]',
        '2["\ud800"]',
        '0{"a":1,}',
        '4{"message"}',
        '2["a"] [1]',
    ],
)
def test_invalid_json_refused(text: str) -> None:
    """A payload that is not exactly one valid JSON value is a ProtocolError, not a crash."""
    refused(text, "^invalid JSON payload")


def nested(depth: int, leaf: Any) -> str:
    return "[" * depth + js(leaf) + "]" * depth


@pytest.mark.parametrize("prefix", ["2", "51-"])
def test_json_nested_beyond_limit_refused(prefix: str) -> None:
    """JSON nested thousands deep is refused by the parser, text or binary."""
    refused(prefix + '["a",' + nested(5000, ph(0)) + "]", "^invalid JSON payload")


def test_binary_nested_too_deep_to_reassemble_refused() -> None:
    """A binary packet too deep for reassembly gives ProtocolError, never RecursionError."""
    decoder = SioDecoder()
    assert decoder.feed('51-["a",' + nested(1000, ph(0)) + "]") is None
    with pytest.raises(ProtocolError, match="nested too deeply"):
        decoder.feed(b"x")
    assert not decoder.awaiting_attachments


def test_binary_moderately_nested_is_reassembled() -> None:
    """A binary packet nested 100 deep is reassembled normally."""
    packet = decode('51-["a",' + nested(100, ph(0)) + "]", [b"x"])
    value = packet.data[1]
    for _ in range(100):
        assert isinstance(value, list)
        assert len(value) == 1
        value = value[0]
    assert value == b"x"


def test_decoder_state_untouched_by_refused_text() -> None:
    """A refused text packet leaves the decoder idle and ready for the next packet."""
    decoder = SioDecoder()
    with pytest.raises(ProtocolError):
        decoder.feed("51-" + js(["connect", ph(0)]))
    assert not decoder.awaiting_attachments
    assert decoder.feed('2["ok"]') == SioPacket(EVENT, "/", ["ok"])
