"""The client's sans-IO parts, without sockets: backoff, unpacking and dedupe of user
events, the polling payload, the handshake, settings and URLs."""

from __future__ import annotations

import random

import pytest
from hub_client import Backoff, Client, ClientOptions
from hub_client.channel import ChannelState
from hub_client.codec import ack_args, ack_value, encode_payload, parse_open, refusal
from hub_client.options import parse_url
from hub_client.userevents import BATCH_EVENT, Delivery, SeenIds, unpack

from hub.errors import ProtocolError
from hub.protocol.engineio import EioPacket, EioType, decode_payload


def test_backoff_doubles_up_to_its_maximum_with_jitter_below() -> None:
    backoff = Backoff(1.0, 5.0, jitter=0.5, rng=random.Random(7))
    assert [backoff.ceiling(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    for attempt in range(1, 50):
        low, high = backoff.bounds(attempt)
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert all(low <= d <= high for d in delays)
        assert max(delays) - min(delays) > (high - low) / 2  # the jitter is used
    assert Backoff(0.2, 0.8, jitter=0).delay(3) == 0.8
    assert Backoff().ceiling(10_000) == 5.0  # no overflow
    with pytest.raises(ValueError):
        Backoff(2.0, 1.0)
    with pytest.raises(ValueError):
        Backoff(jitter=1.5)


def test_unpack_user_events_and_batches() -> None:
    assert unpack("job", [{"a": 1}, {"id": "b-1"}]) == [Delivery("job", ({"a": 1},), "b-1")]
    assert unpack("plain", [1, 2]) == [Delivery("plain", (1, 2))]
    assert unpack("plain", [1, {"id": 5}]) == [Delivery("plain", (1, {"id": 5}))]
    assert unpack("plain", [1, {"id": "x", "more": 1}]) == [
        Delivery("plain", (1, {"id": "x", "more": 1}))
    ]
    batch = [{"event": "a", "data": 1, "id": "b-2"}, {"event": "b", "data": None, "id": "b-3"}]
    assert unpack(BATCH_EVENT, [batch]) == [
        Delivery("a", (1,), "b-2"),
        Delivery("b", (None,), "b-3"),
    ]
    assert unpack(BATCH_EVENT, [[{"data": 1}]]) is None
    assert unpack(BATCH_EVENT, ["nope"]) is None


def test_seen_ids_remember_a_bounded_window() -> None:
    seen = SeenIds(3)
    assert [seen.first_time(i) for i in ("a", "b", "a", "c", "d")] == [
        True,
        True,
        False,
        True,
        True,
    ]
    assert len(seen) == 3 and "b" not in seen and seen.first_time("b")
    assert SeenIds(0).first_time("x") and SeenIds(0).first_time("x")


def test_offsets_are_taken_off_only_with_recovery() -> None:
    channel = ChannelState("/")
    assert channel.take_offset(["data", "1-2"], None) == ["data", "1-2"]
    channel.pid = "p"
    assert channel.take_offset(["data", "1-2"], None) == ["data"]
    assert channel.offset == "1-2"
    assert channel.take_offset(["data", "1-3"], 4) == ["data", "1-3"]  # acked: not stored
    assert channel.connect_payload({"token": "t"}) == {"token": "t", "pid": "p", "offset": "1-2"}


def test_polling_payload_and_handshake() -> None:
    packets = [
        EioPacket(EioType.MESSAGE, '2["a",1]'),
        EioPacket(EioType.MESSAGE, b"\x00\xff"),
        EioPacket(EioType.PONG),
    ]
    assert decode_payload(encode_payload(packets)) == packets
    opened = parse_open(
        EioPacket(EioType.OPEN, '{"sid":"s","pingInterval":25000,"pingTimeout":20000}')
    )
    assert (opened.sid, opened.silence_limit, opened.max_payload) == ("s", 45.0, 1_000_000)
    with pytest.raises(ProtocolError):
        parse_open(EioPacket(EioType.OPEN, '{"sid":"s","pingInterval":"x","pingTimeout":1}'))
    assert ack_args(None) == [] and ack_args((1, 2)) == [1, 2] and ack_args([1]) == [[1]]
    assert ack_value([]) is None and ack_value([1]) == 1 and ack_value([1, 2]) == (1, 2)
    assert refusal({"message": "no", "data": {"r": 1}}) == ("no", {"r": 1})
    assert refusal("plain") == ("plain", None)


def test_settings_and_urls() -> None:
    options = ClientOptions()
    assert (options.reconnect_delay, options.reconnect_delay_max) == (1.0, 5.0)
    assert options.transports == ("websocket", "polling") and options.namespaces == ("/",)
    assert ClientOptions(transports="polling").transports == ("polling",)
    for bad in (
        {"transports": ("carrier pigeon",)},
        {"namespaces": ("chat",)},
        {"reconnect_delay": 0},
        {"reconnect_delay": 3.0, "reconnect_delay_max": 2.0},
        {"reconnect_jitter": 2},
        {"offline_queue": -1},
        {"reconnect_attempts": 1.5},
    ):
        with pytest.raises(ValueError):
            ClientOptions(**bad)
    endpoint = parse_url("https://example.com/ignored", "engine")
    assert (endpoint.port, endpoint.tls, endpoint.path) == (443, True, "/engine/")
    assert endpoint.target("polling", "s1") == "/engine/?EIO=4&transport=polling&sid=s1"
    assert parse_url("ws://127.0.0.1:8765", "/socket.io/").host_header == "127.0.0.1:8765"
    with pytest.raises(ValueError):
        parse_url("ftp://x", "/socket.io/")
    client = Client("http://127.0.0.1:1", namespaces=["/a", "/b"])
    assert client.of("/b").namespace == "/b" and client.namespace == "/a"
    with pytest.raises(KeyError):
        client.of("/c")
    with pytest.raises(ValueError):
        client.on("", print)
    with pytest.raises(TypeError):
        client.on(int, print)  # not a typed event class
