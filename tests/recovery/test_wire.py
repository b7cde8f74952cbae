"""Connection state recovery on the wire, frame by frame, against an in-process hub.

A raw client (``wire.WireClient``) records every message each way, so these tests pin the
exact frames Socket.IO 4.6+ uses: the CONNECT reply ``40{"sid","pid"}``, the offset as a
trailing argument of stored broadcasts, the resume CONNECT ``40{"pid","offset"}`` answered
with the missed events first and then the same sid and pid. A lost connection is a TCP
RST (no WebSocket close), as a dead network looks to the server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import trio

from hub import Hub, Session
from hub.testing import wait_until
from tests.conftest import StartHub
from tests.recovery.wire import WireClient, event_of, render


def recovery_hub(**settings: Any) -> tuple[Hub, dict[str, Session]]:
    """A hub whose ``/`` has ``join(room)`` and ``poke()``; sessions by sid."""
    hub = Hub(**settings)
    sessions: dict[str, Session] = {}
    root = hub.namespace("/")

    @root.on_connect
    async def connect(session: Session, auth: dict[str, Any] | None) -> None:
        sessions[session.sid] = session

    @root.on("join")
    async def join(session: Session, room: str) -> bool:
        await session.enter(room)
        return True

    @root.on("poke")
    async def poke(session: Session) -> None:
        await session.emit("direct", "poked")

    return hub, sessions


class Wire:
    """Opens raw clients and closes every one of them at the test's end."""

    def __init__(self) -> None:
        self.clients: list[WireClient] = []

    async def open(self, port: int) -> WireClient:
        client = await WireClient.open(port)
        self.clients.append(client)
        return client

    async def connected(
        self, port: int, data: dict[str, Any] | None = None
    ) -> tuple[WireClient, dict[str, Any]]:
        """A client with ``/`` connected (CONNECT payload ``data``) and the reply's JSON."""
        client = await self.open(port)
        reply = await client.connect("/", data)
        assert reply.startswith("40{"), render(client.trace)
        answer: dict[str, Any] = orjson.loads(reply[2:])
        return client, answer


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    """The test's raw clients, closed whatever happened."""
    opened = Wire()
    try:
        yield opened
    finally:
        for client in opened.clients:
            await trio.aclose_forcefully(client.stream)


async def join(client: WireClient, room: str) -> None:
    await client.send(f'420["join","{room}"]')
    assert await client.receive_until("43") == ["430[true]"], render(client.trace)


async def gone(hub: Hub) -> None:
    """Waits until the hub has no session left in ``/`` (it noticed the lost connection)."""
    await wait_until(lambda: hub.stats().sessions.get("/", 0) == 0)


async def cut_after_one_event(hub: Hub, wire: Wire, port: int) -> tuple[dict[str, Any], str]:
    """Connect, join room "r", receive one tagged event, then cut the connection.

    Returns the CONNECT reply (sid, pid) and the offset of that event.
    """
    client, first = await wire.connected(port)
    await join(client, "r")
    await hub.emit("tick", {"n": 1}, to="r")
    offset = event_of(await client.receive())[-1]
    await client.abort()
    await gone(hub)
    return first, str(offset)


async def test_connect_reply_holds_sid_and_pid(start_hub: StartHub, wire: Wire) -> None:
    """With recovery on, the CONNECT reply is exactly ``40{"sid":..., "pid":...}``."""
    hub, _ = recovery_hub(recovery=120)
    _, port = await start_hub(hub)
    client, reply = await wire.connected(port)
    assert set(reply) == {"sid", "pid"}, render(client.trace)
    assert isinstance(reply["sid"], str) and reply["sid"]
    assert isinstance(reply["pid"], str) and reply["pid"]
    assert reply["pid"] != reply["sid"]
    await client.close()


async def test_recovery_off_by_default_on_the_wire(start_hub: StartHub, wire: Wire) -> None:
    """Without the setting: ``40{"sid"}`` only, broadcasts carry no offset, no resume."""
    hub, _ = recovery_hub()
    _, port = await start_hub(hub)
    client, reply = await wire.connected(port)
    assert set(reply) == {"sid"}
    await join(client, "r")
    await hub.emit("tick", {"n": 1}, to="r")
    assert await client.receive() == '42["tick",{"n":1}]'
    await client.abort()
    await gone(hub)
    again, second = await wire.connected(port, {"pid": "x", "offset": "y"})
    assert set(second) == {"sid"}
    assert second["sid"] != reply["sid"]
    assert await again.quiet() == []
    await again.close()


async def test_stored_broadcasts_end_with_an_offset(start_hub: StartHub, wire: Wire) -> None:
    """Room and namespace broadcasts get a distinct string offset last; volatile ones don't."""
    hub, _ = recovery_hub(recovery=120)
    _, port = await start_hub(hub)
    client, _ = await wire.connected(port)
    await join(client, "r")
    await hub.emit("tick", {"n": 1}, to="r")
    await hub.emit("tick", {"n": 2})
    await hub.emit("vol", {"n": 3}, to="r", volatile=True)
    first, second, volatile = [await client.receive() for _ in range(3)]
    one, two = event_of(first), event_of(second)
    assert one[:2] == ["tick", {"n": 1}] and len(one) == 3, render(client.trace)
    assert two[:2] == ["tick", {"n": 2}] and len(two) == 3, render(client.trace)
    assert isinstance(one[2], str) and isinstance(two[2], str)
    assert one[2] != two[2]
    assert volatile == '42["vol",{"n":3}]', render(client.trace)
    await client.close()


async def test_resume_replays_missed_events_before_the_connect_reply(
    start_hub: StartHub, wire: Wire
) -> None:
    """``40{"pid","offset"}`` gets the missed events in order, then the same sid and pid."""
    hub, _ = recovery_hub(recovery=120)
    _, port = await start_hub(hub)
    first, offset = await cut_after_one_event(hub, wire, port)
    await hub.emit("tick", {"n": 2}, to="r")
    await hub.emit("tick", {"n": 3})
    await hub.emit("elsewhere", {"n": 4}, to="other-room")
    await hub.emit("vol", {"n": 5}, to="r", volatile=True)

    again = await wire.open(port)
    resume = orjson.dumps({"pid": first["pid"], "offset": offset}).decode()
    await again.send("40" + resume)
    frames = await again.receive_until("40")
    trace = render(again.trace)
    assert len(frames) == 3, trace
    two, three = event_of(frames[0]), event_of(frames[1])
    assert two[:2] == ["tick", {"n": 2}] and isinstance(two[2], str), trace
    assert three[:2] == ["tick", {"n": 3}] and isinstance(three[2], str), trace
    assert orjson.loads(str(frames[2])[2:]) == first, trace  # same sid, same pid
    await hub.emit("tick", {"n": 6}, to="r")  # its rooms came back with it
    assert event_of(await again.receive())[:2] == ["tick", {"n": 6}], render(again.trace)
    assert await again.quiet() == []
    await again.close()


async def test_binary_broadcast_is_replayed_with_its_attachment(
    start_hub: StartHub, wire: Wire
) -> None:
    """A missed broadcast holding bytes comes back as ``451-[...,offset]`` plus its frame."""
    hub, _ = recovery_hub(recovery=120)
    _, port = await start_hub(hub)
    first, offset = await cut_after_one_event(hub, wire, port)
    await hub.emit("blob", {"data": b"\x00\x01\xff"}, to="r")

    again = await wire.open(port)
    await again.send("40" + orjson.dumps({"pid": first["pid"], "offset": offset}).decode())
    frames = await again.receive_until("40")
    trace = render(again.trace)
    assert len(frames) == 3, trace
    header = frames[0]
    assert isinstance(header, str) and header.startswith("451-["), trace
    body = orjson.loads(header[len("451-") :])
    assert body[:2] == ["blob", {"data": {"_placeholder": True, "num": 0}}], trace
    assert len(body) == 3 and isinstance(body[2], str), trace
    assert frames[1] == b"\x00\x01\xff", trace
    assert orjson.loads(str(frames[2])[2:]) == first, trace
    await again.close()


async def test_events_to_the_sid_while_away_are_replayed(start_hub: StartHub, wire: Wire) -> None:
    """``hub.emit(..., to=sid)`` while the client is away is stored and replayed on resume."""
    hub, _ = recovery_hub(recovery=120)
    _, port = await start_hub(hub)
    client, first = await wire.connected(port)
    await hub.emit("tick", {"n": 1}, to=first["sid"])
    offset = event_of(await client.receive())[-1]
    await client.abort()
    await gone(hub)
    await hub.emit("tick", {"n": 2}, to=first["sid"])

    again = await wire.open(port)
    await again.send("40" + orjson.dumps({"pid": first["pid"], "offset": offset}).decode())
    frames = await again.receive_until("40")
    assert [event_of(frame)[:2] for frame in frames[:-1]] == [["tick", {"n": 2}]], render(
        again.trace
    )
    assert orjson.loads(str(frames[-1])[2:]) == first
    await again.close()


async def test_a_pid_resumes_once(start_hub: StartHub, wire: Wire) -> None:
    """A second CONNECT with an already-resumed pid gets a fresh session with a new pid."""
    hub, _ = recovery_hub(recovery=120)
    _, port = await start_hub(hub)
    first, offset = await cut_after_one_event(hub, wire, port)
    resume = {"pid": first["pid"], "offset": offset}
    again, second = await wire.connected(port, resume)
    assert second == first, render(again.trace)
    thief, third = await wire.connected(port, resume)
    assert third["sid"] != first["sid"], render(thief.trace)
    assert third["pid"] != first["pid"]
    assert await thief.quiet() == []
    await thief.close()
    await again.close()


async def test_unknown_pid_or_offset_gives_a_fresh_session(start_hub: StartHub, wire: Wire) -> None:
    """A pid the hub never issued, or an offset it never stored: a new sid and pid, no events."""
    hub, _ = recovery_hub(recovery=120)
    _, port = await start_hub(hub)
    client, first = await wire.connected(port)
    await join(client, "r")
    await hub.emit("tick", {"n": 1}, to="r")
    await client.receive()
    await client.abort()
    await gone(hub)
    stranger, fresh = await wire.connected(port, {"pid": "no-such-pid", "offset": "no-such-offset"})
    assert fresh["sid"] != first["sid"] and fresh["pid"] != first["pid"]
    assert await stranger.quiet() == []
    await stranger.close()
    lost, other = await wire.connected(port, {"pid": first["pid"], "offset": "no-such-offset"})
    assert other["sid"] != first["sid"], render(lost.trace)
    assert await lost.quiet() == []
    await lost.close()


async def test_client_disconnect_packet_is_not_recoverable(start_hub: StartHub, wire: Wire) -> None:
    """After a ``41`` (the client chose to leave) the pid resumes nothing."""
    hub, _ = recovery_hub(recovery=120)
    _, port = await start_hub(hub)
    client, first = await wire.connected(port)
    await join(client, "r")
    await hub.emit("tick", {"n": 1}, to="r")
    offset = event_of(await client.receive())[-1]
    await client.send("41")
    await gone(hub)
    await client.close()
    await hub.emit("tick", {"n": 2}, to="r")
    again, second = await wire.connected(port, {"pid": first["pid"], "offset": offset})
    assert second["sid"] != first["sid"], render(again.trace)
    assert await again.quiet() == []
    await again.close()


@pytest.mark.parametrize("window", [0.5])
async def test_resume_after_the_window_is_refused(
    start_hub: StartHub, wire: Wire, window: float
) -> None:
    """Past ``recovery`` seconds the pid resumes nothing: a fresh session, no missed events."""
    hub, _ = recovery_hub(recovery=window)
    _, port = await start_hub(hub)
    first, offset = await cut_after_one_event(hub, wire, port)
    await hub.emit("tick", {"n": 2}, to="r")
    await trio.sleep(window + 0.3)
    again, second = await wire.connected(port, {"pid": first["pid"], "offset": offset})
    assert second["sid"] != first["sid"], render(again.trace)
    assert await again.quiet() == []
    await again.close()


async def test_session_emit_is_stored_like_the_reference(start_hub: StartHub, wire: Wire) -> None:
    """As Socket.IO's ``socket.emit`` with recovery on: ``session.emit`` carries an offset."""
    hub, _ = recovery_hub(recovery=120)
    _, port = await start_hub(hub)
    client, _ = await wire.connected(port)
    await client.send('42["poke"]')
    direct = event_of(await client.receive())
    assert direct[:2] == ["direct", "poked"], render(client.trace)
    assert len(direct) == 3 and isinstance(direct[2], str), render(client.trace)
    await client.close()


async def test_calls_expecting_an_ack_carry_no_offset(
    start_hub: StartHub, wire: Wire, nursery: trio.Nursery
) -> None:
    """A server-to-client event with an ack id is not stored: no trailing offset."""
    hub, sessions = recovery_hub(recovery=120)
    _, port = await start_hub(hub)
    client, first = await wire.connected(port)
    answers: list[list[Any]] = []

    async def ask() -> None:
        answers.append(await sessions[first["sid"]].call("question", 7))

    nursery.start_soon(ask)
    frame = await client.receive()
    assert isinstance(frame, str), render(client.trace)
    ack_id = frame[2:].split("[", 1)[0]
    assert ack_id.isdigit() and event_of("42" + frame[2 + len(ack_id) :]) == ["question", 7], (
        render(client.trace)
    )
    await client.send(f"43{ack_id}[1]")
    await wait_until(lambda: bool(answers))
    assert answers == [[1]]
    await client.close()


async def test_non_string_offset_resumes_nothing(start_hub: StartHub, wire: Wire) -> None:
    """``40{"pid", "offset": 5}``: as in Socket.IO (offset must be a string), a fresh session;
    never a resume that replays events the client already had."""
    hub, _ = recovery_hub(recovery=120)
    _, port = await start_hub(hub)
    client, first = await wire.connected(port)
    await join(client, "r")
    await hub.emit("tick", {"n": 1}, to="r")
    await client.receive()
    await client.abort()
    await gone(hub)
    again = await wire.open(port)
    await again.send("40" + orjson.dumps({"pid": first["pid"], "offset": 5}).decode())
    frames = await again.receive_until("40")
    assert len(frames) == 1, render(again.trace)
    assert orjson.loads(str(frames[0])[2:])["sid"] != first["sid"], render(again.trace)
