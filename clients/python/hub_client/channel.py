"""What the client keeps per namespace: handlers, session and recovery state, the ordered
outbox (the offline queue while disconnected), acks awaited and ``wait_for`` waiters."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio
import attrs

from hub.protocol.engineio import EioPacket
from hub_client.handlers import LIFECYCLE, Handler, Registered

if TYPE_CHECKING:
    from hub_client.engine import Link
    from hub_client.userevents import Delivery
    from hub_client.waiters import Waiter


@attrs.define(eq=False)
class AckSlot:
    """Where an ack (or the reason none will come) is handed to ``emit_with_ack``."""

    done: anyio.Event
    args: list[Any] | None = None
    error: BaseException | None = None

    def resolve(self, args: list[Any]) -> None:
        if not self.done.is_set():
            self.args = args
            self.done.set()

    def fail(self, error: BaseException) -> None:
        if not self.done.is_set():
            self.error = error
            self.done.set()


@attrs.define(eq=False)
class Outgoing:
    """An event waiting in the outbox; ``packets`` is its encoding without an ack id."""

    event: str
    args: tuple[Any, ...]
    packets: list[EioPacket]
    ack: AckSlot | None = None
    cancelled: bool = False


class ChannelState:
    def __init__(self, name: str) -> None:
        self.name = name
        self.handlers: dict[str, Registered] = {}
        self.lifecycle: dict[str, list[Handler]] = {name: [] for name in LIFECYCLE}
        # The Socket.IO session, and what connection state recovery needs of it.
        self.sid: str | None = None
        self.pid: str | None = None
        self.offset: str | None = None
        self.recovered = False
        self.link: Link | None = None  # the link this namespace is connected on
        self.kicked = False  # disconnected by the server: not reconnected
        # The namespace CONNECT under way.
        self.reply: tuple[bool, Any] | None = None  # (refused, data)
        self.reply_event: anyio.Event | None = None
        self.sent_pid: str | None = None
        # Outgoing events, in emit order; the link's sender for this namespace drains it.
        self.outbox: deque[Outgoing] = deque()
        self.acks: dict[int, AckSlot] = {}
        self._ack_ids = itertools.count()
        self.waiters: list[Waiter] = []
        self._wakeup: anyio.Event | None = None
        self._room: anyio.Event | None = None

    @property
    def connected(self) -> bool:
        return self.link is not None and self.link.alive

    # Connecting

    def connect_payload(self, auth: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The CONNECT packet's data: the auth, plus ``pid`` and ``offset`` to recover."""
        payload = dict(auth) if auth is not None else None
        if self.pid is not None:
            payload = payload or {}
            payload["pid"] = self.pid
            if self.offset is not None:
                payload["offset"] = self.offset
        return payload

    def begin_connect(self) -> anyio.Event:
        self.reply = None
        self.reply_event = anyio.Event()
        self.sent_pid = self.pid
        return self.reply_event

    def on_reply(self, refused: bool, data: Any) -> None:
        if self.reply_event is not None and not self.reply_event.is_set():
            self.reply = (refused, data)
            self.reply_event.set()

    def on_connected(self, link: Link, data: Any) -> None:
        body = data if isinstance(data, dict) else {}
        sid, pid = body.get("sid"), body.get("pid")
        self.sid = sid if isinstance(sid, str) else None
        new_pid = pid if isinstance(pid, str) else None
        self.recovered = self.sent_pid is not None and new_pid == self.sent_pid
        if not self.recovered:
            self.offset = None  # a fresh session: nothing received in it yet
        self.pid = new_pid
        self.link = link
        self.wake()

    def on_link_gone(self, error: BaseException) -> bool:
        """The link went: acks in flight fail. True if the namespace was connected."""
        was_connected = self.link is not None
        self.link = None
        self.reply_event = None
        acks, self.acks = self.acks, {}
        for slot in acks.values():
            slot.fail(error)
        self.wake()
        return was_connected

    def take_offset(self, args: list[Any], ack_id: int | None) -> list[Any]:
        """With recovery on (a ``pid``), a stored event's last argument is its offset."""
        if self.pid is not None and ack_id is None and args and isinstance(args[-1], str):
            self.offset = args[-1]
            return args[:-1]
        return args

    # Acks

    def register_ack(self, slot: AckSlot) -> int:
        ack_id = next(self._ack_ids)
        self.acks[ack_id] = slot
        return ack_id

    def resolve_ack(self, ack_id: int | None, args: list[Any]) -> bool:
        slot = self.acks.pop(ack_id, None) if ack_id is not None else None
        if slot is None:
            return False
        slot.resolve(args)
        return True

    def forget_ack(self, slot: AckSlot) -> None:
        for ack_id, known in list(self.acks.items()):
            if known is slot:
                del self.acks[ack_id]

    # Waiters

    def offer(self, delivery: Delivery) -> None:
        for waiter in list(self.waiters):
            if waiter.offer(delivery):
                self.waiters.remove(waiter)

    # The outbox's wake-ups: the sender waits for events, emitters for room.

    def wake(self) -> None:
        for event in (self._wakeup, self._room):
            if event is not None:
                event.set()
        self._wakeup = self._room = None

    def wakeup(self) -> anyio.Event:
        if self._wakeup is None:
            self._wakeup = anyio.Event()
        return self._wakeup

    def room(self) -> anyio.Event:
        if self._room is None:
            self._room = anyio.Event()
        return self._room

    def fail_all(self, error: BaseException) -> None:
        """The client stopped for good: everything awaited fails with ``error``."""
        self.on_link_gone(error)
        for item in self.outbox:
            if item.ack is not None:
                item.ack.fail(error)
        self.outbox.clear()
        for waiter in self.waiters:
            waiter.fail(error)
        self.waiters.clear()
