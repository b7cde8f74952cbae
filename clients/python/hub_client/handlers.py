"""Event handlers: sync or async callables, by event name or by typed event class."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import attrs

from hub.events import InvalidEvent, name_of, structure
from hub.protocol.socketio import RESERVED_EVENTS

Handler = Callable[..., Any]

# Names the client itself fires: ``connect()``, ``disconnect(reason)``,
# ``connect_error(error)``. The server cannot send them (Socket.IO reserves them).
LIFECYCLE = frozenset({"connect", "disconnect", "connect_error"})
# A handler under this name gets ``(event, *args)`` of every event without its own handler.
CATCH_ALL = "*"


@attrs.frozen
class Registered:
    """A handler, and the typed event class its one argument is structured into, if any."""

    handler: Handler
    typed: type[Any] | None = None

    def arguments(self, event: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """The handler's arguments; ``InvalidEvent`` when a typed payload does not fit."""
        if self.typed is None:
            return args
        if len(args) != 1:
            raise InvalidEvent(
                event, [f"expected one argument (the event's object), got {len(args)} @ $"]
            )
        return (structure(self.typed, args[0]),)


def event_name(event: str | type[Any]) -> tuple[str, type[Any] | None]:
    """The wire name of ``event`` (a name or a typed event class) and its class, if any."""
    if isinstance(event, str):
        if not event:
            raise ValueError("an event name is a non-empty string")
        return event, None
    if isinstance(event, type):
        return name_of(event), event  # TypeError for an unregistered class
    raise TypeError(f"expected an event name or a typed event class, got {event!r}")


def check_outgoing(event: str) -> None:
    """``ValueError`` for names a client may not emit."""
    if not isinstance(event, str) or not event:
        raise ValueError(f"an event name is a non-empty string, got {event!r}")
    if event in RESERVED_EVENTS:
        raise ValueError(f"{event!r} is reserved by Socket.IO")


async def call(handler: Handler, *args: Any) -> Any:
    """Calls a sync or async handler; its (awaited) result."""
    result = handler(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


def describe(handler: Handler) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)
