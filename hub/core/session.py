"""A client's membership of one namespace (a Socket.IO "socket")."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from hub.core.link import Link
from hub.errors import AckTimeout, LimitExceeded, NotConnected, Refusal
from hub.protocol.outgoing import Outgoing
from hub.protocol.socketio import SioPacket, SioType

if TYPE_CHECKING:
    from hub.auth.claims import Claims
    from hub.core.client import Client
    from hub.core.history import Slice
    from hub.core.namespace import Namespace
    from hub.core.recovery import Persisted


# The event the hub sends a session when it refuses something the client did without
# asking for an ack (rate limited, token expired, ...): ``{"reason", "message"}``.
ERROR_EVENT = "hub:error"


def new_sid() -> str:
    return secrets.token_urlsafe(15)


class _AckWaiter:
    __slots__ = ("args", "done")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.args: list[Any] | None = None


class Session:
    """One connected namespace of one client: its id, auth, rooms and pending acks."""

    def __init__(
        self,
        namespace: Namespace,
        client: Client,
        auth: dict[str, Any] | None,
        *,
        resumed: Persisted | None = None,
    ) -> None:
        self.sid = resumed.sid if resumed else new_sid()
        # The private id a client presents to resume this session (recovery on only).
        self.pid: str | None = resumed.pid if resumed else None
        # True when this session resumed an earlier one: same sid, rooms and data.
        self.recovered = resumed is not None
        # History offset when the session connected (recovery resumes from here).
        self.joined_at: str | None = None
        self.namespace = namespace
        self.client = client
        # The connection this session writes to (the client's, kept here for the hot path).
        self.link: Link = client.link
        self.auth = auth
        # The verified token this session connected (or last refreshed) with; None when
        # it presented none. ``user_id`` comes from it.
        self.claims: Claims | None = None
        self.data: dict[str, Any] = dict(resumed.data) if resumed else {}
        self.connected = False
        self._user_id: str | None = None
        self._rooms: set[str] = set(resumed.rooms) if resumed else set()
        # Pending acks: a waiter a ``call`` awaits, or a callback (``expect_ack``).
        self._acks: dict[int, _AckWaiter | Callable[[list[Any] | None], None]] = {}
        self._ack_ids = itertools.count()

    def __repr__(self) -> str:
        return f"<Session {self.namespace.name} {self.sid}>"

    @property
    def rooms(self) -> frozenset[str]:
        return frozenset(self._rooms)

    @property
    def user_id(self) -> str | None:
        """The user behind this session, as the application named it (None: unknown).

        Set it in a connect handler (or later); ``hub.emit_to_user`` then reaches this
        session along with the user's others. The hub does not check it: it is what
        your connect handler decided after checking ``auth``.
        """
        return self._user_id

    @user_id.setter
    def user_id(self, user_id: str | None) -> None:
        if user_id is not None and not isinstance(user_id, str):
            raise TypeError(f"a user id is a string or None, not {type(user_id).__name__}")
        if self.connected:
            # Admitted already: move the session in the hub's user index too.
            users = self.namespace.hub.users
            if self._user_id is not None:
                users.discard(self, self._user_id)
            if user_id is not None:
                users.add(self, user_id)
        self._user_id = user_id

    async def join(self, room: str) -> None:
        """Enter ``room`` if the session's token and the namespace's join check allow it
        (``Forbidden`` if not): for joins a client asks for. ``enter`` does not check."""
        self._require_connected()
        await self.namespace.may_join(self, room)
        await self.enter(room)

    async def enter(self, room: str) -> None:
        """Enter ``room``; ``LimitExceeded`` (too_many_rooms) past ``max_rooms``."""
        self._require_connected()
        if room not in self._rooms and len(self._rooms) >= self.namespace.hub.config.max_rooms:
            raise LimitExceeded(
                f"a session may be in {self.namespace.hub.config.max_rooms} rooms at most",
                "too_many_rooms",
            )
        self.namespace.rooms.add(self, room)
        self._rooms.add(room)
        await anyio.lowlevel.checkpoint()

    def catch_up(self, room: str, since: str | None, limit: int | None = None) -> Slice:
        """Send this session the stored events of ``room`` after offset ``since``."""
        self._require_connected()
        missed = self.namespace.replay(room, since, limit)
        for entry in missed.entries:
            self.link.deliver(entry.packet)
        self.namespace.hub.counters.deliveries += len(missed.entries)
        return missed

    async def leave(self, room: str) -> None:
        self.namespace.rooms.discard(self, room)
        self._rooms.discard(room)
        await anyio.lowlevel.checkpoint()

    async def emit(self, event: str, *args: Any, volatile: bool = False) -> None:
        """Send an event to this session alone."""
        self._require_connected()
        if self.namespace.config.recovery:
            # As Socket.IO does with recovery on: stored and tagged like a broadcast to
            # this session's own room, so the client's last offset stays one of ours.
            self.namespace.publish(event, args, to=self.sid, volatile=volatile)
        else:
            self.send(SioPacket(SioType.EVENT, self.namespace.name, [event, *args]), volatile)
            self.namespace.hub.counters.deliveries += 1
        await anyio.lowlevel.checkpoint()

    async def call(self, event: str, *args: Any, timeout: float = 5.0) -> list[Any]:
        """Send an event asking for an ack and return the ack's arguments."""
        self._require_connected()
        ack_id = self._next_ack_id()
        waiter = self._acks[ack_id] = _AckWaiter()
        try:
            self.send(SioPacket(SioType.EVENT, self.namespace.name, [event, *args], ack_id))
            self.namespace.hub.counters.deliveries += 1
            with anyio.move_on_after(timeout):
                await waiter.done.wait()
        finally:
            del self._acks[ack_id]
        if waiter.args is None:
            if not self.connected:
                raise NotConnected(f"{self!r} closed before acknowledging {event!r}")
            raise AckTimeout(f"no ack for {event!r} within {timeout} s")
        return waiter.args

    async def disconnect(self, reason: str = "server namespace disconnect") -> None:
        """Close this namespace session from the server side."""
        if self.connected:
            self.send(SioPacket(SioType.DISCONNECT, self.namespace.name))
            await self.namespace.drop(self, reason)

    def send_error(self, refusal: Refusal) -> None:
        """Tell the client what was refused: a ``hub:error`` event with reason and message."""
        if self.connected:
            data = [ERROR_EVENT, refusal.as_error()]
            self.send(SioPacket(SioType.EVENT, self.namespace.name, data))

    def send(self, packet: SioPacket, volatile: bool = False) -> None:
        data = self.namespace.hub.redactor.redact(packet.data)
        if data is not packet.data:
            packet = SioPacket(packet.type, packet.namespace, data, packet.id)
        self.link.deliver(Outgoing(packet), volatile=volatile)

    def expect_ack(self, on_ack: Callable[[list[Any] | None], None]) -> int:
        """A new ack id whose answer calls ``on_ack(args)``: the ack's arguments, or None
        if the session closes first. For callers that cannot wait in a task per ack."""
        ack_id = self._next_ack_id()
        self._acks[ack_id] = on_ack
        return ack_id

    @property
    def pending_acks(self) -> int:
        return len(self._acks)

    def _next_ack_id(self) -> int:
        limit = self.namespace.hub.config.max_pending_acks
        if len(self._acks) >= limit:
            self.namespace.hub.counters.errors["too_many_pending_acks"] += 1
            raise LimitExceeded(
                f"{self!r} already has {limit} acks pending", "too_many_pending_acks"
            )
        return next(self._ack_ids)

    def awaits_ack(self, ack_id: int) -> bool:
        return ack_id in self._acks

    def forget_ack(self, ack_id: int) -> None:
        """Stop expecting ``ack_id``; an answer that comes later counts as unknown."""
        self._acks.pop(ack_id, None)

    def resolve_ack(self, ack_id: int, args: list[Any]) -> bool:
        waiter = self._acks.get(ack_id)
        if waiter is None:
            return False
        if isinstance(waiter, _AckWaiter):
            waiter.args = args
            waiter.done.set()
        else:
            del self._acks[ack_id]
            waiter(args)
        return True

    def forget_rooms(self) -> set[str]:
        """Mark the session closed, wake every pending call, and hand back its rooms."""
        self.connected = False
        for ack_id, waiter in list(self._acks.items()):
            if isinstance(waiter, _AckWaiter):
                waiter.done.set()
            else:
                del self._acks[ack_id]
                waiter(None)
        rooms, self._rooms = self._rooms, set()
        return rooms

    def _require_connected(self) -> None:
        if not self.connected:
            raise NotConnected(f"{self!r} is not connected")
