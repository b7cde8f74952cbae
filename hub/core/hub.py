"""The Hub: the application's handle on namespaces, rooms and broadcasts."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from hub.auth.policy import Policy
from hub.core.config import HubConfig, make_config
from hub.core.emitter import UserEmitter
from hub.core.expiry import ExpiryWatch
from hub.core.history import new_boot_id
from hub.core.namespace import Namespace, Published, Target
from hub.core.rooms import Rooms
from hub.core.sanitize import Redactor, install_log_redaction
from hub.core.stats import Counters, EmitterStats, HubStats
from hub.errors import NotRunning
from hub.protocol.outgoing import Outgoing

if TYPE_CHECKING:
    import trio

    from hub.core.session import Session

log = logging.getLogger("hub")


class Serving(Protocol):
    """What the hub needs of the server running it."""

    async def shutdown(self, grace: float) -> None: ...


# Runs a function soon in the hub's event loop thread; callable from any thread.
CallSoon = Callable[..., None]
# Starts a task in the server's nursery (the core imports no trio, so it is handed one);
# the server cancels these tasks when it shuts down. False: not started (stopping).
Spawn = Callable[[Callable[[], Awaitable[None]]], bool]


class UserIndex(Rooms["Session"]):
    """Live sessions by user id; tells the user's emitter when sessions come and go.

    Both ``Namespace.admit``/``drop`` and a ``session.user_id`` change go through here,
    so an emitter hears of a user's sessions however they got their id.
    """

    def __init__(self, hub: Hub) -> None:
        super().__init__()
        self._hub = hub

    def add(self, member: Session, room: str) -> None:
        super().add(member, room)
        emitter = self._hub.emitters.get(room)
        if emitter is not None:
            emitter.session_joined()

    def discard(self, member: Session, room: str) -> None:
        super().discard(member, room)
        emitter = self._hub.emitters.get(room)
        if emitter is not None:
            emitter.session_left(offline=room not in self)


class Hub:
    """Namespaces, sessions and rooms behind one listening port.

    ``await nursery.start(hub.serve, host, port)`` runs it inside a trio application.
    """

    def __init__(self, config: HubConfig | None = None, **settings: Any) -> None:
        self.config = make_config(config, **settings)
        self._policy = (self.config, Policy(self.config))
        self._redactor = (self.config, self._redaction(self.config))
        self.namespaces: dict[str, Namespace] = {}
        self.counters = Counters()
        # Live sessions by ``session.user_id``, across namespaces (kept by admit and drop).
        self.users: Rooms[Session] = UserIndex(self)
        # Per-user emitters (``hub.user``), made on demand, forgotten when idle and empty.
        self.emitters: dict[str, UserEmitter] = {}
        # Ids of emitter events: with the boot id, unique per hub.
        self.emit_ids = itertools.count(1)
        self.spawn: Spawn | None = None
        # Ends sessions whose token expires (a task of its own while any is watched).
        self.expiry = ExpiryWatch(self)
        # Part of every history offset, so offsets of another hub never match ours.
        self.boot_id = new_boot_id()
        self.port: int | None = None
        self.started_at: float | None = None
        self._server: Serving | None = None
        self._call_soon: CallSoon | None = None
        self.namespace("/")

    @property
    def running(self) -> bool:
        return self._server is not None

    def reconfigure(self, **settings: Any) -> None:
        """Change settings (validated); connections opened afterwards use them."""
        config = make_config(self.config, **settings)
        self._policy = (config, Policy(config))  # raises ConfigError before any change
        self._redactor = (config, self._redaction(config))
        self.config = config

    @property
    def policy(self) -> Policy:
        """Who may connect and join what, under the current settings."""
        config, policy = self._policy
        if config is not self.config:
            self._policy = (self.config, policy := Policy(self.config))
        return policy

    @property
    def redactor(self) -> Redactor:
        """Redacts ``redact_keys`` in outgoing payloads (and in the "hub" logger's lines)."""
        config, redactor = self._redactor
        if config is not self.config:
            self._redactor = (self.config, redactor := self._redaction(self.config))
        return redactor

    @staticmethod
    def _redaction(config: HubConfig) -> Redactor:
        redactor = Redactor(config.redact_keys)
        install_log_redaction(log, redactor)
        return redactor

    def namespace(self, name: str = "/", **settings: Any) -> Namespace:
        """The namespace called ``name``, created on first use.

        ``settings`` override the hub's ``recovery`` and ``history_*`` for this namespace.
        """
        if not name.startswith("/") or "," in name:
            raise ValueError(f"namespace must start with '/' and hold no ',': {name!r}")
        found = self.namespaces.get(name)
        if found is None:
            found = self.namespaces[name] = Namespace(self, name)
        if settings:
            found.override(**settings)
        return found

    def emit_nowait(
        self,
        event: str,
        *args: Any,
        to: Target = None,
        namespace: str = "/",
        except_: Target = None,
        volatile: bool = False,
    ) -> int:
        """Broadcast without waiting; returns how many sessions it was handed to.

        ``to``: a room, several rooms (each recipient once) or None for the whole
        namespace; a session's sid is a room of its own. ``except_`` takes the same forms.
        """
        return self.publish(
            event, *args, to=to, namespace=namespace, except_=except_, volatile=volatile
        ).recipients

    def publish(
        self,
        event: str,
        *args: Any,
        to: Target = None,
        namespace: str = "/",
        except_: Target = None,
        volatile: bool = False,
    ) -> Published:
        """``emit_nowait`` that also returns the event's history offset (None if unstored)."""
        return self._namespace_for(namespace).publish(event, args, to, except_, volatile)

    def publish_threadsafe(
        self,
        event: str,
        *args: Any,
        to: Target = None,
        namespace: str = "/",
        except_: Target = None,
        volatile: bool = False,
    ) -> None:
        """Broadcast from a thread that is not the hub's; never waits on the network.

        The event is encoded in the calling thread (an unencodable argument raises
        there) and handed to the hub's loop; events from one thread keep their order.
        Raises ``NotRunning`` when the hub is not serving.
        """
        found = self._namespace_for(namespace)
        packet = found.encode(event, args)
        if isinstance(to, list | set | tuple):
            to = list(to)  # the caller may change its own list after we return
        call_soon = self._call_soon
        if call_soon is None:
            raise NotRunning("the hub is not running")
        try:
            call_soon(self._deliver_from_thread, found, event, args, packet, to, except_, volatile)
        except RuntimeError:  # the event loop has finished
            raise NotRunning("the hub is not running") from None

    def _deliver_from_thread(
        self,
        namespace: Namespace,
        event: str,
        args: tuple[Any, ...],
        packet: Outgoing,
        to: Target,
        except_: Target,
        volatile: bool,
    ) -> None:
        try:
            namespace.publish(event, args, to, except_, volatile, packet)
        except Exception:
            # Raising here would end the event loop: count and log instead.
            self.counters.errors["threadsafe_publish"] += 1
            log.exception("publish from a thread failed")

    def emit_to_user(
        self, user_id: str, event: str, *args: Any, namespace: str | None = None
    ) -> int:
        """Send an event to every live session of one user; returns how many.

        ``namespace``: only the user's sessions of that namespace (None: all of them).
        Each session gets it as from ``session.emit``: stored and tagged with an offset
        only where recovery is on. Raises ``KeyError`` for an unknown namespace, and
        ``TypeError`` (before sending anything) for arguments JSON cannot carry.
        """
        if namespace is not None:
            self._namespace_for(namespace)
        by_namespace: dict[Namespace, list[str]] = {}
        for session in self.users.members(user_id):
            if namespace is None or session.namespace.name == namespace:
                by_namespace.setdefault(session.namespace, []).append(session.sid)
        # Encode first: an unencodable argument raises before anything is stored or sent.
        packets = [(found, sids, found.encode(event, args)) for found, sids in by_namespace.items()]
        count = 0
        for found, sids, packet in packets:
            if found.config.recovery:
                count += found.publish(event, args, to=sids, packet=packet).recipients
            else:
                count += found.broadcast(packet, to=sids)
        return count

    def user(self, user_id: str) -> UserEmitter:
        """The emitter of one user (made on first use): queued, prioritized, acked events.

        ``await hub.user("alice").emit("job_done", {...}, ack=True)`` returns a handle;
        see ``UserEmitter.emit_nowait`` for the options and the README for the wire format.
        """
        if not isinstance(user_id, str):
            raise TypeError(f"a user id is a string, not {type(user_id).__name__}")
        emitter = self.emitters.get(user_id)
        if emitter is None:
            emitter = self.emitters[user_id] = UserEmitter(self, user_id)
            emitter.kick()  # its pump reaps it if it stays unused
        return emitter

    def forget_emitter(self, emitter: UserEmitter) -> None:
        """Called by an emitter idle and empty for ``emitter_idle_reap`` seconds."""
        emitter.reaped = True
        if self.emitters.get(emitter.user_id) is emitter:
            del self.emitters[emitter.user_id]

    def _emitter_stats(self) -> EmitterStats:
        totals = self.counters.emitter.snapshot()
        users = {user_id: emitter.stats() for user_id, emitter in self.emitters.items()}
        return EmitterStats(
            delivered=totals.delivered,
            acked=totals.acked,
            retried=totals.retried,
            expired=totals.expired,
            dropped=totals.dropped,
            pending=sum(stats.pending for stats in users.values()),
            users=users,
        )

    def _namespace_for(self, name: str) -> Namespace:
        found = self.namespaces.get(name)
        if found is None:
            raise KeyError(f"no namespace {name!r}")
        return found

    async def emit(
        self,
        event: str,
        *args: Any,
        to: Target = None,
        namespace: str = "/",
        except_: Target = None,
        volatile: bool = False,
    ) -> int:
        """``emit_nowait``, then a checkpoint so tight producer loops stay fair."""
        count = self.emit_nowait(
            event, *args, to=to, namespace=namespace, except_=except_, volatile=volatile
        )
        await anyio.lowlevel.checkpoint()
        return count

    def stats(self) -> HubStats:
        c = self.counters
        return HubStats(
            connections=c.connections,
            sessions={name: len(ns.sessions) for name, ns in self.namespaces.items()},
            rooms={name: ns.rooms.sizes() for name, ns in self.namespaces.items()},
            events_in=c.events_in,
            deliveries=c.deliveries,
            recovered=c.recovered,
            dropped=dict(c.dropped),
            disconnects=dict(c.disconnects),
            errors=dict(c.errors),
            emitter=self._emitter_stats(),
        )

    async def serve(
        self,
        host: str = "127.0.0.1",
        ports: int | Sequence[int] = 8765,
        *,
        task_status: trio.TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Listen and serve until cancelled or shut down.

        ``ports``: a port (0 picks a free one) or several tried in order. The bound port
        is reported to ``nursery.start``. A hub serves once at a time; after it stops,
        it may serve again (namespaces and handlers stay).
        """
        from hub.server.listener import Server

        if self._server is not None:
            raise RuntimeError("this hub is already serving")
        await Server(self).run(host, ports, task_status)

    async def shutdown(self, grace: float = 10.0) -> None:
        """Stop accepting, tell every client it is a server shutdown, and let them drain.

        Queued events are flushed and each connection is closed with 1001 "server
        shutting down"; connections still open after ``grace`` seconds are forced
        closed. ``serve`` then returns.
        """
        if self._server is not None:
            await self._server.shutdown(grace)

    def attach(
        self, server: Serving, port: int, call_soon: CallSoon, spawn: Spawn | None = None
    ) -> None:
        """Called by the server once it listens; ``spawn`` runs hub tasks in its nursery."""
        self._server, self.port, self._call_soon = server, port, call_soon
        self.spawn = spawn
        self.started_at = time.time()
        # Emitters outlive a run: those with work (or to reap) start again.
        for emitter in list(self.emitters.values()):
            emitter.kick()

    def detach(self, server: Serving) -> None:
        """Called by the server when it has stopped."""
        if self._server is server:
            self._server = self._call_soon = self.spawn = None


_process_hub: Hub | None = None
_process_hub_lock = threading.Lock()


def get_hub() -> Hub:
    """The process-wide hub: the same instance on every call, from any thread."""
    global _process_hub
    with _process_hub_lock:
        if _process_hub is None:
            _process_hub = Hub()
        return _process_hub
