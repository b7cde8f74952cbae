"""One Engine.IO connection's Socket.IO side: namespaces, handlers and acks.

Theory: the transport feeds every MESSAGE payload, in order, to ``receive``. Packets
are dispatched inline, so the handlers of one client run one at a time in arrival order
(as in the reference server); a handler's return value becomes the ack. ``close`` drops
every namespace session once the transport is gone.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from hub.core.handshake import Handshake
from hub.core.link import Link
from hub.core.session import Session, new_sid
from hub.errors import ConnectRefused, ProtocolError
from hub.protocol.outgoing import Outgoing
from hub.protocol.socketio import SioDecoder, SioPacket, SioType

if TYPE_CHECKING:
    from hub.core.hub import Hub

log = logging.getLogger("hub")


def _split_auth(data: Any) -> tuple[Any, str | None, str | None]:
    """The application's auth, and the recovery pid and offset a client added to it.

    No pid means no recovery. A client that never got a stored event sends no offset
    (resumed from where its session joined); any other non-string offset is malformed,
    and then nothing is resumed.
    """
    if not isinstance(data, dict) or "pid" not in data:
        return data, None, None
    auth = {key: value for key, value in data.items() if key not in ("pid", "offset")}
    pid, offset = data.get("pid"), data.get("offset")
    if not isinstance(pid, str) or not isinstance(offset, str | None):
        pid = offset = None
    return auth or None, pid, offset


def ack_args(result: Any) -> list[Any]:
    """A handler's return value as ack arguments: None -> none, tuple -> several."""
    if result is None:
        return []
    if isinstance(result, tuple):
        return list(result)
    return [result]


class Client:
    def __init__(self, hub: Hub, link: Link, handshake: Handshake) -> None:
        self.hub = hub
        self.link = link
        self.handshake = handshake
        self.sessions: dict[str, Session] = {}
        self._decoder = SioDecoder()

    @property
    def remote(self) -> str:
        return self.handshake.remote

    def rebind(self, link: Link) -> None:
        """Deliver through ``link`` from now on (the transport was upgraded)."""
        self.link = link
        for session in self.sessions.values():
            session.link = link

    async def receive(self, payload: str | bytes) -> None:
        """One Engine.IO MESSAGE payload; raises ``ProtocolError`` on malformed input."""
        packet = self._decoder.feed(payload)
        if packet is None:
            return
        if packet.type is SioType.CONNECT:
            await self._connect(packet)
            return
        session = self.sessions.get(packet.namespace)
        if session is None:
            # As in the reference server: a packet for a namespace not joined ends the client.
            raise ProtocolError(f"{packet.type.name} for namespace {packet.namespace} not joined")
        if packet.is_event:
            await self._event(session, packet)
        elif packet.is_ack:
            assert packet.id is not None
            if not session.resolve_ack(packet.id, packet.data):
                self.hub.counters.errors["unknown_ack"] += 1
        elif packet.type is SioType.DISCONNECT:
            await session.namespace.drop(session, "client namespace disconnect")
        else:
            raise ProtocolError(f"client may not send {packet.type.name}")

    async def close(self, reason: str) -> None:
        """The transport is gone: every namespace session ends with ``reason``."""
        sessions, self.sessions = self.sessions, {}
        for session in sessions.values():
            await session.namespace.drop(session, reason)

    async def _connect(self, packet: SioPacket) -> None:
        name = packet.namespace
        namespace = self.hub.namespaces.get(name)
        if namespace is None:
            self.hub.counters.errors["invalid_namespace"] += 1
            self._refuse(name, {"message": "Invalid namespace"})
            return
        if name in self.sessions:
            raise ProtocolError(f"namespace {name} is already connected")
        auth, pid, offset = _split_auth(packet.data)
        resumed = namespace.resume(pid, offset) if pid is not None else None
        session = Session(namespace, self, auth, resumed=resumed[0] if resumed else None)
        if namespace.config.recovery and session.pid is None:
            session.pid = new_sid()
        if namespace.connect_handler is not None:
            try:
                await namespace.connect_handler(session, auth)
            except ConnectRefused as refusal:
                self.hub.counters.errors["connect_refused"] += 1
                body = {"message": refusal.message}
                if refusal.data is not None:
                    body["data"] = refusal.data
                self._refuse(name, body)
                return
            except Exception:
                self.hub.counters.errors["handler"] += 1
                log.exception("connect handler of %s failed", name)
                self._refuse(name, {"message": "Internal server error"})
                return
        # From here to the CONNECT reply nothing awaits, so no broadcast can slip between
        # the missed events and the live ones.
        missed = namespace.history.after(resumed[1]) if resumed else None
        if missed is not None and not missed.complete:
            # The history moved past the client's offset during the connect handler: a
            # fresh pid tells the client it was not recovered and must reload its state.
            session.recovered, session.pid = False, new_sid()
            self.hub.counters.errors["recovery_gap"] += 1
            missed = None
        self.sessions[name] = session
        namespace.admit(session)
        if missed is not None:
            # As Socket.IO does: missed events first, then the CONNECT reply.
            rooms = session.rooms | {session.sid}
            entries = [entry for entry in missed.entries if entry.reaches(rooms)]
            for entry in entries:
                self.link.deliver(entry.packet)
            self.hub.counters.deliveries += len(entries)
            self.hub.counters.recovered += 1
        reply: dict[str, Any] = {"sid": session.sid}
        if session.pid is not None:
            reply["pid"] = session.pid
        session.send(SioPacket(SioType.CONNECT, name, reply))

    async def _event(self, session: Session, packet: SioPacket) -> None:
        self.hub.counters.events_in += 1
        name, *args = packet.data
        handler = session.namespace.handlers.get(name)
        if handler is None:
            return
        try:
            result = await handler(session, *args)
        except Exception:
            self.hub.counters.errors["handler"] += 1
            log.exception("handler %r of %s failed", name, session.namespace.name)
            return
        if packet.id is not None and session.connected:
            ack = SioPacket(SioType.ACK, session.namespace.name, ack_args(result), packet.id)
            try:
                session.send(ack)
            except (TypeError, ValueError) as error:
                # The handler returned something JSON cannot carry: an application bug.
                self.hub.counters.errors["handler"] += 1
                log.error("ack of handler %r of %s: %s", name, session.namespace.name, error)

    def _refuse(self, namespace: str, body: dict[str, Any]) -> None:
        self.link.deliver(Outgoing(SioPacket(SioType.CONNECT_ERROR, namespace, body)))
