"""Namespaces on one connection: connect, refuse, disconnect both ways, over real sockets."""

from __future__ import annotations

from typing import Any

import pytest

from hub import ConnectRefused, Hub, Session
from hub.testing import open_test_client, wait_until
from tests.conftest import StartHub


async def test_several_namespaces_share_one_connection(start_hub: StartHub) -> None:
    """One Engine.IO connection joins '/', '/a' and '/b', each with its own sid."""
    hub = Hub()
    hub.namespace("/a")
    hub.namespace("/b")
    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        await client.connect("/a")
        await client.connect("/b")
        assert len(set(client.sids.values())) == 3
        assert hub.stats().connections == 1
        assert hub.stats().sessions == {"/": 1, "/a": 1, "/b": 1}


async def test_unknown_namespace_gets_connect_error(start_hub: StartHub) -> None:
    """CONNECT to a namespace nobody declared is answered 'Invalid namespace'."""
    hub, port = await start_hub()
    async with open_test_client(port) as client:
        with pytest.raises(ConnectRefused) as refused:
            await client.connect("/nope")
        assert refused.value.message == "Invalid namespace"
        assert hub.stats().connections == 1  # the refusal does not end the connection
    assert hub.stats().errors["invalid_namespace"] == 1


async def test_connect_handler_sees_auth_and_may_refuse_with_data(start_hub: StartHub) -> None:
    """The auth payload reaches the connect handler, which can refuse with data."""
    hub = Hub()
    seen: list[Any] = []

    @hub.namespace("/private").on_connect
    async def check(session: Session, auth: Any) -> None:
        seen.append(auth)
        if auth != {"token": "secret"}:
            raise ConnectRefused("bad token", {"reason": "invalid_token"})

    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        with pytest.raises(ConnectRefused) as refused:
            await client.connect("/private", {"token": "wrong"})
        assert refused.value.message == "bad token"
        assert refused.value.data == {"reason": "invalid_token"}
        sid = await client.connect("/private", {"token": "secret"})
        assert sid in hub.namespace("/private").sessions
    assert seen == [{"token": "wrong"}, {"token": "secret"}]


async def test_client_namespace_disconnect_reaches_handler(start_hub: StartHub) -> None:
    """A client DISCONNECT ends that namespace only, with 'client namespace disconnect'."""
    hub = Hub()
    reasons: list[str] = []
    hub.namespace("/a").on_disconnect(lambda s, r: _record(reasons, r))
    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        await client.connect("/a")
        await client.disconnect("/a")
        await wait_until(lambda: reasons == ["client namespace disconnect"])
        assert hub.stats().sessions == {"/": 1, "/a": 0}
        assert hub.stats().connections == 1


async def test_server_disconnect_tells_the_client(start_hub: StartHub) -> None:
    """session.disconnect() sends DISCONNECT and runs the handler with its reason."""
    hub = Hub()
    reasons: list[str] = []
    ns = hub.namespace("/a")
    ns.on_disconnect(lambda s, r: _record(reasons, r))

    @ns.on("kick-me")
    async def kick(session: Session) -> None:
        await session.disconnect()

    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        await client.connect("/a")
        await client.emit("kick-me", namespace="/a")
        assert await client.next_event("/a") == ("disconnect", [])
        assert reasons == ["server namespace disconnect"]
        assert hub.stats().sessions["/a"] == 0
        first_sid = client.sids["/a"]
        # The same connection may join the namespace again, as a new session.
        assert await client.connect("/a") != first_sid
        assert hub.stats().sessions["/a"] == 1


async def test_transport_close_ends_every_namespace(start_hub: StartHub) -> None:
    """When the socket goes, each namespace session ends with 'transport close'."""
    hub = Hub()
    reasons: list[str] = []
    hub.namespace("/").on_disconnect(lambda s, r: _record(reasons, r))
    hub.namespace("/a").on_disconnect(lambda s, r: _record(reasons, r))
    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        await client.connect("/a")
    await wait_until(lambda: len(reasons) == 2)
    assert reasons == ["transport close", "transport close"]
    assert hub.stats().connections == 0


async def _record(into: list[str], reason: str) -> None:
    into.append(reason)
