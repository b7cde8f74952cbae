"""Baseline server for the fan-out benchmark: python-socketio on aiohttp, default settings.

It offers the same three acknowledged events as ``hub`` so the same load can run against
both::

    join(room)     -> {"ok": true}
    leave(room)    -> {"ok": true}
    publish({"room": str | [str, ...] | null, "event": str, "data": any})
                   -> {"ok": true, "recipients": N}

Run ``python benchmarks/psio_server.py --host 127.0.0.1 --port 0``; once it accepts
connections it prints ``python-socketio listening on http://HOST:PORT`` and it exits
cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
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


async def serve(host: str, port: int) -> None:
    sio = build_server()
    app = web.Application()
    sio.attach(app)
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
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
