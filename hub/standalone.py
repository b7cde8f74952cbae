"""The hub ``python -m hub`` runs: useful with no code, through its default namespace.

Clients of ``/`` may ``join`` and ``leave`` rooms, ``publish`` an event to rooms (when
``client_publish`` is on) and ``replay`` a room's history; each is acknowledged with
``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``. With JWT auth configured, the
token names the user and its room patterns bound the joins; without it a client may name
its user with ``auth={"user": id}``, taken on its word, so ``POST /api/users/{id}/emit``
reaches it.
"""

from __future__ import annotations

from typing import Any

from hub.core.hub import Hub
from hub.core.session import Session
from hub.errors import ConnectRefused, Forbidden


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


MAX_REPLAY = 10_000


def _offset(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError("an offset is a string (from an event or an ack) or null")


def _limit(value: Any) -> int:
    if value is None:
        return 1000
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_REPLAY:
        raise ValueError(f"limit must be a whole number from 1 to {MAX_REPLAY}")
    return value


def standalone_hub(**settings: Any) -> Hub:
    hub = Hub(**settings)
    default = hub.namespace("/")

    @default.on_connect
    async def connect(session: Session, auth: Any) -> None:
        user = auth.get("user") if isinstance(auth, dict) else None
        if user is None:
            return
        if hub.policy.enabled:
            raise ConnectRefused(
                "auth.user is not accepted when tokens are configured: the token names the user",
                {"reason": "forbidden"},
            )
        if not isinstance(user, str) or not user:
            raise ConnectRefused("auth.user must be a non-empty string")
        # Without tokens whoever connects may claim any user id: for trusted networks.
        session.user_id = user

    @default.on("join")
    async def join(session: Session, room: Any = None, *since: Any) -> dict[str, Any]:
        if not _is_room(room):
            return _error("join takes a room name")
        try:
            start = _offset(since[0]) if since else None
        except ValueError as exc:
            return _error(str(exc))
        await session.join(room)
        if not since:
            return {"ok": True, "room": room}
        # Stored events after ``since`` go to this client before any newer one.
        missed = session.catch_up(room, start, MAX_REPLAY)
        return {
            "ok": True,
            "room": room,
            "replayed": len(missed.entries),
            "complete": missed.complete,
        }

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
        if not default.config.client_publish:
            raise Forbidden("clients may not publish here (the client_publish setting is off)")
        # A client publishes only to rooms it may join; to everyone only without checks.
        if rooms is None and hub.policy.checks_rooms:
            raise Forbidden("publishing to the whole namespace needs the HTTP API")
        for room in [rooms] if isinstance(rooms, str) else rooms or []:
            await default.may_join(session, room)
        published = hub.publish(event, message.get("data"), to=rooms)
        return {"ok": True, "recipients": published.recipients, "offset": published.offset}

    @default.on("replay")
    async def replay(session: Session, request: Any = None) -> dict[str, Any]:
        if not isinstance(request, dict) or not _is_room(request.get("room")):
            return _error('replay takes {"room": ..., "since": offset or null, "limit": n}')
        try:
            since, limit = _offset(request.get("since")), _limit(request.get("limit"))
        except ValueError as exc:
            return _error(str(exc))
        found = default.replay(request["room"], since, limit)
        events = [
            {"offset": entry.offset, "event": entry.event, "args": list(entry.args)}
            for entry in found.entries
        ]
        return {"ok": True, "events": events, "complete": found.complete}

    return hub
