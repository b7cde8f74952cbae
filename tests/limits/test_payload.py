"""max_payload on both transports: announced in the OPEN packet, and enforced at the byte."""

from __future__ import annotations

import orjson
import pytest

from hub.testing import wait_until
from tests.conftest import StartHub
from tests.limits.clients import WebSocket, polling_handshake
from tests.polling.wire import Poller

MAX = 1000


def event_of_size(size: int) -> str:
    """An Engine.IO MESSAGE carrying a Socket.IO event, ``size`` bytes long in all."""
    frame = '42["e",""]'
    return frame[:-2] + "x" * (size - len(frame)) + '"]'


async def test_websocket_announces_and_enforces(start_hub: StartHub) -> None:
    hub, port = await start_hub(max_payload=MAX)
    ws = await WebSocket.open(port)
    assert isinstance(ws, WebSocket)
    try:
        opening = orjson.loads((await ws.message())[1:])
        assert opening["maxPayload"] == MAX
        await ws.send("40")
        assert (await ws.message()).startswith("40{")
        await ws.send(event_of_size(MAX))  # at the limit: taken
        await ws.send('42["e"]')
        await wait_until(lambda: hub.stats().events_in == 2)
        await ws.send(event_of_size(MAX + 1))
        with pytest.raises(ConnectionError, match="1009"):
            await ws.message()
    finally:
        await ws.aclose()
    await wait_until(lambda: hub.stats().connections == 0)
    assert hub.stats().disconnects == {"payload too large": 1}
    assert hub.stats().errors["payload_too_large"] == 1


async def test_polling_announces_and_enforces(start_hub: StartHub) -> None:
    hub, port = await start_hub(max_payload=MAX)
    poller = await polling_handshake(port)
    assert isinstance(poller, Poller)
    assert poller.handshake["maxPayload"] == MAX
    await poller.connect()
    assert (await poller.post(event_of_size(MAX))).status == 200  # at the limit: taken
    assert hub.stats().events_in == 1
    reply = await poller.post(event_of_size(MAX + 1))
    assert reply.status == 413 and reply.json()["error"] == "too_large"
    await wait_until(lambda: hub.stats().connections == 0)
    assert hub.stats().disconnects == {"payload too large": 1}
    await poller.aclose()


async def test_websocket_counts_bytes_not_characters(start_hub: StartHub) -> None:
    """900 'é' are 1,800 bytes of UTF-8: over a 1,000-byte limit though 900 characters."""
    hub, port = await start_hub(max_payload=MAX)
    ws = await WebSocket.open(port)
    assert isinstance(ws, WebSocket)
    try:
        await ws.message()
        await ws.send("40")
        assert (await ws.message()).startswith("40{")
        await ws.send('42["e","' + "é" * 900 + '"]')
        with pytest.raises(ConnectionError, match="1009"):
            await ws.message()
    finally:
        await ws.aclose()
    await wait_until(lambda: hub.stats().connections == 0)
    assert hub.stats().disconnects == {"payload too large": 1}
