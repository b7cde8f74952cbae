"""Per-user emitters: ``hub.user(user_id)`` queues events for one user and delivers them.

Theory. Each user's events wait in a ``UserQueue`` (priorities, coalescing, a bound)
until a session of that user has room: a session gets more only while its link has
less than ``PACE_BYTES`` queued, so a slow reader's backlog stays here, where a more
urgent event can overtake it and a newer progress update can replace an older one,
instead of in the connection's outbox where bytes are final. An event goes to every
live session of the user in the namespaces it names (the pace follows the fastest of
them; the slower ones' outboxes take the rest, under the usual slow-consumer bound).
While the user has no session, events wait (``emitter_offline_ttl``) and leave in order
on the next connect.

An emit hands the event over at once when a session has room (no task switch, so it
keeps its order with broadcasts made right after it); everything else is done by the
emitter's *pump*, one task per busy user in the server's nursery, started on demand and
ended when the emitter has been idle and empty for ``emitter_idle_reap``.

Wire format: every event carries a trailing meta object with its id, unique per hub
(``<boot id>-<n>``), so a client drops duplicates of resent events::

    EVENT ["name", data, {"id": "1f2e3d4c-17"}]            (with an ack id when ack=True)
    EVENT ["hub:batch", [{"event": "name", "data": data, "id": "1f2e3d4c-18"}, ...]]

Acks use Socket.IO's own ack ids, registered with the session exactly as
``Session.call`` registers its own, so ``Client`` resolves them unchanged.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio
import orjson

from hub.core.session import Session
from hub.core.stats import EmitterCounts, UserEmitterStats
from hub.core.user_queue import (
    ACK_DEADLINE,
    PRIORITIES,
    RANK,
    RESEND,
    TTL,
    Entry,
    Outcome,
    UserQueue,
)
from hub.errors import QueueFull
from hub.protocol.outgoing import Outgoing
from hub.protocol.socketio import RESERVED_EVENTS, SioPacket, SioType

if TYPE_CHECKING:
    from hub.core.hub import Hub

log = logging.getLogger("hub")

__all__ = ["BATCH_EVENT", "Handle", "Outcome", "QueueFull", "UserEmitter"]

BATCH_EVENT = "hub:batch"
# A session gets more events only while its link has less than this queued.
PACE_BYTES = 64 * 1024
# How soon a pump looks again at links that were too full (no drain signal to wait on).
PACE_POLL = 0.005
# Frames a pump sends before a checkpoint, and an emit at most sends for its backlog.
PUMP_BUDGET = 256
EMIT_BUDGET = 8

# One ack id sent: the session, Socket.IO's ack id, and the attempt it belongs to.
Sent = tuple[Session, int, int]


def _wire_event(event: Any, data: Any) -> tuple[str, Any]:
    """The event's name and payload: a str as given, a typed event via ``hub.events``."""
    if isinstance(event, str):
        return event, data
    from hub import events  # here: hub.events imports the core

    if not events.is_typed(event):
        raise TypeError(
            f"an event is a name (str) or a typed event of hub.events, not {type(event).__name__}"
        )
    if data is not None:
        raise TypeError("a typed event carries its own data: leave data=None")
    return events.to_wire(event)


def _namespaces(namespace: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...] | None:
    if namespace is None:
        return None
    names = (namespace,) if isinstance(namespace, str) else tuple(namespace)
    if not names or not all(isinstance(name, str) for name in names):
        raise ValueError(f"namespace must be a name, a non-empty list of names or None: {names!r}")
    return names


class Handle:
    """An emitted event: its id, state, and ``await handle.wait()`` for its outcome."""

    __slots__ = ("_entry",)

    def __init__(self, entry: Entry) -> None:
        self._entry = entry

    def __repr__(self) -> str:
        return f"<Handle {self.id} {self.event!r} {self.state}>"

    @property
    def id(self) -> str:
        return self._entry.id

    @property
    def event(self) -> str:
        return self._entry.event

    @property
    def priority(self) -> str:
        return PRIORITIES[self._entry.rank]

    @property
    def state(self) -> str:
        """``queued``, ``sent`` (waiting for its ack), or the outcome's state."""
        state = self._entry.state
        if state == "sending":
            return "queued"
        if state in ("waiting", "backoff"):
            return "sent"
        return state

    @property
    def outcome(self) -> Outcome | None:
        return self._entry.outcome

    async def wait(self, timeout: float | None = None) -> Outcome:
        """The outcome, once there is one; ``TimeoutError`` after ``timeout`` seconds."""
        entry = self._entry
        if entry.outcome is None:
            done = anyio.Event()
            entry.listeners.append(done.set)
            try:
                with anyio.fail_after(timeout):
                    await done.wait()
            finally:
                if done.set in entry.listeners:
                    entry.listeners.remove(done.set)
        else:
            await anyio.lowlevel.checkpoint()
        assert entry.outcome is not None
        return entry.outcome


class UserEmitter:
    """One user's queue of events and its delivery (see the module's docstring)."""

    def __init__(self, hub: Hub, user_id: str) -> None:
        self.hub = hub
        self.user_id = user_id
        self.counts = EmitterCounts()
        self.queue = UserQueue(hub.config.emitter_queue, self._finished)
        now = time.monotonic()
        # Since when the user has had no session at all (None: it has one).
        self.offline_since: float | None = None if self._sessions() else now
        self.idle_since = now
        # Forgotten by the hub; emits then go to the user's current emitter.
        self.reaped = False
        self._pumping = False
        self._wake: anyio.Event | None = None
        self._space: anyio.Event | None = None
        # Ack ids of finished events, kept a while so a late ack (another tab's, or one
        # of an earlier attempt) is taken quietly instead of counted as unknown.
        self._late: deque[tuple[float, Session, int]] = deque()

    def __repr__(self) -> str:
        return f"<UserEmitter {self.user_id!r} pending={len(self.queue)}>"

    # Emitting

    def emit_nowait(
        self,
        event: Any,
        data: Any = None,
        *,
        priority: str | None = None,
        ack: bool = False,
        batch: bool = False,
        coalesce_key: str | None = None,
        namespace: str | list[str] | tuple[str, ...] | None = None,
        ttl: float | None = None,
        max_attempts: int | None = None,
    ) -> Handle:
        """Queue an event for this user; raises ``QueueFull`` when there is no room.

        ``priority``: critical > high > normal > low (None: high for names ending in
        "error", else normal). ``ack``: resent until the client acknowledges it, up to
        ``max_attempts`` sends or ``ttl`` seconds. ``batch``: may leave in one
        ``hub:batch`` frame with others. ``coalesce_key``: replaces a queued event with
        the same key. ``namespace``: a name, several, or None for every namespace the
        user has a session in. Raises ``KeyError`` for an unknown namespace, and
        ``TypeError`` or ``ValueError`` for arguments that cannot be sent.
        """
        current = self._current()
        if current is not self:
            return current.emit_nowait(
                event,
                data,
                priority=priority,
                ack=ack,
                batch=batch,
                coalesce_key=coalesce_key,
                namespace=namespace,
                ttl=ttl,
                max_attempts=max_attempts,
            )
        hub, config = self.hub, self.hub.config
        name, payload = _wire_event(event, data)
        if not isinstance(name, str) or not name or name in RESERVED_EVENTS or name == BATCH_EVENT:
            raise ValueError(f"not an event name an emitter may send: {name!r}")
        if priority is None:
            priority = "high" if name.endswith("error") else "normal"
        rank = RANK.get(priority)
        if rank is None:
            raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}: {priority!r}")
        if ack and batch:
            raise ValueError(
                "an acknowledged event is sent alone: ack and batch exclude each other"
            )
        if coalesce_key is not None and not isinstance(coalesce_key, str):
            raise TypeError(f"coalesce_key must be a string, not {type(coalesce_key).__name__}")
        if ttl is not None and not ttl > 0:
            raise ValueError(f"ttl must be a positive number of seconds: {ttl!r}")
        attempts = config.emitter_max_attempts if max_attempts is None else max_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValueError(f"max_attempts must be a whole number >= 1: {max_attempts!r}")
        try:
            # Refused here, in the caller, rather than in the pump that sends it later.
            orjson.dumps(payload)
        except orjson.JSONEncodeError as error:
            raise TypeError(f"the data of {name!r} cannot be sent as JSON: {error}") from None
        names = _namespaces(namespace)
        for found in names or ():
            if found not in hub.namespaces:
                raise KeyError(f"no namespace {found!r}")
        queue = self.queue
        queue.limit = config.emitter_queue  # settings may have been reconfigured
        if not queue.has_room(rank) and not queue.replaces(coalesce_key):
            raise QueueFull(f"user {self.user_id!r} has {len(queue)} events pending")
        now = time.monotonic()
        seq = next(hub.emit_ids)
        entry = Entry(
            seq,
            f"{hub.boot_id}-{seq}",
            name,
            hub.redactor.redact(payload),  # once here, not per session and resend
            rank=rank,
            ack=ack,
            batch=batch,
            key=coalesce_key,
            namespaces=names,
            created=now,
            max_attempts=attempts,
        )
        if not ack:
            # Encoded now, so data JSON cannot carry raises here and not in the pump;
            # the packet is kept for the delivery.
            first = names[0] if names else "/"
            entry.cache[first] = self._packet(entry, first, None)
        else:
            self._packet(entry, "/", 0)  # the same check; acked packets differ per session
        queue.push(entry, None if ttl is None else now + ttl)
        self.idle_since = now
        wake = self._send(now, EMIT_BUDGET)
        if queue or wake is not None:
            self.kick()
        return Handle(entry)

    async def emit(
        self,
        event: Any,
        data: Any = None,
        *,
        priority: str | None = None,
        ack: bool = False,
        batch: bool = False,
        coalesce_key: str | None = None,
        namespace: str | list[str] | tuple[str, ...] | None = None,
        ttl: float | None = None,
        max_attempts: int | None = None,
    ) -> Handle:
        """``emit_nowait``, waiting for room when the user's queue is full (backpressure)."""
        while True:
            try:
                handle = self._current().emit_nowait(
                    event,
                    data,
                    priority=priority,
                    ack=ack,
                    batch=batch,
                    coalesce_key=coalesce_key,
                    namespace=namespace,
                    ttl=ttl,
                    max_attempts=max_attempts,
                )
            except QueueFull:
                current = self._current()
                if current._space is None:
                    current._space = anyio.Event()
                await current._space.wait()
                continue
            await anyio.lowlevel.checkpoint()
            return handle

    def stats(self) -> UserEmitterStats:
        snapshot = self.counts.snapshot()
        return UserEmitterStats(
            delivered=snapshot.delivered,
            acked=snapshot.acked,
            retried=snapshot.retried,
            expired=snapshot.expired,
            dropped=snapshot.dropped,
            pending=len(self.queue),
        )

    def _current(self) -> UserEmitter:
        return self if not self.reaped else self.hub.user(self.user_id)

    # Hub hooks

    def session_joined(self) -> None:
        """A session of this user was admitted: what waited may go (after its CONNECT)."""
        self.offline_since = None
        if self.queue:
            self.kick()  # woken, not sent inline: the CONNECT reply must go first

    def session_left(self, offline: bool) -> None:
        if offline and self.offline_since is None:
            self.offline_since = time.monotonic()
            if self.queue:
                self.kick()

    def kick(self) -> None:
        """Make sure the pump runs (when the hub serves) and looks at the queue again."""
        if self.reaped:
            return
        if not self._pumping:
            spawn = self.hub.spawn
            if spawn is not None:
                self._pumping = spawn(self._pump)
        elif self._wake is not None:
            self._wake.set()

    # The pump

    async def _pump(self) -> None:
        try:
            while not self.reaped:
                now = time.monotonic()
                wake_at = self._step(now)
                if not self.queue and not self._late:
                    reap_at = self.idle_since + self.hub.config.emitter_idle_reap
                    if now >= reap_at and not self._space:
                        self.hub.forget_emitter(self)
                        return
                    wake_at = reap_at if wake_at is None else min(wake_at, reap_at)
                if wake_at is not None and wake_at <= now:
                    await anyio.lowlevel.checkpoint()  # more to send: let others run first
                    continue
                self._wake = anyio.Event()
                delay = math.inf if wake_at is None else wake_at - now
                with anyio.move_on_after(delay):
                    await self._wake.wait()
                self._wake = None
        finally:
            self._pumping = False
            self._wake = None

    def _step(self, now: float) -> float | None:
        """Fire due timers, expire, send what may go; returns when to look again."""
        queue, config = self.queue, self.hub.config
        for kind, entry in queue.due(now):
            if kind == TTL:
                queue.finish(entry, "expired", "ttl")
            elif kind == ACK_DEADLINE:
                self._ack_missed(entry, now)
            elif kind == RESEND:
                queue.requeue(entry)
        late = self._late
        while late and late[0][0] <= now:
            _, session, ack_id = late.popleft()
            session.forget_ack(ack_id)
        if self._sessions():
            self.offline_since = None
            wake_at = self._send(now, PUMP_BUDGET)
        else:
            if self.offline_since is None:
                self.offline_since = now
            offline_ttl = config.emitter_offline_ttl
            wake_at = queue.expire_offline(now, self.offline_since, offline_ttl)
        # Timers last: sending just now may have set some (ack deadlines).
        wake_at = _earliest(wake_at, queue.next_timer())
        return _earliest(wake_at, late[0][0]) if late else wake_at

    def _sessions(self) -> list[Session]:
        return list(self.hub.users.members(self.user_id))

    def _send(self, now: float, budget: int) -> float | None:
        """Send queued events while a session has room; returns when to try again."""
        queue = self.queue
        if not queue.queued:
            return None
        sessions = self._sessions()
        if not sessions:
            return None
        config = self.hub.config
        window = config.emitter_batch_window_ms / 1000
        max_acks = config.max_pending_acks
        for _ in range(budget):
            ready = {s.namespace.name for s in sessions if _has_room(s, max_acks)}
            if not ready:
                return now + PACE_POLL

            def deliverable(entry: Entry, ready: set[str] = ready) -> bool:
                return entry.namespaces is None or not ready.isdisjoint(entry.namespaces)

            group, window_closes = queue.pick(now, deliverable, config.emitter_batch_size, window)
            if not group:
                busy = len(ready) < len({s.namespace.name for s in sessions})
                return _earliest(window_closes, now + PACE_POLL if busy else None)
            self._deliver(group, sessions, now)
            if not queue.queued:
                return window_closes
        return now  # budget spent with more queued: go on after a checkpoint

    def _deliver(self, group: list[Entry], sessions: list[Session], now: float) -> None:
        first = group[0]
        names = first.namespaces
        targets = [s for s in sessions if names is None or s.namespace.name in names]
        counters = self.hub.counters
        counters.deliveries += len(targets)
        if first.attempts:
            self.counts.retried += 1
            counters.emitter.retried += 1
        if first.ack:
            for session in targets:
                self._send_acked(first, session)
        else:
            packets: dict[str, Outgoing] = {}
            for session in targets:
                name = session.namespace.name
                packet = packets.get(name)
                if packet is None:
                    packet = packets[name] = self._group_packet(group, name)
                session.link.deliver(packet)
        ack_timeout = self.hub.config.emitter_ack_timeout
        for entry in group:
            self.queue.sent(entry, now, ack_timeout)

    def _send_acked(self, entry: Entry, session: Session) -> None:
        # The session calls back on the ack (or on closing): no task waits per event.
        ack_id = session.expect_ack(partial(self._ack_signal, entry, session))
        entry.sends.append((session, ack_id, entry.attempts + 1))
        session.link.deliver(self._packet(entry, session.namespace.name, ack_id))

    def _packet(self, entry: Entry, namespace: str, ack_id: int | None) -> Outgoing:
        data = [entry.event, entry.data, {"id": entry.id}]
        return Outgoing(SioPacket(SioType.EVENT, namespace, data, ack_id))

    def _group_packet(self, group: list[Entry], namespace: str) -> Outgoing:
        if len(group) == 1:
            entry = group[0]
            packet = entry.cache.get(namespace)
            if packet is None:
                packet = entry.cache[namespace] = self._packet(entry, namespace, None)
            assert isinstance(packet, Outgoing)
            return packet
        items = [{"event": e.event, "data": e.data, "id": e.id} for e in group]
        return Outgoing(SioPacket(SioType.EVENT, namespace, [BATCH_EVENT, items]))

    # Acks

    def _ack_signal(self, entry: Entry, session: Session, args: list[Any] | None) -> None:
        if args is not None:
            if entry.outcome is None:
                self.queue.finish(entry, "acked", None)
                self.kick()
            return
        # The session closed before acknowledging.
        if entry.outcome is not None or entry.state != "waiting":
            return
        live = [
            sent
            for sent in entry.sends
            if sent[2] == entry.attempts and sent[0].connected and sent[0] is not session
        ]
        if not live:
            # Nobody left to ack this attempt: send it again at the next chance.
            if entry.attempts >= entry.max_attempts:
                self.queue.finish(entry, "expired", "max_attempts")
            else:
                self.queue.requeue(entry)
            self.kick()

    def _ack_missed(self, entry: Entry, now: float) -> None:
        config = self.hub.config
        if entry.attempts >= entry.max_attempts:
            self.queue.finish(entry, "expired", "max_attempts")
            return
        base, cap = config.emitter_backoff_base, config.emitter_backoff_max
        delay = min(cap, base * 2 ** (entry.attempts - 1))
        # Jitter: clients that lost the same connection do not all come back at once.
        self.queue.back_off(entry, now + delay * random.uniform(0.5, 1.0))

    # Outcomes

    def _finished(self, entry: Entry) -> None:
        outcome = entry.outcome
        assert outcome is not None
        for counts in (self.counts, self.hub.counters.emitter):
            if outcome.state == "delivered":
                counts.delivered += 1
            elif outcome.state == "acked":
                counts.acked += 1
            elif outcome.state == "expired":
                counts.expired[outcome.reason or "ttl"] += 1
            else:
                counts.dropped[outcome.reason or "dropped"] += 1
        if entry.sends:
            until = time.monotonic() + self.hub.config.emitter_ack_timeout
            for session, ack_id, _ in entry.sends:
                if session.awaits_ack(ack_id):
                    self._late.append((until, session, ack_id))
            entry.sends = []
        space = self._space
        if space is not None and not self.queue.full:
            self._space = None
            space.set()


def _has_room(session: Session, max_acks: int) -> bool:
    """Whether ``session`` may take more now: little queued on its link, and fewer acks
    pending than ``max_pending_acks`` (a reader that stops acking is held back too)."""
    # ``hub.core.link.Paced``; links without it (test doubles) never hold events back.
    backlog: int = getattr(session.link, "queued_bytes", 0)
    return backlog < PACE_BYTES and session.pending_acks < max_acks


def _earliest(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)
