"""A namespace: its handlers, sessions and rooms; broadcast, history and recovery in it."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from hub.core.config import NAMESPACE_SETTINGS, HubConfig, make_config
from hub.core.history import History, Slice, Stored
from hub.core.recovery import RECOVERABLE_REASONS, Persisted, Vault
from hub.core.rooms import Rooms
from hub.core.session import Session
from hub.errors import Forbidden
from hub.protocol.outgoing import Outgoing
from hub.protocol.socketio import SioPacket, SioType

if TYPE_CHECKING:
    from hub.auth.claims import Claims
    from hub.core.hub import Hub

log = logging.getLogger("hub")

EventHandler = Callable[..., Awaitable[Any]]
ConnectHandler = Callable[[Session, Any], Awaitable[None]]
JoinCheck = Callable[[Session, str], Awaitable[bool]]
DisconnectHandler = Callable[[Session, str], Awaitable[None]]
H = TypeVar("H", bound=Callable[..., Awaitable[Any]])

Target = str | Iterable[str] | None


def _room_set(target: Target) -> frozenset[str] | None:
    if target is None:
        return None
    return frozenset((target,) if isinstance(target, str) else target)


@attrs.frozen
class Published:
    recipients: int
    offset: str | None  # None: not stored (volatile, or history off)


class Namespace:
    def __init__(self, hub: Hub, name: str) -> None:
        self.hub = hub
        self.name = name
        self.handlers: dict[str, EventHandler] = {}
        self.connect_handler: ConnectHandler | None = None
        self.disconnect_handler: DisconnectHandler | None = None
        self.join_check: JoinCheck | None = None
        self.sessions: dict[str, Session] = {}
        self.rooms: Rooms[Session] = Rooms()
        self.history = History(hub.boot_id)
        self.vault = Vault()
        self._overrides: dict[str, Any] = {}
        self._derived: tuple[HubConfig, HubConfig] | None = None

    def __repr__(self) -> str:
        return f"<Namespace {self.name}>"

    # Settings

    def override(self, **settings: Any) -> None:
        """Set this namespace's own recovery and history settings (validated)."""
        unknown = set(settings) - NAMESPACE_SETTINGS
        if unknown:
            raise TypeError(f"not a namespace setting: {', '.join(sorted(unknown))}")
        make_config(self.hub.config, **self._overrides, **settings)  # validates
        self._overrides.update(settings)
        self._derived = None

    @property
    def config(self) -> HubConfig:
        """The hub's settings with this namespace's overrides applied."""
        base = self.hub.config
        if not self._overrides:
            return base
        if self._derived is None or self._derived[0] is not base:
            self._derived = (base, make_config(base, **self._overrides))
        return self._derived[1]

    # Handlers

    def on(self, event: str | type[Any]) -> Callable[[H], H]:
        """Register ``async def handler(session, *args)``; its return value is the ack.

        ``event`` may be a typed event class (``hub.events``): the handler is then
        ``async def handler(session, obj)`` and gets the structured object; an invalid
        payload never reaches it (the client gets an ``invalid_event`` error ack).
        """
        if isinstance(event, str):
            name, typed = event, None
        else:
            from hub.events.base import name_of  # lazy: hub.events builds on hub.core

            name, typed = name_of(event), event  # TypeError now for an untyped class

        def register(handler: H) -> H:
            if typed is None:
                self.handlers[name] = handler
            else:
                from hub.events.dispatch import typed_handler

                self.handlers[name] = typed_handler(self, typed, handler)[1]
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

    def authorize_join(self, check: JoinCheck) -> JoinCheck:
        """``async def check(session, room) -> bool``: may ``session.join(room)`` go on?

        Asked after the token's room patterns allowed the room; False refuses the join.
        """
        self.join_check = check
        return check

    async def may_join(self, session: Session, room: str) -> None:
        """``Forbidden`` unless the session's claims and the application's check allow."""
        if not self.hub.policy.may_join(session.claims, room):
            raise Forbidden(f"this session may not join room {room!r}")
        if self.join_check is not None and not await self.join_check(session, room):
            raise Forbidden(f"joining room {room!r} was refused")

    # Sessions

    def admit(self, session: Session) -> None:
        session.connected = True
        self.sessions[session.sid] = session
        for room in session.rooms:
            self.rooms.add(session, room)
        if session.user_id is not None:
            self.hub.users.add(session, session.user_id)
        if self.config.recovery:
            session.joined_at = self.history.latest

    async def drop(self, session: Session, reason: str) -> None:
        """Remove a session everywhere, then tell the application why it left."""
        if self.sessions.pop(session.sid, None) is None:
            return
        if session.client.sessions.get(self.name) is session:
            del session.client.sessions[self.name]
        rooms = session.forget_rooms()
        for room in rooms:
            self.rooms.discard(session, room)
        if session.user_id is not None:
            self.hub.users.discard(session, session.user_id)
        if session.claims is not None:
            self.hub.expiry.forget(session)
        window = self.config.recovery
        if window and session.pid is not None and reason in RECOVERABLE_REASONS:
            kept = Persisted(
                session.sid,
                session.pid,
                frozenset(rooms),
                session.data,
                session.joined_at,
                _now(),
                session.user_id if session.claims is not None else None,
            )
            self.vault.keep(kept, _now(), window)
        self.hub.counters.disconnects[reason] += 1
        if self.disconnect_handler is not None:
            try:
                await self.disconnect_handler(session, reason)
            except Exception:
                self.hub.counters.errors["handler"] += 1
                log.exception("disconnect handler of %s failed", self.name)

    def resume(
        self, pid: str, offset: str | None, claims: Claims | None = None
    ) -> tuple[Persisted, str | None] | None:
        """The persisted session ``pid`` and the offset it resumes after, if both exist.

        A client that never got a tagged event sends no offset: it resumes from where
        its session joined (None, when recovery was switched on later: from the oldest).
        With tokens, only the same user may resume a session.
        """
        window = self.config.recovery
        if not window:
            return None
        now = _now()
        persisted = self.vault.take(pid, now, window)
        if persisted is None:
            return None
        if self.hub.policy.enabled and persisted.user_id != (claims and claims.user_id):
            # Not this user's: it stays for its owner (a leaked pid must not cost them
            # their session). Kept back at the end of the vault, so its own window is
            # checked here too: ``expire`` stops at the first entry still in its window.
            if persisted.disconnected_at + window >= now:
                self.vault.keep(persisted, now, window)
            return None
        if persisted.disconnected_at + window < now:
            return None
        start = offset if offset is not None else persisted.joined_at
        if not self.history.after(start, limit=0).complete:
            return None
        return persisted, start

    # Addressing

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

    # Broadcast

    def encode(self, event: str, args: tuple[Any, ...]) -> Outgoing:
        """An event of this namespace, encoded once for all its recipients."""
        args = self.hub.redactor.redact(args)
        return Outgoing(SioPacket(SioType.EVENT, self.name, [event, *args]))

    def publish(
        self,
        event: str,
        args: tuple[Any, ...],
        to: Target = None,
        except_: Target = None,
        volatile: bool = False,
        packet: Outgoing | None = None,
    ) -> Published:
        """Store (unless volatile) and broadcast an event.

        ``packet`` is the event already encoded without an offset, when it was encoded
        elsewhere; with recovery on, the stored event is encoded again with its offset.
        """
        began = time.perf_counter()
        config = self.config
        if volatile or not config.history_events:
            packet = packet or self.encode(event, args)
            return Published(self.broadcast(packet, to, except_, volatile, began=began), None)
        seq, offset = self.history.next_offset()
        if config.recovery:
            packet = self.encode(event, (*args, offset))  # Socket.IO's trailing offset
        else:
            packet = packet or self.encode(event, args)
        entry = Stored(
            seq,
            offset,
            event,
            args,
            _room_set(to),
            _room_set(except_) or frozenset(),
            packet,
            packet.size,
            _now(),
        )
        self.history.append(
            entry,
            max_events=config.history_events,
            max_bytes=config.history_bytes,
            max_age=config.history_age,
        )
        return Published(self.broadcast(packet, to, except_, volatile, began=began), offset)

    def broadcast(
        self,
        packet: Outgoing,
        to: Target = None,
        except_: Target = None,
        volatile: bool = False,
        *,
        began: float | None = None,
    ) -> int:
        """Hand the same encoded bytes to every recipient; returns how many.

        ``began``: when the publish that called us started (``perf_counter``), so the
        latency histogram covers encoding and history too. Timed once per broadcast,
        never per recipient.
        """
        if began is None:
            began = time.perf_counter()
        count = 0
        for session in self.targets(to, except_):
            session.link.deliver(packet, volatile=volatile)
            count += 1
        counters = self.hub.counters
        counters.deliveries += count
        counters.published += 1
        counters.publish_seconds.observe(time.perf_counter() - began)
        return count

    def replay(self, room: str, since: str | None, limit: int | None = None) -> Slice:
        """Stored events that reached ``room`` after offset ``since`` (oldest first).

        ``complete`` is False when the history no longer reaches back to ``since``.
        """
        config = self.config
        self.history.trim(
            _now(),
            max_events=config.history_events,
            max_bytes=config.history_bytes,
            max_age=config.history_age,
        )
        found = self.history.after(since)
        entries = [entry for entry in found.entries if entry.reaches((room,))]
        return Slice(entries[:limit] if limit is not None else entries, found.complete)


def _now() -> float:
    return time.monotonic()
