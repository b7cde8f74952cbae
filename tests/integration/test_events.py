"""Events, rooms, acks and binary data between the hub and real clients."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from hub import AckTimeout, Hub, NotConnected, Session
from hub.testing import TestClient, open_test_client, wait_until
from tests.conftest import StartHub


def room_hub() -> Hub:
    hub = Hub()
    ns = hub.namespace("/")

    @ns.on("enter")
    async def enter(session: Session, *rooms: str) -> list[str]:
        for room in rooms:
            await session.enter(room)
        return sorted(session.rooms)

    @ns.on("leave")
    async def leave(session: Session, room: str) -> list[str]:
        await session.leave(room)
        return sorted(session.rooms)

    return hub


async def drain(client: TestClient) -> list[tuple[str, list[Any]]]:
    """Everything the client received so far, after one round trip proves it arrived."""
    await client.call("enter")
    return [await client.next_event() for _ in range(client.pending_events())]


async def test_room_broadcast_reaches_members_only(start_hub: StartHub) -> None:
    """A room emit reaches each member and never a non-member."""
    hub, port = await start_hub(room_hub())
    async with (
        open_test_client(port) as a,
        open_test_client(port) as b,
        open_test_client(port) as outsider,
    ):
        await a.call("enter", "r")
        await b.call("enter", "r")
        assert await hub.emit("news", {"n": 1}, to="r") == 2
        assert await a.next_event() == ("news", [{"n": 1}])
        assert await b.next_event() == ("news", [{"n": 1}])
        assert await drain(outsider) == []


async def test_emit_forms(start_hub: StartHub) -> None:
    """Several rooms (no duplicates), except_ rooms and sids, one sid, whole namespace."""
    hub, port = await start_hub(room_hub())
    async with (
        open_test_client(port) as a,
        open_test_client(port) as b,
        open_test_client(port) as c,
    ):
        await a.call("enter", "x", "y")
        await b.call("enter", "y")
        await c.call("enter", "z")
        assert await hub.emit("e", 1, to=["x", "y"]) == 2
        assert await hub.emit("e", 2, to=["x", "y", "z"], except_="y") == 1
        assert await hub.emit("e", 3, to=["y"], except_=[a.sids["/"]]) == 1
        assert await hub.emit("e", 4, to=c.sids["/"]) == 1
        assert await hub.emit("e", 5) == 3
        assert await hub.emit("e", 6, except_=["x", "z"]) == 1
        assert await drain(a) == [("e", [1]), ("e", [5])]
        assert await drain(b) == [("e", [1]), ("e", [3]), ("e", [5]), ("e", [6])]
        assert await drain(c) == [("e", [2]), ("e", [4]), ("e", [5])]


async def test_leave_and_leave_all_on_disconnect(start_hub: StartHub) -> None:
    """Leaving a room stops its events; a disconnect leaves every room."""
    hub, port = await start_hub(room_hub())
    async with open_test_client(port) as a:
        assert await a.call("enter", "r", "s") == [["r", "s"]]
        assert await a.call("leave", "r") == [["s"]]
        assert await hub.emit("e", to="r") == 0
        assert hub.stats().rooms["/"]["s"] == 1
    await wait_until(lambda: hub.stats().rooms["/"] == {})


async def test_session_emit_and_namespace_isolation(start_hub: StartHub) -> None:
    """session.emit reaches that session; a room in another namespace is separate."""
    hub = room_hub()
    other = hub.namespace("/other")
    sessions: list[Session] = []

    @other.on("hello")
    async def hello(session: Session) -> None:
        sessions.append(session)
        await session.enter("r")

    _, port = await start_hub(hub)
    async with open_test_client(port) as a:
        await a.connect("/other")
        await a.call("enter", "r")
        await a.emit("hello", namespace="/other")
        await wait_until(lambda: len(sessions) == 1)
        await sessions[0].emit("direct", "only-you")
        assert await a.next_event("/other") == ("direct", ["only-you"])
        assert await hub.emit("e", to="r", namespace="/other") == 1
        assert await a.next_event("/other") == ("e", [])
        assert await drain(a) == []


async def test_handler_return_value_is_the_ack(start_hub: StartHub) -> None:
    """None acks with no args, a tuple with several, anything else with one."""
    hub = Hub()
    ns = hub.namespace("/")
    ns.on("none")(_returns(None))
    ns.on("tuple")(_returns((1, "two")))
    ns.on("one")(_returns({"k": [1, 2]}))
    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        assert await client.call("none") == []
        assert await client.call("tuple") == [1, "two"]
        assert await client.call("one") == [{"k": [1, 2]}]
        with pytest.raises(AckTimeout):
            await client.call("no-such-event", timeout=0.2)


async def test_server_call_gets_the_client_ack_or_times_out(start_hub: StartHub) -> None:
    """session.call returns the client's ack, raises AckTimeout or NotConnected."""
    hub = Hub()
    joined: list[Session] = []
    hub.namespace("/").on_connect(lambda s, auth: _append(joined, s))
    _, port = await start_hub(hub)
    async with open_test_client(port) as client:

        async def confirm(question: str) -> str:
            return question.upper()

        client.responders["confirm"] = confirm
        await wait_until(lambda: len(joined) == 1)
        session = joined[0]
        assert await session.call("confirm", "yes?") == ["YES?"]
        with pytest.raises(AckTimeout):
            await session.call("unanswered", timeout=0.2)
    await wait_until(lambda: not session.connected)
    with pytest.raises(NotConnected):
        await session.call("confirm", "late")


async def test_binary_both_ways(start_hub: StartHub) -> None:
    """Bytes inside arguments travel as attachments, in place, in both directions."""
    hub = Hub()

    @hub.namespace("/").on("echo")
    async def echo(session: Session, *args: Any) -> tuple[Any, ...]:
        await session.emit("pushed", {"blob": b"\x00\xff" * 3, "n": 1}, b"tail")
        return args

    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        payload = [b"\x01\x02", {"nested": [b"", b"\xfe" * 70000]}, "text"]
        assert await client.call("echo", *payload) == payload
        assert await client.next_event() == ("pushed", [{"blob": b"\x00\xff" * 3, "n": 1}, b"tail"])


async def test_handler_error_is_counted_and_connection_lives(start_hub: StartHub) -> None:
    """A failing handler gives no ack, is counted, and the connection goes on."""
    hub = Hub()
    ns = hub.namespace("/")

    @ns.on("boom")
    async def boom(session: Session) -> None:
        raise RuntimeError("handler bug")

    ns.on("ok")(_returns("fine"))
    ns.on("unencodable")(_returns(object()))
    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        with pytest.raises(AckTimeout):
            await client.call("boom", timeout=0.2)
        with pytest.raises(AckTimeout):
            await client.call("unencodable", timeout=0.2)
        assert await client.call("ok") == ["fine"]
    assert hub.stats().errors["handler"] == 2


def _returns(value: Any) -> Any:
    async def handler(session: Session, *args: Any) -> Any:
        return value

    return handler


async def _append(into: list[Session], session: Session) -> None:
    into.append(session)
    await trio.lowlevel.checkpoint()
