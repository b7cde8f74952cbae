"""History and connection state recovery on the wire, as Socket.IO 4.6+ does it."""

from __future__ import annotations

from typing import Any

import trio

from hub import Hub, Session
from hub.protocol.socketio import SioType
from hub.standalone import standalone_hub
from hub.testing import TestClient, open_test_client, wait_until
from tests.conftest import StartHub


def recovering_hub(**settings: Any) -> tuple[Hub, list[Session]]:
    """A hub whose '/' namespace lets clients join rooms; it records connected sessions."""
    hub = Hub(**settings)
    connected: list[Session] = []
    ns = hub.namespace("/")

    @ns.on_connect
    async def connect(session: Session, auth: Any) -> None:
        connected.append(session)

    @ns.on("join")
    async def join(session: Session, room: str) -> None:
        await session.enter(room)

    return hub, connected


async def offsets_of(client: TestClient, count: int) -> list[tuple[str, list[Any]]]:
    return [await client.next_event() for _ in range(count)]


async def test_off_by_default_no_pid_and_no_trailing_offset(start_hub: StartHub) -> None:
    """Without recovery the CONNECT reply has no pid and events carry no offset."""
    hub, _ = recovering_hub()
    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        assert set(client.connect_replies["/"]) == {"sid"}
        await hub.emit("e", 1)
        assert await client.next_event() == ("e", [1])


async def test_stored_broadcasts_carry_their_offset_others_do_not(start_hub: StartHub) -> None:
    """With recovery on, stored events end with their offset; volatile ones do not."""
    hub, connected = recovering_hub(recovery=60)
    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        assert set(client.connect_replies["/"]) == {"sid", "pid"}
        first = hub.publish("e", 1)
        second = hub.publish("e", 2)
        assert await client.next_event() == ("e", [1, first.offset])
        assert await client.next_event() == ("e", [2, second.offset])
        assert first.offset != second.offset
        # A direct emit is stored and tagged too (as Socket.IO does with recovery on).
        await connected[0].emit("direct", 3)
        name, (value, offset) = await client.next_event()
        assert (name, value) == ("direct", 3) and offset > second.offset
        await hub.emit("quick", 4, volatile=True)
        assert await client.next_event() == ("quick", [4])


async def test_resumed_session_gets_sid_rooms_and_missed_events_first(
    start_hub: StartHub,
) -> None:
    """Reconnecting with pid and offset: same sid and pid, rooms, then missed events, in order."""
    hub, connected = recovering_hub(recovery=60)
    _, port = await start_hub(hub)
    async with open_test_client(port, auth={"token": "t"}) as client:
        await client.call("join", "room")
        seen = hub.publish("e", 0, to="room")
        assert (await client.next_event())[1] == [0, seen.offset]
        sid, pid = client.sids["/"], client.connect_replies["/"]["pid"]
    await wait_until(lambda: not hub.namespace("/").sessions)
    missed = [hub.publish("e", n, to="room").offset for n in (1, 2)]
    hub.publish("elsewhere", to="other-room")
    resume = {"token": "t", "pid": pid, "offset": seen.offset}
    async with open_test_client(port, auth=resume) as client:
        assert client.connect_replies["/"] == {"sid": sid, "pid": pid}
        kinds = [(p.type, p.data[0] if p.is_event else None) for p in client.received]
        assert kinds == [(SioType.EVENT, "e"), (SioType.EVENT, "e"), (SioType.CONNECT, None)]
        assert await offsets_of(client, 2) == [("e", [1, missed[0]]), ("e", [2, missed[1]])]
        resumed = connected[-1]
        assert resumed.recovered and resumed.sid == sid
        assert resumed.auth == {"token": "t"}  # the recovery fields are not the app's auth
        assert resumed.rooms == {"room"}
        assert await hub.emit("live", to="room") == 1
    assert hub.stats().recovered == 1


async def test_no_offset_yet_resumes_from_where_the_session_joined(start_hub: StartHub) -> None:
    """A client that got no tagged event before the cut still receives what it missed."""
    hub, _ = recovering_hub(recovery=60)
    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        await client.call("join", "room")
        sid, pid = client.sids["/"], client.connect_replies["/"]["pid"]
    await wait_until(lambda: not hub.namespace("/").sessions)
    offset = hub.publish("e", 1, to="room").offset
    async with open_test_client(port, auth={"pid": pid}) as client:
        assert client.sids["/"] == sid
        assert await client.next_event() == ("e", [1, offset])


async def test_voluntary_disconnect_is_not_recoverable(start_hub: StartHub) -> None:
    """After a client's own namespace disconnect, its pid gets a fresh session."""
    hub, _ = recovering_hub(recovery=60)
    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        sid, pid = client.sids["/"], client.connect_replies["/"]["pid"]
        await client.disconnect("/")
        await wait_until(lambda: not hub.namespace("/").sessions)
    async with open_test_client(port, auth={"pid": pid, "offset": None}) as client:
        assert client.sids["/"] != sid
        assert client.connect_replies["/"]["pid"] != pid


async def test_expired_window_gives_a_fresh_session(start_hub: StartHub) -> None:
    """Past the recovery window the pid is forgotten: new sid, new pid."""
    hub, _ = recovering_hub(recovery=0.2)
    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        sid, pid = client.sids["/"], client.connect_replies["/"]["pid"]
    await wait_until(lambda: not hub.namespace("/").sessions)
    await trio.sleep(0.4)
    async with open_test_client(port, auth={"pid": pid}) as client:
        assert client.sids["/"] != sid and client.connect_replies["/"]["pid"] != pid


async def test_history_that_moved_on_gives_a_fresh_session_and_a_gap(
    start_hub: StartHub,
) -> None:
    """When the missed events were trimmed, recovery fails and replay reports the gap."""
    hub = standalone_hub(recovery=60, history_events=2)
    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        await client.call("join", "room")
        last = hub.publish("e", 0, to="room").offset
        await client.next_event()
        sid, pid = client.sids["/"], client.connect_replies["/"]["pid"]
    await wait_until(lambda: not hub.namespace("/").sessions)
    for n in range(1, 6):
        hub.publish("e", n, to="room")
    async with open_test_client(port, auth={"pid": pid, "offset": last}) as client:
        assert client.sids["/"] != sid
        (answer,) = await client.call("replay", {"room": "room", "since": last})
        assert answer["ok"] is True and answer["complete"] is False
        assert answer["events"] == []
        (everything,) = await client.call("replay", {"room": "room", "since": None})
        assert [event["args"] for event in everything["events"]] == [[4], [5]]
    assert hub.namespace("/").history.dropped == 4


async def test_events_for_an_empty_room_wait_for_a_join_with_since(start_hub: StartHub) -> None:
    """Events published to a room nobody is in are replayed on join(room, since), first."""
    hub = standalone_hub()
    _, port = await start_hub(hub)
    before = hub.namespace("/").history.latest
    offsets = [hub.publish("task", {"n": n}, to="project").offset for n in range(3)]
    assert all(offsets)
    async with open_test_client(port) as client:
        (ack,) = await client.call("join", "project", before)
        assert ack == {"ok": True, "room": "project", "replayed": 3, "complete": True}
        assert await offsets_of(client, 3) == [("task", [{"n": n}]) for n in range(3)]
        (since_one,) = await client.call("replay", {"room": "project", "since": offsets[0]})
        assert [e["offset"] for e in since_one["events"]] == offsets[1:]
        assert since_one["complete"] is True
        (limited,) = await client.call("replay", {"room": "project", "since": None, "limit": 1})
        assert [e["args"] for e in limited["events"]] == [[{"n": 0}]]
        (bad,) = await client.call("replay", {"room": "project", "limit": 0})
        assert bad["ok"] is False


async def test_namespace_can_switch_recovery_on_for_itself(start_hub: StartHub) -> None:
    """A per-namespace override turns recovery on there only."""
    hub = Hub()
    hub.namespace("/live", recovery=30, history_events=10)
    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        await client.connect("/live")
        assert "pid" not in client.connect_replies["/"]
        assert "pid" in client.connect_replies["/live"]
    assert hub.namespace("/live").config.history_events == 10
    assert hub.config.recovery == 0
