"""One Engine.IO connection's Socket.IO side: namespaces, handlers and acks.

Theory: the transport feeds every MESSAGE payload, in order, to ``receive``. Packets
are dispatched inline, so the handlers of one client run one at a time in arrival order
(as in the reference server); a handler's return value becomes the ack. ``close`` drops
every namespace session once the transport is gone.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from hub.core.event_rate import EventRate, Verdict
from hub.core.handshake import Handshake
from hub.core.link import Link
from hub.core.sanitize import too_deep
from hub.core.session import Session, new_sid
from hub.errors import AuthError, ConnectRefused, Forbidden, LimitExceeded, ProtocolError, Refusal
from hub.protocol.outgoing import Outgoing
from hub.protocol.socketio import SioDecoder, SioPacket, SioType

if TYPE_CHECKING:
    from hub.auth.claims import Claims
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


# The event a client sends to replace its session's token before it expires.
REFRESH_EVENT = "hub:refresh"


def _token(auth: Any, handshake: Handshake) -> Any:
    """The token a namespace connection presents: ``auth.token``, else the opening
    request's ``Authorization: Bearer`` header or ``token`` query parameter."""
    if isinstance(auth, dict) and "token" in auth:
        return auth["token"]
    return handshake.token


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
        self._rate = EventRate(hub.config.event_burst, time.monotonic())

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
        if (packet.is_event or packet.type is SioType.CONNECT) and not self._take_token(packet):
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

    def _take_token(self, packet: SioPacket) -> bool:
        """Whether the event rate allows ``packet``; past it, drop and tell, then close."""
        config = self.hub.config
        verdict = self._rate.take(time.monotonic(), config.event_rate, config.event_burst)
        if verdict is Verdict.TAKE:
            return True
        self.hub.counters.errors["rate_limited"] += 1
        if verdict is Verdict.REFUSE:
            log.info("remote=%s rate limited: over %g events/s", self.remote, config.event_rate)
            refusal = LimitExceeded(
                f"over {config.event_rate:g} events/s: events are dropped, and the "
                f"connection closes after {config.event_burst} more",
                "rate_limited",
            )
            self._answer_refusal(packet, refusal)
        elif verdict is Verdict.CLOSE:
            log.info("remote=%s closed: still over the event rate", self.remote)
            self.link.close("rate limited")
        return False

    def _answer_refusal(self, packet: SioPacket, refusal: Refusal) -> None:
        """An error ack if the packet asked for one, else a ``hub:error`` event."""
        session = self.sessions.get(packet.namespace)
        if packet.type is SioType.CONNECT:
            self._refuse_with(packet.namespace, refusal)
        elif session is not None and packet.id is not None:
            session.send(SioPacket(SioType.ACK, packet.namespace, [error_ack(refusal)], packet.id))
        elif session is not None:
            session.send_error(refusal)

    def _admit(self, name: str, auth: Any) -> Claims | None:
        """Check the client may connect namespace ``name``: limits, token, access."""
        hub = self.hub
        config = hub.config
        if len(self.sessions) >= config.max_namespaces:
            raise LimitExceeded(
                f"a connection may join {config.max_namespaces} namespaces at most",
                "too_many_namespaces",
            )
        claims = hub.policy.admit(name, _token(auth, self.handshake))
        if claims is not None:
            self._check_user_connections(claims.user_id)
        return claims

    def _check_user_connections(self, user_id: str) -> None:
        limit = self.hub.config.max_connections_per_user
        if not limit:
            return
        others = {s.client for s in self.hub.users.members(user_id)} - {self}
        if len(others) >= limit:
            raise LimitExceeded(
                f"user {user_id!r} has {len(others)} connections already", "too_many_connections"
            )

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
        try:
            claims = self._admit(name, auth)
        except Refusal as refusal:
            self._refuse_with(name, refusal)
            return
        resumed = namespace.resume(pid, offset, claims) if pid is not None else None
        session = Session(namespace, self, auth, resumed=resumed[0] if resumed else None)
        if claims is not None:
            session.claims, session.user_id = claims, claims.user_id
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
        # the missed events and the live ones (nor another connection of the same user
        # past the limit checked again here, after the handler's awaits).
        if claims is not None:
            try:
                self._check_user_connections(claims.user_id)
            except Refusal as refusal:
                self._refuse_with(name, refusal)
                return
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
        self.hub.expiry.watch(session)

    async def _event(self, session: Session, packet: SioPacket) -> None:
        self.hub.counters.events_in += 1
        name, *args = packet.data
        if name == REFRESH_EVENT:
            handler: Any = self._refresh
        else:
            handler = session.namespace.handlers.get(name)
        if handler is None:
            return
        try:
            # The event's arguments are one level below its packet's array.
            if too_deep(packet.data, self.hub.config.max_depth + 1):
                raise Refusal(
                    f"the arguments nest deeper than {self.hub.config.max_depth} levels",
                    "payload_too_deep",
                )
            result = await handler(session, *args)
        except Refusal as refusal:
            # Refused on purpose (a join, a publish, a limit): the client is told why.
            self.hub.counters.errors[refusal.reason] += 1
            log.info(
                "remote=%s sid=%s namespace=%s event %r refused %s: %s",
                self.remote,
                session.sid,
                session.namespace.name,
                name,
                refusal.reason,
                refusal.message,
            )
            self._answer_refusal(packet, refusal)
            return
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

    async def _refresh(self, session: Session, *args: Any) -> dict[str, Any]:
        """``hub:refresh`` with ``{"token": ...}``: the session goes on with the new token.

        The token must name the same user and still grant the namespace."""
        if len(args) != 1:
            raise Refusal('hub:refresh takes one argument: {"token": ...}', "bad_request")
        request = args[0]
        token = request.get("token") if isinstance(request, dict) else request
        if session.claims is None or not self.hub.policy.enabled:
            raise Forbidden("this session did not connect with a token")
        claims = self.hub.policy.admit(session.namespace.name, token)
        if claims is None:
            raise AuthError("a token is required", "token_required")
        if claims.user_id != session.user_id:
            raise Forbidden("the new token names another user")
        session.claims = claims
        self.hub.expiry.watch(session)
        return {"ok": True, "expires_at": claims.expires_at}

    def _refuse_with(self, namespace: str, refusal: Refusal) -> None:
        self.hub.counters.errors[refusal.reason] += 1
        log.info(
            "remote=%s namespace=%s refused %s: %s",
            self.remote,
            namespace,
            refusal.reason,
            refusal.message,
        )
        self._refuse(namespace, {"message": refusal.message, "data": {"reason": refusal.reason}})

    def _refuse(self, namespace: str, body: dict[str, Any]) -> None:
        self.link.deliver(Outgoing(SioPacket(SioType.CONNECT_ERROR, namespace, body)))


def error_ack(refusal: Refusal) -> dict[str, Any]:
    """The ack of a refused event: ``{"ok": false, "error": reason, "message": ...}``."""
    return {"ok": False, "error": refusal.reason, "message": refusal.message}
