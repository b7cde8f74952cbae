"""Baseline server for the benchmarks: python-socketio on aiohttp, default settings.

It offers the same three acknowledged events as ``hub`` so the same load can run against
both::

    join(room)     -> {"ok": true}
    leave(room)    -> {"ok": true}
    publish({"room": str | [str, ...] | null, "event": str, "data": any})
                   -> {"ok": true, "recipients": N}

and, with ``--api-key KEY``, the hub's HTTP publish API as an aiohttp route::

    POST /api/publish   Authorization: Bearer KEY
    {"event": str, "data": any, "namespace": "/", "room": str | "rooms": [str, ...]}
                   -> 200 {"recipients": N}   (4xx {"error": ..., "message": ...})

Engine.IO long-polling is served too (python-socketio's default), at the same path.

Run ``python benchmarks/psio_server.py --host 127.0.0.1 --port 0``; once it accepts
connections it prints ``python-socketio listening on http://HOST:PORT`` and it exits
cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import signal
import socket
from collections.abc import Sequence
from typing import Any

import socketio
from aiohttp import web

NAMESPACE = "/"


def _error(message: str) -> dict[str, Any]:
    return {"ok": False, "error": message}


def _valid_room(room: object) -> bool:
    return isinstance(room, str) and bool(room)


def _target_rooms(room: object) -> str | list[str] | None:
    """The ``to=`` argument for ``emit``; ``ValueError`` if ``room`` is malformed."""
    if room is None or isinstance(room, str):
        return room
    if isinstance(room, list) and all(isinstance(r, str) for r in room):
        return room
    raise ValueError("room must be a string, a list of strings or null")


def build_server() -> socketio.AsyncServer:
    sio = socketio.AsyncServer(async_mode="aiohttp")

    @sio.on("join")
    async def join(sid: str, room: object = None) -> dict[str, Any]:
        if not _valid_room(room):
            return _error("room must be a non-empty string")
        await sio.enter_room(sid, room)
        return {"ok": True}

    @sio.on("leave")
    async def leave(sid: str, room: object = None) -> dict[str, Any]:
        if not _valid_room(room):
            return _error("room must be a non-empty string")
        await sio.leave_room(sid, room)
        return {"ok": True}

    @sio.on("publish")
    async def publish(sid: str, message: object = None) -> dict[str, Any]:
        if not isinstance(message, dict):
            return _error("publish takes an object")
        event = message.get("event")
        if not isinstance(event, str) or not event:
            return _error("event must be a non-empty string")
        try:
            to = _target_rooms(message.get("room"))
        except ValueError as exc:
            return _error(str(exc))
        if to == []:  # python-socketio cannot address an empty list of rooms
            return {"ok": True, "recipients": 0}
        # Counted with the same participant walk ``emit`` uses, so the number matches
        # what is actually sent (rooms in a list are de-duplicated there too).
        recipients = sum(1 for _ in sio.manager.get_participants(NAMESPACE, to))
        # A 1-tuple is sent as exactly one argument, even when the data is null.
        data = (message.get("data"),)
        await sio.emit(event, data, to=to, namespace=NAMESPACE)
        return {"ok": True, "recipients": recipients}

    return sio


def _api_error(status: int, error: str, message: str) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status)


def publish_route(sio: socketio.AsyncServer, api_keys: Sequence[str]) -> web.RouteDef:
    """``POST /api/publish``: the same work as the hub's HTTP API, on python-socketio.

    Checks the bearer key, parses the JSON body, counts the recipients as the ``publish``
    event does, and answers once ``emit`` has queued the event for every recipient.
    """
    keys = [key.encode() for key in api_keys]

    async def publish(request: web.Request) -> web.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        given = token.strip().encode()
        # Compared with every key in constant time, as an API key check should be.
        if scheme.lower() != "bearer" or not any(hmac.compare_digest(given, k) for k in keys):
            return _api_error(401, "unauthorized", "a valid 'Authorization: Bearer' key is needed")
        try:
            message = json.loads(await request.read())
        except ValueError:
            return _api_error(400, "bad_request", "the body is not JSON")
        if not isinstance(message, dict):
            return _api_error(400, "bad_request", "the body must be a JSON object")
        event = message.get("event")
        if not isinstance(event, str) or not event:
            return _api_error(400, "bad_request", "event must be a non-empty string")
        namespace = message.get("namespace", NAMESPACE)
        if not isinstance(namespace, str) or not namespace.startswith("/"):
            return _api_error(400, "bad_request", "namespace must be a string starting with '/'")
        try:
            to = _target_rooms(message.get("rooms", message.get("room")))
        except ValueError as exc:
            return _api_error(400, "bad_request", str(exc))
        if to == []:
            return web.json_response({"recipients": 0})
        recipients = sum(1 for _ in sio.manager.get_participants(namespace, to))
        await sio.emit(event, (message.get("data"),), to=to, namespace=namespace)
        return web.json_response({"recipients": recipients})

    return web.post("/api/publish", publish)


async def serve(host: str, port: int, api_keys: Sequence[str]) -> None:
    sio = build_server()
    app = web.Application()
    sio.attach(app)
    if api_keys:
        app.add_routes([publish_route(sio, api_keys)])
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    # Binding the socket here tells us the ephemeral port without reaching into aiohttp.
    sock = socket.create_server((host, port))
    site = web.SockSite(runner, sock, shutdown_timeout=1.0)
    await site.start()
    bound_host, bound_port = sock.getsockname()[:2]
    print(f"python-socketio listening on http://{bound_host}:{bound_port}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        help="turn on POST /api/publish, accepting this bearer key (repeatable)",
    )
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, args.api_key))


if __name__ == "__main__":
    main()
