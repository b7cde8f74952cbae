"""What an application does in one namespace: handlers, emits, acks, waits, and the
standalone hub's requests (join, leave, replay). ``Client`` does it in its first
namespace; ``client.of(name)`` returns a ``Namespace`` for any other one."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import anyio
import attrs

from hub.events import is_typed, to_wire
from hub_client.channel import AckSlot, ChannelState, Outgoing
from hub_client.codec import ack_value, event_packet, sio_packets
from hub_client.errors import AckTimeout, RequestFailed
from hub_client.handlers import (
    CATCH_ALL,
    LIFECYCLE,
    Handler,
    Registered,
    check_outgoing,
    event_name,
)
from hub_client.waiters import Predicate, Waiter

if TYPE_CHECKING:
    from hub_client.client import Client

H = TypeVar("H", bound=Handler)


class _Omitted(enum.Enum):
    NO_REPLAY = "no replay"


NO_REPLAY: Literal[_Omitted.NO_REPLAY] = _Omitted.NO_REPLAY


@attrs.frozen
class ReplayedEvent:
    """One stored event, as the standalone hub's ``replay`` returns it."""

    offset: str
    event: str
    args: tuple[Any, ...]


@attrs.frozen
class Replay:
    """``events`` after the offset asked for; ``complete`` is False when the history no
    longer reaches back that far (then ``events`` is empty: reload instead)."""

    events: tuple[ReplayedEvent, ...]
    complete: bool


def _ok(request: str, reply: Any) -> dict[str, Any]:
    if not isinstance(reply, dict) or reply.get("ok") is not True:
        raise RequestFailed(request, reply)
    return reply


class EventAPI:
    """The namespace methods; ``_client`` and ``_channel`` say which client and namespace."""

    _client: Client
    _channel: ChannelState

    # State

    @property
    def namespace(self) -> str:
        return self._channel.name

    @property
    def sid(self) -> str | None:
        """The Socket.IO session id of this namespace (None before the first connect)."""
        return self._channel.sid

    @property
    def connected(self) -> bool:
        return self._channel.connected

    @property
    def recovered(self) -> bool:
        """True when the last (re)connect resumed the previous session (same sid, rooms,
        and the events missed in between were replayed)."""
        return self._channel.recovered

    @property
    def offset(self) -> str | None:
        """The offset of the last stored event received (recovery on), else None."""
        return self._channel.offset

    # Handlers

    @overload
    def on(self, event: str | type[Any]) -> Callable[[H], H]: ...

    @overload
    def on(self, event: str | type[Any], handler: H) -> H: ...

    def on(self, event: str | type[Any], handler: H | None = None) -> H | Callable[[H], H]:
        """Registers ``handler`` (sync or async) for ``event``; usable as a decorator.

        ``event`` is a name or a typed event class of ``hub.events`` (the handler then
        gets the structured object). Its return value is the ack when the server asked
        for one (``None``: an empty ack; a tuple: several values). One handler per event:
        a second registration replaces the first. ``"connect"``, ``"disconnect"`` and
        ``"connect_error"`` are the client's own (several allowed); ``"*"`` gets
        ``(event, *args)`` of every event that has no handler of its own.
        """

        def register(function: H) -> H:
            if not callable(function):
                raise TypeError(f"a handler is callable, got {function!r}")
            if isinstance(event, str) and event in LIFECYCLE:
                self._channel.lifecycle[event].append(function)
            elif event == CATCH_ALL:
                self._channel.handlers[CATCH_ALL] = Registered(function)
            else:
                name, typed = event_name(event)
                self._channel.handlers[name] = Registered(function, typed)
            return function

        return register if handler is None else register(handler)

    def off(self, event: str | type[Any]) -> None:
        """Removes the handler(s) of ``event``."""
        if isinstance(event, str) and event in LIFECYCLE:
            self._channel.lifecycle[event].clear()
        else:
            name = event if event == CATCH_ALL else event_name(event)[0]
            self._channel.handlers.pop(name, None)

    # Emitting

    def _outgoing(self, event: str | object, args: tuple[Any, ...], ack: bool) -> Outgoing:
        if is_typed(event):
            if args:
                raise TypeError("a typed event is sent alone: emit(obj), no further arguments")
            name, payload = to_wire(event)
            args = (payload,)
        elif isinstance(event, str):
            check_outgoing(event)
            name = event
        else:
            raise TypeError(f"expected an event name or a typed event, got {event!r}")
        # Encoded now, so data JSON cannot carry raises here (TypeError), not later.
        packets = sio_packets(event_packet(self._channel.name, name, args))
        slot = AckSlot(anyio.Event()) if ack else None
        return Outgoing(name, args, packets, slot)

    async def emit(self, event: str | object, *args: Any) -> None:
        """Sends ``event(*args)``, or a typed event object alone.

        While connected it returns once the event is queued for sending (waiting when
        many are queued already). While disconnected the event waits in the offline
        queue and goes out, in order, once reconnected; ``OfflineQueueFull`` when that
        queue is full, ``NotConnected`` when the client is closed or stopped.
        """
        await self._client._enqueue(self._channel, self._outgoing(event, args, ack=False))

    async def emit_with_ack(
        self, event: str | object, *args: Any, timeout: float | None = None
    ) -> Any:
        """Sends the event and returns the server's ack: None, its one value, or a tuple.

        ``AckTimeout`` after ``timeout`` seconds (default: the client's ``ack_timeout``),
        counted from the call, offline time included. ``ConnectionLost`` when the
        connection goes after the event was sent and before its ack came.
        """
        item = self._outgoing(event, args, ack=True)
        slot = item.ack
        assert slot is not None
        limit = self._client.options.ack_timeout if timeout is None else timeout
        try:
            with anyio.fail_after(limit):
                await self._client._enqueue(self._channel, item)
                await slot.done.wait()
        except TimeoutError:
            item.cancelled = True
            self._channel.forget_ack(slot)
            raise AckTimeout(
                f"no ack for {item.event!r} in {self._channel.name} within {limit:g} s"
            ) from None
        if slot.error is not None:
            raise slot.error
        return ack_value(slot.args or [])

    def wait_for(
        self,
        event: str | type[Any],
        predicate: Predicate | None = None,
        *,
        timeout: float | None = None,
    ) -> Waiter:
        """Awaitable: the next ``event`` received (that ``predicate(value)`` accepts).

        It watches from this call on, so ``w = client.wait_for("done")``, then the
        request that causes it, then ``await w`` misses nothing. The value is the
        event's one argument (None for none, a tuple for several), or the structured
        object for a typed event class. ``WaitTimeout`` after ``timeout`` seconds;
        ``NotConnected`` once the client is closed or stopped reconnecting.
        """
        name, typed = event_name(event)
        waiter = Waiter(self._channel, name, typed, predicate, timeout)
        if self._client.failure is not None:
            waiter.fail(self._client.failure)
        return waiter

    # The standalone hub's namespace

    async def join(
        self,
        room: str,
        since: str | Literal[_Omitted.NO_REPLAY] | None = NO_REPLAY,
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Joins ``room``. With ``since`` (an offset, or None for all that is stored), the
        room's stored events after it are sent first, then the ack
        ``{"ok", "room", "replayed", "complete"}``. ``RequestFailed`` on a refusal."""
        args: tuple[Any, ...] = (room,) if since is NO_REPLAY else (room, since)
        return _ok("join", await self.emit_with_ack("join", *args, timeout=timeout))

    async def leave(self, room: str, *, timeout: float | None = None) -> dict[str, Any]:
        return _ok("leave", await self.emit_with_ack("leave", room, timeout=timeout))

    async def replay(
        self,
        room: str,
        since: str | None = None,
        limit: int | None = None,
        *,
        timeout: float | None = None,
    ) -> Replay:
        """The room's stored events after ``since`` (None: from the oldest kept)."""
        request = {"room": room, "since": since, "limit": limit}
        reply = _ok("replay", await self.emit_with_ack("replay", request, timeout=timeout))
        events = tuple(
            ReplayedEvent(item["offset"], item["event"], tuple(item.get("args", ())))
            for item in reply.get("events", [])
        )
        return Replay(events, bool(reply.get("complete")))


class Namespace(EventAPI):
    """One namespace of a client's connection: ``client.of("/dash")``."""

    def __init__(self, client: Client, channel: ChannelState) -> None:
        self._client = client
        self._channel = channel

    def __repr__(self) -> str:
        return f"<Namespace {self._channel.name} sid={self._channel.sid}>"


__all__ = ["NO_REPLAY", "EventAPI", "Namespace", "Replay", "ReplayedEvent"]
