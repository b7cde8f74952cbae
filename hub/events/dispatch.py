"""Typed handlers: ``Namespace.on(SomeEvent)`` gets structured objects, never bad input.

The wrapper stands between the client's dispatch and the application's handler: it
structures the one argument a typed event carries, and refuses anything else with an
error ack (returned as the handler's result, so it is sent only when the client asked
for an ack), a count in ``errors["invalid_event"]`` and one log line. The application's
handler never sees an invalid payload, and the connection goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from hub.events.base import name_of, structure
from hub.events.errors import InvalidEvent

if TYPE_CHECKING:
    from hub.core.namespace import Namespace
    from hub.core.session import Session

log = logging.getLogger("hub")

Handler = Callable[..., Awaitable[Any]]


def typed_handler(namespace: Namespace, cls: type[Any], handler: Handler) -> tuple[str, Handler]:
    """The wire name of ``cls`` and the handler to register under it."""
    name = name_of(cls)  # TypeError now, at registration, for an unregistered class

    async def receive(session: Session, *args: Any) -> Any:
        try:
            if len(args) != 1:
                raise InvalidEvent(
                    name, [f"expected one argument (the event's object), got {len(args)} @ $"]
                )
            value = structure(cls, args[0])
        except InvalidEvent as error:
            namespace.hub.counters.errors["invalid_event"] += 1
            message = str(error).replace("\n", " ")  # one log line, whatever the payload
            log.warning(
                "remote=%s sid=%s namespace=%s refused invalid_event: %s",
                session.client.remote,
                session.sid,
                namespace.name,
                message,
            )
            return {"error": "invalid_event", "message": message}
        return await handler(session, value)

    receive.__qualname__ = f"typed({getattr(handler, '__qualname__', handler)!s})"
    return name, receive
