"""The hub ``python -m hub`` runs: useful with no code, through its default namespace.

Clients of ``/`` may ``join`` and ``leave`` rooms and ``publish`` an event to rooms;
each is acknowledged with ``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

from typing import Any

from hub.core.hub import Hub
from hub.core.session import Session


def _error(message: str) -> dict[str, Any]:
    return {"ok": False, "error": message}


def _is_room(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _rooms(value: Any) -> list[str] | str | None:
    if value is None or _is_room(value):
        return value  # type: ignore[no-any-return]
    if isinstance(value, list) and value and all(map(_is_room, value)):
        return value
    raise ValueError("room must be a room name, a non-empty list of room names, or null")


def standalone_hub(**settings: Any) -> Hub:
    hub = Hub(**settings)
    default = hub.namespace("/")

    @default.on("join")
    async def join(session: Session, room: Any = None) -> dict[str, Any]:
        if not _is_room(room):
            return _error("join takes a room name")
        await session.enter(room)
        return {"ok": True, "room": room}

    @default.on("leave")
    async def leave(session: Session, room: Any = None) -> dict[str, Any]:
        if not _is_room(room):
            return _error("leave takes a room name")
        await session.leave(room)
        return {"ok": True, "room": room}

    @default.on("publish")
    async def publish(session: Session, message: Any = None) -> dict[str, Any]:
        if not isinstance(message, dict):
            return _error('publish takes {"room": ..., "event": ..., "data": ...}')
        event = message.get("event")
        if not isinstance(event, str) or not event:
            return _error("publish needs an event name")
        try:
            rooms = _rooms(message.get("room"))
        except ValueError as exc:
            return _error(str(exc))
        recipients = await hub.emit(event, message.get("data"), to=rooms)
        return {"ok": True, "recipients": recipients}

    return hub
