"""POST /api/publish: who gets an event, and 10,000 of them over one keep-alive connection."""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx
import trio

from hub.testing import TestClient, open_test_client
from tests.http.conftest import StartApi, events_until


async def join(client: TestClient, *rooms: str) -> None:
    for room in rooms:
        assert await client.call("join", room) == [{"ok": True, "room": room}]


async def test_publish_reaches_exactly_the_addressed_sessions(start_api: StartApi) -> None:
    """room, rooms (each member once), except, whole namespace: only those addressed get it."""
    api = await start_api()
    async with AsyncExitStack() as stack:
        red, blue, both, idle = [
            await stack.enter_async_context(open_test_client(api.port)) for _ in range(4)
        ]
        await join(red, "red")
        await join(blue, "blue")
        await join(both, "red", "blue")

        first = await api.publish(event="e", data={"n": 1}, room="red")
        assert first["recipients"] == 2 and isinstance(first["offset"], str)
        second = await api.publish(event="e", data=2, rooms=["red", "blue", "red"])
        assert second["recipients"] == 3  # "both" is in two of the rooms: it gets it once
        assert second["offset"] != first["offset"]
        third = await api.publish(
            event="e", args=[3, "three"], rooms=["red", "blue"], **{"except": ["blue"]}
        )
        assert third["recipients"] == 1  # "both" is in blue, so excluded
        sid_of_both = both.sids["/"]
        fourth = await api.publish(event="e", data=None, room="red", **{"except": [sid_of_both]})
        assert fourth["recipients"] == 1
        assert (await api.publish(event="e"))["recipients"] == 4  # no room: the namespace
        assert (await api.publish(event="e", room="nobody's"))["recipients"] == 0
        assert (await api.publish(event="end"))["recipients"] == 4

        assert await events_until(red, "end") == [
            ("e", [{"n": 1}]),
            ("e", [2]),
            ("e", [3, "three"]),
            ("e", [None]),
            ("e", []),
        ]
        assert await events_until(blue, "end") == [("e", [2]), ("e", [])]
        assert await events_until(both, "end") == [("e", [{"n": 1}]), ("e", [2]), ("e", [])]
        assert await events_until(idle, "end") == [("e", [])]


async def test_publish_to_another_namespace(start_api: StartApi) -> None:
    """ "namespace" picks the namespace; sessions of other namespaces get nothing."""
    api = await start_api()
    api.hub.namespace("/dash")
    async with (
        open_test_client(api.port) as root,
        open_test_client(api.port, connect="/dash") as dash,
    ):
        answer = await api.publish(event="tick", data=1, namespace="/dash")
        assert answer["recipients"] == 1
        await api.publish(event="end", namespace="/dash")
        await api.publish(event="end")
        assert await events_until(dash, "end", "/dash") == [("tick", [1])]
        assert await events_until(root, "end") == []


async def test_ten_thousand_publishes_over_one_keep_alive_connection(
    start_api: StartApi,
) -> None:
    """10,000 POSTs on one connection: every one answered and delivered, in order."""
    count = 10_000
    api = await start_api()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    peers: set[object] = set()
    async with (
        open_test_client(api.port) as member,
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{api.port}",
            headers=api.http.headers,
            limits=limits,
            trust_env=False,
            timeout=10,
        ) as http,
    ):
        await join(member, "flood")
        with trio.fail_after(120):
            for n in range(count):
                response = await http.post(
                    "/api/publish", json={"event": "n", "data": n, "room": "flood"}
                )
                assert response.status_code == 200, response.text
                assert response.json()["recipients"] == 1
                stream = response.extensions["network_stream"]
                peers.add(stream.get_extra_info("client_addr"))
            received = [await member.next_event(timeout=30) for _ in range(count)]
    assert peers and len(peers) == 1  # one TCP connection carried every request
    assert received == [("n", [n]) for n in range(count)]
    stats = api.hub.stats()
    assert stats.errors == {} and stats.dropped == {}
