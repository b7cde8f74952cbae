"""Engine.IO long-polling over real sockets: the session, its packets and every refusal."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import trio
import trio.testing

from hub import Hub, Session
from hub.testing import open_test_client, wait_until
from tests.conftest import StartHub
from tests.polling.conftest import OpenHttp, OpenPoller
from tests.polling.wire import ENGINE, Poller


def echo_hub(**settings: Any) -> Hub:
    hub = Hub(**settings)
    root = hub.namespace("/")

    @root.on("echo")
    async def echo(session: Session, *args: Any) -> tuple[Any, ...]:
        return args

    @root.on("join")
    async def join(session: Session, room: str) -> bool:
        session.enter(room)
        return True

    return hub


async def waiting_get(nursery: trio.Nursery, poller: Poller) -> list[list[str | bytes]]:
    """Start a GET and let it reach the hub; its packets land in the returned list."""
    got: list[list[str | bytes]] = []

    async def poll() -> None:
        got.append(await poller.get())

    nursery.start_soon(poll)
    await trio.testing.wait_all_tasks_blocked()
    return got


async def test_handshake_offers_the_websocket_upgrade(
    start_hub: StartHub, open_http: OpenHttp
) -> None:
    _, port = await start_hub(echo_hub(ping_interval=7, max_payload=5000))
    http = await open_http(port)
    reply = await http.request("GET", ENGINE)
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/plain")
    assert reply.body.startswith(b"0")
    opening = orjson.loads(reply.body[1:])
    assert opening["upgrades"] == ["websocket"]
    assert len(opening["sid"]) == 20
    assert opening["pingInterval"] == 7000
    assert opening["maxPayload"] == 5000


async def test_connect_event_and_ack_round_trip(
    start_hub: StartHub, open_poller: OpenPoller
) -> None:
    hub, port = await start_hub(echo_hub())
    poller = await open_poller(port)
    reply = await poller.connect()
    assert set(reply) == {"sid"}
    await poller.post('421["echo","a",{"b":[1,2]}]')
    assert await poller.get() == ['431["a",{"b":[1,2]}]']
    assert hub.stats().connections == 1
    assert hub.stats().sessions["/"] == 1


async def test_several_packets_in_one_post_keep_their_order(
    start_hub: StartHub, open_poller: OpenPoller
) -> None:
    _, port = await start_hub(echo_hub())
    poller = await open_poller(port)
    await poller.connect()
    await poller.post(*[f'42{i}["echo",{i}]' for i in range(5)])
    received: list[str | bytes] = []
    with trio.fail_after(5):
        while len(received) < 5:
            received += await poller.get()
    assert received == [f"43{i}[{i}]" for i in range(5)]


async def test_broadcasts_wait_for_the_next_get(
    start_hub: StartHub, open_poller: OpenPoller
) -> None:
    """What arrives between GETs is buffered and sent together, in order."""
    hub, port = await start_hub(echo_hub())
    poller = await open_poller(port)
    await poller.connect()
    for i in range(3):
        hub.emit_nowait("tick", i)
    assert await poller.get() == [f'42["tick",{i}]' for i in range(3)]


async def test_a_waiting_get_is_answered_when_an_event_comes(
    start_hub: StartHub, open_poller: OpenPoller
) -> None:
    hub, port = await start_hub(echo_hub())
    poller = await open_poller(port)
    await poller.connect()
    async with trio.open_nursery() as nursery:
        got = await waiting_get(nursery, poller)
        assert not got
        hub.emit_nowait("late", 1)
    assert got == [['42["late",1]']]


async def test_binary_both_ways_as_base64(start_hub: StartHub, open_poller: OpenPoller) -> None:
    hub, port = await start_hub(echo_hub())
    poller = await open_poller(port)
    await poller.connect()
    # An event with one attachment: the placeholder packet, then the raw bytes.
    await poller.post('451-7["echo",{"_placeholder":true,"num":0}]', b"\x00\x01\xff")
    assert await poller.get() == ['461-7[{"_placeholder":true,"num":0}]', b"\x00\x01\xff"]
    hub.emit_nowait("blob", b"\x10\x20")
    assert await poller.get() == ['451-["blob",{"_placeholder":true,"num":0}]', b"\x10\x20"]


async def test_pings_come_by_get_and_pongs_by_post(
    start_hub: StartHub, open_poller: OpenPoller
) -> None:
    hub, port = await start_hub(echo_hub(ping_interval=0.2, ping_timeout=0.5))
    poller = await open_poller(port)
    await poller.connect()
    for _ in range(3):
        assert await poller.get() == ["2"]
        assert (await poller.post("3")).status == 200
    assert hub.stats().connections == 1


async def test_missing_pong_ends_the_session(start_hub: StartHub, open_poller: OpenPoller) -> None:
    hub, port = await start_hub(echo_hub(ping_interval=0.2, ping_timeout=0.2))
    reasons: list[str] = []

    @hub.namespace("/").on_disconnect
    async def gone(session: Session, reason: str) -> None:
        reasons.append(reason)

    poller = await open_poller(port)
    await poller.connect()
    assert await poller.get() == ["2"]
    # No pong: the next GET waits until the timeout closes the session.
    assert await poller.get() == ["1"]
    assert reasons == ["ping timeout"]
    reply = await poller.getter.request("GET", poller.target)
    assert reply.status == 400
    assert reply.json() == {"code": 1, "message": "Session ID unknown"}
    assert hub.stats().connections == 0


async def test_a_client_that_never_polls_is_reaped(
    start_hub: StartHub, open_poller: OpenPoller
) -> None:
    hub, port = await start_hub(echo_hub(ping_interval=0.1, ping_timeout=0.1))
    poller = await open_poller(port)
    await poller.connect()
    await wait_until(lambda: hub.stats().connections == 0)
    assert hub.stats().disconnects == {"ping timeout": 1}


async def test_a_second_concurrent_get_closes_the_session(
    start_hub: StartHub, open_http: OpenHttp, open_poller: OpenPoller
) -> None:
    hub, port = await start_hub(echo_hub())
    poller = await open_poller(port)
    await poller.connect()
    second = await open_http(port)
    async with trio.open_nursery() as nursery:
        first = await waiting_get(nursery, poller)
        reply = await second.request("GET", poller.target)
        assert reply.status == 400
        assert reply.json()["code"] == 3
    assert first == [["1"]]
    assert hub.stats().disconnects == {"transport error": 1}


async def test_session_closed_by_client_close_packet(
    start_hub: StartHub, open_poller: OpenPoller
) -> None:
    hub, port = await start_hub(echo_hub())
    poller = await open_poller(port)
    await poller.connect()
    assert (await poller.post("1")).status == 200
    await wait_until(lambda: hub.stats().connections == 0)
    assert hub.stats().disconnects == {"transport close": 1}


@pytest.mark.parametrize(
    ("method", "target", "code"),
    [
        ("GET", "/socket.io/?EIO=3&transport=polling", 5),
        ("GET", "/socket.io/?transport=polling", 5),
        ("GET", "/socket.io/?EIO=4&transport=flying", 0),
        ("GET", "/socket.io/?EIO=4", 0),
        ("GET", "/socket.io/?EIO=4&transport=polling&sid=unknown", 1),
        ("POST", "/socket.io/?EIO=4&transport=polling&sid=unknown", 1),
        ("POST", "/socket.io/?EIO=4&transport=polling", 2),
        ("PUT", "/socket.io/?EIO=4&transport=polling", 2),
        ("DELETE", "/socket.io/?EIO=4&transport=polling&sid=x", 3),
        ("GET", "/socket.io/?EIO=4&transport=websocket", 3),
    ],
)
async def test_bad_polling_requests_get_400(
    start_hub: StartHub, open_http: OpenHttp, method: str, target: str, code: int
) -> None:
    hub, port = await start_hub(echo_hub())
    http = await open_http(port)
    reply = await http.request(method, target, b"40" if method == "POST" else b"")
    assert reply.status == 400
    assert reply.json()["code"] == code
    assert reply.json()["message"]
    assert hub.stats().errors["bad_request"] == 1
    assert hub.stats().connections == 0
    # The connection stays usable: a refusal is an answer, not a fault.
    assert (await http.request("GET", ENGINE)).status == 200


@pytest.mark.parametrize(
    "payload",
    [b"9nonsense", b"", b"4", b"b!!notbase64", b"\xff\xfe", b'42["echo"', b"5"],
    ids=["unknown-type", "empty", "bad-socketio", "bad-base64", "not-utf8", "bad-json", "upgrade"],
)
async def test_malformed_post_closes_only_that_session(
    start_hub: StartHub, open_poller: OpenPoller, payload: bytes
) -> None:
    hub, port = await start_hub(echo_hub())
    async with open_test_client(port) as bystander:
        poller = await open_poller(port)
        await poller.connect()
        reply = await poller.poster.request("POST", poller.target, payload)
        assert reply.status == 400
        assert reply.json()["code"] == 3
        await wait_until(lambda: hub.stats().connections == 1)
        gone = await poller.getter.request("GET", poller.target)
        assert gone.json() == {"code": 1, "message": "Session ID unknown"}
        assert hub.stats().errors["protocol"] == 1
        assert hub.stats().disconnects == {"parse error": 1}
        assert await bystander.call("echo", "still here") == ["still here"]


async def test_oversized_post_gets_413_and_ends_the_session(
    start_hub: StartHub, open_poller: OpenPoller
) -> None:
    hub, port = await start_hub(echo_hub(max_payload=1000))
    poller = await open_poller(port)
    await poller.connect()
    reply = await poller.poster.request("POST", poller.target, b"4" + b"x" * 2000)
    assert reply.status == 413
    assert reply.json()["error"] == "too_large"
    await wait_until(lambda: hub.stats().connections == 0)
    assert hub.stats().disconnects == {"payload too large": 1}


async def test_connect_timeout_applies_to_polling(
    start_hub: StartHub, open_poller: OpenPoller
) -> None:
    hub, port = await start_hub(echo_hub(connect_timeout=0.2))
    poller = await open_poller(port)
    assert await poller.get() == ["1"]
    assert hub.stats().connections == 0


async def test_slow_polling_consumer_is_disconnected(
    start_hub: StartHub, open_poller: OpenPoller
) -> None:
    hub, port = await start_hub(echo_hub(outbox_messages=10))
    poller = await open_poller(port)
    await poller.connect()
    for i in range(10):
        hub.emit_nowait("tick", i, volatile=True)
    hub.emit_nowait("dropped", volatile=True)
    assert hub.stats().dropped == {"volatile": 1}
    hub.emit_nowait("overflow")
    await wait_until(lambda: hub.stats().connections == 0)
    assert hub.stats().disconnects == {"slow consumer": 1}


async def test_shutdown_tells_waiting_pollers(start_hub: StartHub, open_poller: OpenPoller) -> None:
    hub, port = await start_hub(echo_hub())
    poller = await open_poller(port)
    await poller.connect()
    async with trio.open_nursery() as nursery:
        got = await waiting_get(nursery, poller)
        with trio.fail_after(5):
            await hub.shutdown(grace=5)
    assert got == [["1"]]
    assert hub.stats().disconnects == {"server shutting down": 1}
