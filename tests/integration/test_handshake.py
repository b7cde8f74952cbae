"""Engine.IO handshake, HTTP refusals and connection-level timeouts over real sockets."""

from __future__ import annotations

import orjson
import pytest
import trio

from hub import NotConnected
from hub.testing import open_test_client, wait_until
from tests.conftest import StartHub


async def raw_http(port: int, request: bytes) -> tuple[int, dict[str, object], bytes]:
    """Send one raw request; return the status, JSON body and whole reply."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(request)
        reply = b""
        with trio.fail_after(5):
            while chunk := await stream.receive_some(65536):
                reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), orjson.loads(body), reply


def upgrade_request(target: str) -> bytes:
    return (
        f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


async def test_open_packet_announces_session_and_timing(start_hub: StartHub) -> None:
    """The OPEN packet carries sid, ping interval/timeout in ms and maxPayload."""
    _, port = await start_hub(ping_interval=7, ping_timeout=3, max_payload=5000)
    async with open_test_client(port, connect=None) as client:
        assert len(client.handshake["sid"]) == 20
        assert client.handshake["pingInterval"] == 7000
        assert client.handshake["pingTimeout"] == 3000
        assert client.handshake["maxPayload"] == 5000
        assert client.handshake["upgrades"] == []


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("/socket.io/?EIO=3&transport=websocket", 5),
        ("/socket.io/?transport=websocket", 5),
        ("/socket.io/?EIO=4&transport=carrier-pigeon", 0),
        ("/socket.io/?EIO=4&transport=websocket&sid=nope", 1),
        ("/elsewhere/?EIO=4&transport=websocket", 3),
    ],
)
async def test_bad_requests_get_400_and_no_upgrade(
    start_hub: StartHub, target: str, code: int
) -> None:
    """Wrong EIO, transport, sid or path: HTTP 400 with an Engine.IO error body."""
    hub, port = await start_hub()
    status, body, reply = await raw_http(port, upgrade_request(target))
    assert status == 400
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert b"101 Switching" not in reply
    assert hub.stats().errors["bad_request"] == 1


async def test_garbage_request_head_gets_400(start_hub: StartHub) -> None:
    """A request head that is not HTTP is answered 400 and counted."""
    hub, port = await start_hub()
    status, body, _ = await raw_http(port, b"\x16\x03\x01 hello\r\n\r\n")
    assert status == 400
    assert body["error"] == "bad_request"
    assert hub.stats().errors["bad_request_head"] == 1


async def test_silent_client_is_reaped_by_ping_timeout(start_hub: StartHub) -> None:
    """A client that never answers pings is disconnected with reason 'ping timeout'."""
    hub, port = await start_hub(ping_interval=0.2, ping_timeout=0.2)
    reasons: list[str] = []

    @hub.namespace("/").on_disconnect
    async def gone(session: object, reason: str) -> None:
        reasons.append(reason)

    async with open_test_client(port, auto_pong=False) as client:
        await wait_until(lambda: hub.stats().connections == 0)
        assert client.pings >= 1
    assert reasons == ["ping timeout"]
    assert hub.stats().disconnects == {"ping timeout": 1}


async def test_answering_client_survives_many_pings(start_hub: StartHub) -> None:
    """Pings come every interval after each pong (not interval + timeout)."""
    hub, port = await start_hub(ping_interval=0.1, ping_timeout=5)
    async with open_test_client(port) as client:
        started = trio.current_time()
        await wait_until(lambda: client.pings >= 5)
        # With the timeout wrongly added to each round, 5 pings would take 25 s.
        assert trio.current_time() - started < 4
        assert hub.stats().connections == 1


async def test_client_that_never_connects_a_namespace_is_closed(start_hub: StartHub) -> None:
    """No namespace CONNECT within connect_timeout: the connection is closed."""
    hub, port = await start_hub(connect_timeout=0.2)
    async with open_test_client(port, connect=None) as client:
        with pytest.raises(NotConnected):
            await client.next_event(timeout=5)
        assert client.ws.closed is not None
    assert hub.stats().connections == 0
