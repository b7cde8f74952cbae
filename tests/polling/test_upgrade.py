"""The upgrade from long-polling to WebSocket: probe, pause, upgrade, and nothing lost."""

from __future__ import annotations

import orjson
import pytest
import trio
import trio.lowlevel
from trio_websocket import ConnectionClosed, WebSocketConnection

from hub.testing import wait_until
from tests.conftest import StartHub
from tests.polling.conftest import OpenPoller
from tests.polling.test_polling import echo_hub
from tests.polling.wire import raw_exchange, upgrade_head, upgrade_socket

BURST_CAP = 20_000


async def probe(ws: WebSocketConnection) -> None:
    await ws.send_message("2probe")
    assert await ws.get_message() == "3probe"


async def test_upgrade_moves_the_session_to_the_websocket(
    start_hub: StartHub, open_poller: OpenPoller
) -> None:
    hub, port = await start_hub(echo_hub())
    poller = await open_poller(port)
    sid = (await poller.connect())["sid"]
    async with upgrade_socket(port, poller.sid) as ws:
        await probe(ws)
        # With the probe answered, an empty GET returns a noop at once: polling pauses.
        assert await poller.get() == ["6"]
        await ws.send_message("5")
        await ws.send_message('421["echo","over websocket"]')
        assert await ws.get_message() == '431["over websocket"]'
        hub.emit_nowait("tick", 1)
        assert await ws.get_message() == '42["tick",1]'
        # The same Engine.IO and Socket.IO session, now on the WebSocket.
        assert hub.stats().connections == 1
        (session,) = hub.namespace("/").sessions.values()
        assert session.sid == sid
        reply = await poller.getter.request("GET", poller.target)
        assert reply.json() == {"code": 1, "message": "Session ID unknown"}


async def test_heartbeat_goes_on_after_the_upgrade(
    start_hub: StartHub, open_poller: OpenPoller
) -> None:
    hub, port = await start_hub(echo_hub(ping_interval=0.2, ping_timeout=0.3))
    poller = await open_poller(port)
    await poller.connect()
    async with upgrade_socket(port, poller.sid) as ws:
        await probe(ws)
        await ws.send_message("5")
        for _ in range(3):
            with trio.fail_after(5):
                assert await ws.get_message() == "2"
            await ws.send_message("3")
        assert hub.stats().connections == 1
        # Silence now ends the session by ping timeout, on the WebSocket.
        await wait_until(lambda: hub.stats().connections == 0)
    assert hub.stats().disconnects == {"ping timeout": 1}


async def test_upgrade_in_the_middle_of_a_burst_loses_and_reorders_nothing(
    start_hub: StartHub, open_poller: OpenPoller
) -> None:
    """Events flow while the client polls, probes, pauses and upgrades, and after."""
    hub, port = await start_hub(echo_hub())
    poller = await open_poller(port)
    await poller.connect()
    received: list[str] = []
    upgraded, pausing, paused, produced = (trio.Event() for _ in range(4))
    sent = 0

    async def produce() -> None:
        # Until 1,000 events after the upgrade, so every phase of it sees some.
        nonlocal sent
        after = 0
        while after < 1000 and sent < BURST_CAP:
            hub.emit_nowait("n", sent)
            sent += 1
            after += upgraded.is_set()
            if sent % 10 == 0:
                await trio.sleep(0.001)
        produced.set()

    async def poll() -> None:
        # As a client pausing for the upgrade: finish the GET under way, then stop.
        while not pausing.is_set():
            for packet in await poller.get():
                if packet != "6":
                    assert isinstance(packet, str)
                    received.append(packet)
        paused.set()

    async with upgrade_socket(port, poller.sid) as ws, trio.open_nursery() as nursery:
        nursery.start_soon(produce)
        nursery.start_soon(poll)
        await wait_until(lambda: len(received) >= 200, timeout=10)
        await probe(ws)
        pausing.set()
        with trio.fail_after(10):
            await paused.wait()
        polled = len(received)
        await ws.send_message("5")
        upgraded.set()
        with trio.fail_after(30):
            await produced.wait()
            while len(received) < sent:
                message = await ws.get_message()
                if message == "2":
                    await ws.send_message("3")
                    continue
                assert isinstance(message, str)
                received.append(message)
        assert hub.stats().disconnects == {}
    assert polled >= 200
    assert len(received) - polled >= 1000
    assert received == [f'42["n",{i}]' for i in range(sent)]


async def test_upgrade_for_an_unknown_sid_is_refused(start_hub: StartHub) -> None:
    hub, port = await start_hub(echo_hub())
    reply = await raw_exchange(port, upgrade_head("nope"))
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert orjson.loads(body) == {"code": 1, "message": "Session ID unknown"}
    assert hub.stats().errors["bad_request"] == 1


async def test_a_second_upgrade_while_one_probes_is_refused(
    start_hub: StartHub, open_poller: OpenPoller
) -> None:
    hub, port = await start_hub(echo_hub())
    poller = await open_poller(port)
    await poller.connect()
    async with upgrade_socket(port, poller.sid) as ws:
        await probe(ws)
        reply = await raw_exchange(port, upgrade_head(poller.sid))
        assert reply.startswith(b"HTTP/1.1 400 ")
        await ws.send_message("5")
        hub.emit_nowait("first", "upgrade", "wins")
        assert await ws.get_message() == '42["first","upgrade","wins"]'


async def test_a_failed_probe_leaves_the_polling_session_running(
    start_hub: StartHub, open_poller: OpenPoller
) -> None:
    hub, port = await start_hub(echo_hub())
    poller = await open_poller(port)
    await poller.connect()
    async with upgrade_socket(port, poller.sid) as ws:
        await probe(ws)
        await ws.send_message("4not an upgrade")
        with pytest.raises(ConnectionClosed), trio.fail_after(5):
            await ws.get_message()
    assert hub.stats().errors["upgrade_failed"] == 1
    # Back to polling: a GET waits for events again, and gets them.
    hub.emit_nowait("still", "polling")
    assert await poller.get() == ['42["still","polling"]']
    await poller.post('421["echo",1]')
    assert await poller.get() == ["431[1]"]
