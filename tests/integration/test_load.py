"""Fan-out under load, slow consumers and malformed input, over real sockets."""

from __future__ import annotations

import socket
import struct

import pytest
import trio

from hub import Hub, NotConnected, Session
from hub.testing import TestClient, open_test_client, wait_until
from tests.conftest import StartHub


async def test_200_clients_each_get_500_broadcasts_in_order(start_hub: StartHub) -> None:
    """200 concurrent clients in one room each receive all 500 broadcasts, in order."""
    hub = Hub()

    @hub.namespace("/").on("join")
    async def join(session: Session, room: str) -> None:
        await session.enter(room)

    _, port = await start_hub(hub)
    clients, events = 200, 500
    received: dict[int, list[int]] = {}
    ready = trio.Semaphore(0)
    done = trio.Event()

    async def subscriber(index: int) -> None:
        async with open_test_client(port) as client:
            await client.call("join", "feed")
            ready.release()
            seen = received[index] = []
            while len(seen) < events:
                name, args = await client.next_event(timeout=30)
                assert name == "tick"
                seen.append(args[0]["seq"])
            await done.wait()

    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            for index in range(clients):
                nursery.start_soon(subscriber, index)
            for _ in range(clients):
                await ready.acquire()
            for seq in range(events):
                assert await hub.emit("tick", {"seq": seq}, to="feed") == clients
            await wait_until(lambda: all(len(s) == events for s in received.values()), 60)
            done.set()
    assert len(received) == clients
    assert all(seen == list(range(events)) for seen in received.values())
    assert hub.stats().deliveries == clients * events


def open_stalled_client(port: int) -> socket.socket:
    """A raw client that completes the handshake, joins '/', then never reads again."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
        b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += sock.recv(4096)
    assert b" 101 " in reply
    # A masked text frame with an all-zero mask key, so the payload is sent as is.
    sock.sendall(bytes([0x81, 0x82, 0, 0, 0, 0]) + b"40")
    return sock


@pytest.mark.parametrize("volatile", [False, True])
async def test_slow_consumer_never_stalls_the_others(start_hub: StartHub, volatile: bool) -> None:
    """A client that stops reading is dropped (or loses volatile events); others get all."""
    hub, port = await start_hub(outbox_messages=64, outbox_bytes=256 * 1024)
    stalled = await trio.to_thread.run_sync(open_stalled_client, port)
    try:
        async with open_test_client(port) as fast_a, open_test_client(port) as fast_b:
            await wait_until(lambda: hub.stats().sessions["/"] == 3)
            seen: dict[TestClient, list[int]] = {fast_a: [], fast_b: []}

            async def consume(client: TestClient) -> None:
                while len(seen[client]) < 200:
                    seen[client].append((await client.next_event(timeout=30))[1][0])

            blob = "x" * 65536
            async with trio.open_nursery() as nursery:
                for client in seen:
                    nursery.start_soon(consume, client)
                for seq in range(200):
                    # Keep the fast consumers within a few events of the producer.
                    await wait_until(lambda seq=seq: min(map(len, seen.values())) >= seq - 4, 30)
                    await hub.emit("big", seq, blob, volatile=volatile)
            assert all(seqs == list(range(200)) for seqs in seen.values())
            stats = hub.stats()
            if volatile:
                assert stats.dropped["volatile"] > 0
                assert stats.sessions["/"] == 3
            else:
                await wait_until(lambda: hub.stats().sessions["/"] == 2)
                assert hub.stats().disconnects == {"slow consumer": 1}
                assert hub.stats().dropped["slow_consumer"] == 1
    finally:
        stalled.close()


MALFORMED: list[str | bytes] = [
    "9",  # unknown Engine.IO type
    "",  # empty Engine.IO packet
    "4",  # empty Socket.IO packet
    "49",  # unknown Socket.IO type
    '42["unterminated',  # invalid JSON
    "42{}",  # EVENT whose payload is not a list
    '42["connect"]',  # reserved event name
    b"\x00\x01",  # binary attachment nobody announced
    "0",  # OPEN from a client
    "44{}",  # CONNECT_ERROR from a client
    '42/never-joined,["x"]',  # EVENT for a namespace not joined (the reference closes too)
    "40",  # CONNECT to a namespace already joined
]


@pytest.mark.parametrize("message", MALFORMED)
async def test_malformed_input_closes_that_connection_only(
    start_hub: StartHub, message: str | bytes
) -> None:
    """Malformed input gets a 1002 close; other clients keep being served."""
    hub, port = await start_hub()
    async with open_test_client(port) as good, open_test_client(port) as bad:
        await bad.send_raw(message)
        with pytest.raises(NotConnected):
            await bad.next_event()
        assert bad.ws.closed is not None
        assert bad.ws.closed.code == 1002
        assert await hub.emit("still", "here") == 1
        assert await good.next_event() == ("still", ["here"])
    assert hub.stats().errors["protocol"] == 1


async def test_oversized_message_is_refused_with_1009(start_hub: StartHub) -> None:
    """A message over maxPayload closes that connection with 1009 and is counted."""
    hub, port = await start_hub(max_payload=1000)
    async with open_test_client(port) as good, open_test_client(port) as bad:
        await bad.emit("big", "x" * 2000)
        with pytest.raises(NotConnected):
            await bad.next_event()
        assert bad.ws.closed is not None and bad.ws.closed.code == 1009
        # trio-websocket sends the 1009 close itself, before the hub drops the session.
        await wait_until(lambda: hub.stats().sessions["/"] == 1)
        assert await hub.emit("still", "here") == 1
        assert await good.next_event() == ("still", ["here"])
    await wait_until(lambda: hub.stats().errors.get("payload_too_large") == 1)


async def test_binary_attachments_and_client_acks_survive_a_burst(start_hub: StartHub) -> None:
    """Mixed text and binary broadcasts keep their order and content."""
    hub, port = await start_hub()
    async with open_test_client(port) as client:
        for seq in range(300):
            args = (seq, bytes([seq % 256]) * (seq % 7)) if seq % 2 else (seq, "text")
            await hub.emit("mix", *args)
        for seq in range(300):
            name, args = await client.next_event()
            expected = [seq, bytes([seq % 256]) * (seq % 7)] if seq % 2 else [seq, "text"]
            assert (name, args) == ("mix", expected)


async def test_test_client_is_a_testclient(start_hub: StartHub) -> None:
    """The test kit yields a TestClient bound to the hub's connection."""
    hub, port = await start_hub()
    async with open_test_client(port) as client:
        assert isinstance(client, TestClient)
        assert client.sids["/"] in hub.namespace("/").sessions


async def test_reset_connection_with_queued_data_is_a_transport_close(
    start_hub: StartHub,
) -> None:
    """A peer that resets while data is queued for it ends as 'transport close'."""
    hub, port = await start_hub()
    stalled = await trio.to_thread.run_sync(open_stalled_client, port)
    await wait_until(lambda: hub.stats().sessions["/"] == 1)
    for seq in range(100):
        await hub.emit("big", seq, "x" * 65536, volatile=True)
    # SO_LINGER with a zero timeout makes close() send a reset instead of a FIN.
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    stalled.close()
    await wait_until(lambda: hub.stats().connections == 0)
    assert hub.stats().disconnects == {"transport close": 1}
    assert await hub.emit("after", "reset") == 0
