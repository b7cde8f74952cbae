"""Room bookkeeping and recipient resolution, with no sockets: links are recorders."""

from __future__ import annotations

import pytest

from hub import Hub, NotConnected, Session
from hub.core.client import Client, ack_args
from hub.core.handshake import Handshake
from hub.core.rooms import Rooms
from hub.protocol.outgoing import Outgoing


class RecordingLink:
    """A Link that keeps the Engine.IO text of what it was handed."""

    def __init__(self) -> None:
        self.packets: list[bytes] = []
        self.closed: str | None = None

    def deliver(self, packet: Outgoing, *, volatile: bool = False) -> None:
        self.packets.append(packet.text)

    def close(self, reason: str) -> None:
        self.closed = reason


def connected(hub: Hub, namespace: str = "/") -> tuple[Session, RecordingLink]:
    link = RecordingLink()
    session = Session(hub.namespace(namespace), Client(hub, link, Handshake("test")), None)
    hub.namespace(namespace).admit(session)
    return session, link


def test_rooms_keep_join_order_and_forget_empty_rooms() -> None:
    """Members come back in join order; an emptied room disappears."""
    rooms: Rooms[str] = Rooms()
    for member in ("c", "a", "b"):
        rooms.add(member, "r")
    assert list(rooms.members("r")) == ["c", "a", "b"]
    rooms.discard("a", "r")
    rooms.discard("a", "r")  # twice is harmless
    assert rooms.sizes() == {"r": 2}
    rooms.discard("c", "r")
    rooms.discard("b", "r")
    assert "r" not in rooms
    assert list(rooms.members("r")) == []


def test_ack_args_shapes() -> None:
    """None is no argument, a tuple is several, anything else is one."""
    assert ack_args(None) == []
    assert ack_args((1, 2)) == [1, 2]
    assert ack_args([1, 2]) == [[1, 2]]
    assert ack_args(0) == [0]


async def test_broadcast_encodes_once_and_skips_excluded() -> None:
    """Every recipient gets the very same encoded bytes; excluded sids get nothing."""
    hub = Hub()
    (a, link_a), (b, link_b), (c, link_c) = (connected(hub) for _ in range(3))
    for session in (a, b, c):
        await session.enter("room")
    assert hub.emit_nowait("ev", {"x": 1}, to="room", except_=b.sid) == 2
    assert link_a.packets == [b'42["ev",{"x":1}]']
    assert link_a.packets[0] is link_c.packets[0]
    assert link_b.packets == []
    assert hub.stats().deliveries == 2


async def test_namespace_prefix_and_unknown_namespace() -> None:
    """Packets name their namespace; emitting to an undeclared one is a KeyError."""
    hub = Hub()
    _, link = connected(hub, "/dash")
    assert hub.emit_nowait("ev", namespace="/dash") == 1
    assert link.packets == [b'42/dash,["ev"]']
    with pytest.raises(KeyError):
        hub.emit_nowait("ev", namespace="/nowhere")


async def test_dropped_session_leaves_rooms_and_refuses_emits() -> None:
    """After drop, a session is in no room and emit raises NotConnected."""
    hub = Hub()
    session, _ = connected(hub)
    await session.enter("r")
    await hub.namespace("/").drop(session, "transport close")
    assert hub.stats().rooms == {"/": {}}
    assert hub.stats().disconnects == {"transport close": 1}
    with pytest.raises(NotConnected):
        await session.emit("ev")
    with pytest.raises(NotConnected):
        await session.enter("r")


def test_namespace_names_are_checked() -> None:
    """A namespace name must start with '/' and hold no comma."""
    hub = Hub()
    for bad in ("dash", "/a,b", ""):
        with pytest.raises(ValueError):
            hub.namespace(bad)
    assert hub.namespace("/x") is hub.namespace("/x")
