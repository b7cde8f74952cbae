"""Connection limits: max_connections and max_connections_per_ip, over both transports."""

from __future__ import annotations

import pytest
import trio

from hub import Hub
from hub.testing import open_test_client, wait_until
from tests.conftest import StartHub
from tests.limits.clients import (
    LOCAL,
    OTHER_LOCAL,
    Refused,
    WebSocket,
    end_polling,
    open_websocket_session,
    polling_handshake,
    server_of,
    summary,
)
from tests.polling.test_upgrade import probe
from tests.polling.wire import Poller, upgrade_socket

TOTAL = (503, 4, "too_many_connections")
PER_IP = (429, 4, "too_many_connections_per_ip")


def counted(hub: Hub) -> int:
    return server_of(hub).gate.total


async def poller(port: int, local: str = LOCAL) -> Poller:
    opened = await polling_handshake(port, local=local)
    assert isinstance(opened, Poller), opened
    return opened


async def refusal_of_both(port: int, local: str = LOCAL) -> tuple[Refused, Refused]:
    """Try a WebSocket opening and a polling handshake, both expected to be refused."""
    by_websocket = await open_websocket_session(port, local=local)
    by_polling = await polling_handshake(port, local=local)
    assert isinstance(by_websocket, Refused) and isinstance(by_polling, Refused)
    return by_websocket, by_polling


async def test_total_limit_refuses_both_transports_and_frees_on_close(
    start_hub: StartHub,
) -> None:
    hub, port = await start_hub(max_connections=3, max_connections_per_ip=0)
    first = await poller(port)
    async with open_test_client(port), open_test_client(port, connect=None):
        assert counted(hub) == 3
        by_websocket, by_polling = await refusal_of_both(port, local=OTHER_LOCAL)
        assert summary(by_websocket) == summary(by_polling) == TOTAL
        assert by_websocket.headers["retry-after"] == by_polling.headers["retry-after"] == "5"
        assert hub.stats().errors["too_many_connections"] == 2
        assert counted(hub) == 3
    # Both WebSocket sessions ended: their slots are back, and a new one opens.
    await wait_until(lambda: counted(hub) == 1)
    assert await open_websocket_session(port) is None
    # A polling session that ends gives its slot back too.
    async with open_test_client(port), open_test_client(port):
        assert isinstance(await polling_handshake(port), Refused)
        await end_polling(first)
        await wait_until(lambda: counted(hub) == 2)
        second = await poller(port)
        await end_polling(second)
    await wait_until(lambda: counted(hub) == 0 and hub.stats().connections == 0)
    assert hub.stats().errors["too_many_connections"] == 3


async def test_per_ip_limit_counts_each_address_apart(start_hub: StartHub) -> None:
    hub, port = await start_hub(max_connections_per_ip=2)
    first = await poller(port)
    async with open_test_client(port):
        by_websocket, by_polling = await refusal_of_both(port)
        assert summary(by_websocket) == summary(by_polling) == PER_IP
        assert "127.0.0.1" in by_websocket.body["message"]
        # Another address is not held back by this one's sessions.
        assert await open_websocket_session(port, local=OTHER_LOCAL) is None
        other = await poller(port, local=OTHER_LOCAL)
        await end_polling(other)
        assert hub.stats().errors["too_many_connections_per_ip"] == 2
        await end_polling(first)
        await wait_until(lambda: counted(hub) == 1)
        again = await poller(port)
        await end_polling(again)
    await wait_until(lambda: counted(hub) == 0)
    assert server_of(hub).gate.by_ip == {}


async def test_the_total_limit_is_checked_before_the_per_ip_one(start_hub: StartHub) -> None:
    """Full everywhere: the answer is the hub-wide 503, not this address's 429."""
    _, port = await start_hub(max_connections=1, max_connections_per_ip=1)
    async with open_test_client(port):
        refusal = await open_websocket_session(port)
        assert refusal is not None and summary(refusal) == TOTAL


async def test_an_upgrade_counts_once(start_hub: StartHub) -> None:
    """A polling session upgraded to WebSocket keeps its one slot, on every limit."""
    hub, port = await start_hub(max_connections=1, max_connections_per_ip=1)
    session = await poller(port)
    await session.connect()
    async with upgrade_socket(port, session.sid) as ws:
        await probe(ws)
        await ws.send_message("5")
        hub.emit_nowait("tick", 1)
        assert await ws.get_message() == '42["tick",1]'
        assert counted(hub) == 1
        assert hub.stats().connections == 1
        refusal = await open_websocket_session(port, local=OTHER_LOCAL)
        assert refusal is not None and summary(refusal) == TOTAL
        assert server_of(hub).gate.by_ip == {"127.0.0.1": 1}
    await session.aclose()
    await wait_until(lambda: counted(hub) == 0)
    assert await open_websocket_session(port) is None


async def test_a_failed_upgrade_leaves_the_polling_session_counted(start_hub: StartHub) -> None:
    hub, port = await start_hub(max_connections=1)
    session = await poller(port)
    await session.connect()
    async with upgrade_socket(port, session.sid) as ws:
        await ws.send_message("not a probe")
    await wait_until(lambda: hub.stats().errors.get("upgrade_failed") == 1)
    assert counted(hub) == 1
    await session.post('42["still","polling"]')
    await end_polling(session)
    await wait_until(lambda: counted(hub) == 0)


async def test_sessions_that_time_out_give_their_slots_back(start_hub: StartHub) -> None:
    """Neither transport connects a namespace in time: both are reaped and uncounted."""
    hub, port = await start_hub(max_connections=2, connect_timeout=0.3)
    session = await poller(port)
    ws = await WebSocket.open(port)
    assert isinstance(ws, WebSocket)
    assert (await ws.message()).startswith("0{")
    assert counted(hub) == 2
    await wait_until(lambda: counted(hub) == 0)
    await ws.aclose()
    await session.aclose()
    assert hub.stats().disconnects == {}  # no namespace was ever connected
    assert await open_websocket_session(port) is None


async def test_shutdown_gives_every_slot_back(start_hub: StartHub) -> None:
    hub, port = await start_hub(max_connections=5)
    server = server_of(hub)
    session = await poller(port)
    async with open_test_client(port), open_test_client(port):
        assert server.gate.total == 3
        with trio.fail_after(10):
            await hub.shutdown(grace=5)
    await session.aclose()
    assert server.gate.total == 0 and server.gate.by_ip == {}


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_no_limit_when_zero(start_hub: StartHub, transport: str) -> None:
    hub, port = await start_hub(max_connections=0, max_connections_per_ip=0)
    pollers = []
    for _ in range(5):
        if transport == "polling":
            pollers.append(await poller(port))
        else:
            assert await open_websocket_session(port) is None
    for opened in pollers:
        await end_polling(opened)
    await wait_until(lambda: counted(hub) == 0)
    assert not any(kind.startswith("too_many") for kind in hub.stats().errors)
