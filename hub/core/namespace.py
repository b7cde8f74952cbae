"""A namespace: its handlers, its sessions and its rooms, and broadcast within it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from hub.core.rooms import Rooms
from hub.core.session import Session
from hub.protocol.outgoing import Outgoing
from hub.protocol.socketio import SioPacket, SioType

if TYPE_CHECKING:
    from hub.core.hub import Hub

log = logging.getLogger("hub")

EventHandler = Callable[..., Awaitable[Any]]
ConnectHandler = Callable[[Session, Any], Awaitable[None]]
DisconnectHandler = Callable[[Session, str], Awaitable[None]]
H = TypeVar("H", bound=Callable[..., Awaitable[Any]])

Target = str | Iterable[str] | None


class Namespace:
    def __init__(self, hub: Hub, name: str) -> None:
        self.hub = hub
        self.name = name
        self.handlers: dict[str, EventHandler] = {}
        self.connect_handler: ConnectHandler | None = None
        self.disconnect_handler: DisconnectHandler | None = None
        self.sessions: dict[str, Session] = {}
        self.rooms: Rooms[Session] = Rooms()

    def __repr__(self) -> str:
        return f"<Namespace {self.name}>"

    def on(self, event: str) -> Callable[[H], H]:
        """Register ``async def handler(session, *args)``; its return value is the ack."""

        def register(handler: H) -> H:
            self.handlers[event] = handler
            return handler

        return register

    def on_connect(self, handler: ConnectHandler) -> ConnectHandler:
        """``async def handler(session, auth)``; raise ``ConnectRefused`` to refuse."""
        self.connect_handler = handler
        return handler

    def on_disconnect(self, handler: DisconnectHandler) -> DisconnectHandler:
        """``async def handler(session, reason)``, after the session left its rooms."""
        self.disconnect_handler = handler
        return handler

    def admit(self, session: Session) -> None:
        session.connected = True
        self.sessions[session.sid] = session

    async def drop(self, session: Session, reason: str) -> None:
        """Remove a session everywhere, then tell the application why it left."""
        if self.sessions.pop(session.sid, None) is None:
            return
        if session.client.sessions.get(self.name) is session:
            del session.client.sessions[self.name]
        for room in session.forget_rooms():
            self.rooms.discard(session, room)
        self.hub.counters.disconnects[reason] += 1
        if self.disconnect_handler is not None:
            try:
                await self.disconnect_handler(session, reason)
            except Exception:
                self.hub.counters.errors["handler"] += 1
                log.exception("disconnect handler of %s failed", self.name)

    def members(self, name: str) -> Iterable[Session]:
        """The members of a room; a session's sid names a room holding just that session."""
        session = self.sessions.get(name)
        return (session,) if session is not None else self.rooms.members(name)

    def union(self, names: Iterable[str]) -> dict[Session, None]:
        found: dict[Session, None] = {}
        for name in names:
            found.update(dict.fromkeys(self.members(name)))
        return found

    def targets(self, to: Target, except_: Target = None) -> Iterable[Session]:
        """Sessions addressed by rooms or sids, each once, minus exclusions."""
        if to is None:
            found: Iterable[Session] = self.sessions.values()
        elif isinstance(to, str):
            found = self.members(to)
        else:
            found = self.union(to)
        if except_ is None:
            return found
        excluded = self.union([except_] if isinstance(except_, str) else except_)
        return [session for session in found if session not in excluded]

    def encode(self, event: str, args: tuple[Any, ...]) -> Outgoing:
        """An event of this namespace, encoded once for all its recipients."""
        return Outgoing(SioPacket(SioType.EVENT, self.name, [event, *args]))

    def broadcast(
        self, packet: Outgoing, to: Target = None, except_: Target = None, volatile: bool = False
    ) -> int:
        """Hand the same encoded bytes to every recipient; returns how many."""
        count = 0
        for session in self.targets(to, except_):
            session.link.deliver(packet, volatile=volatile)
            count += 1
        self.hub.counters.deliveries += count
        return count
