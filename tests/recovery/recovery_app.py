"""The hub application the recovery tests drive: recovery on, and a server-side event stream.

Run it from the repository root (``hub`` need not be installed)::

    python tests/recovery/recovery_app.py [--host 127.0.0.1] [--port 0] [--recovery 120]
                                          [--history-events N] [--ping-interval S] ...

When it is ready it prints ``hub listening on http://HOST:PORT`` (flushed); it runs until
SIGTERM or SIGINT and then exits 0.

Namespaces, all with the same events:

``/``       the hub's settings (``--recovery`` seconds, default 120; ``--history-*``)
``/off``    ``recovery=0.0``: recovery switched off for this namespace only
``/short``  ``recovery=1.0``: a one-second window
``/tiny``   ``history_events=20``: a history that moves on quickly

Events (each acknowledged):

``join(room)`` / ``leave(room)`` ack ``True``.
``stream({"room", "count", "interval", "event"="tick", "start"=0})`` acks ``True``, then an
app task broadcasts ``event({"n": i})`` to ``room`` for ``i`` in ``start .. start+count-1``,
one every ``interval`` seconds (``hub.emit``, so each is stored in the history).
``emit({"room", "event", "args"})`` broadcasts once and acks the recipient count.
``note(text)`` sends ``note(text)`` to this session alone (``session.emit``), acks ``True``.
``remember(value)`` stores ``value`` in ``session.data["value"]``, acks ``True``.
``whoami()`` acks ``{"sid", "recovered", "rooms", "data"}`` (the session's own view).
``log()`` acks the app's record of ``on_connect``/``on_disconnect`` calls of this namespace,
each ``{"what": "connect"|"disconnect", "sid", "recovered", "reason"?, "auth"?}``.
``kick()`` disconnects the session from the server side (no ack).
``bounce({"grace", "pause"})`` acks ``True``, then the app shuts the hub down (clients get
WebSocket 1001 "server shutting down"), waits ``pause`` seconds and serves again on the
same port.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import sys
from pathlib import Path
from typing import Any

if importlib.util.find_spec("hub") is None:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import trio

from hub import Hub, Session

NAMESPACES: dict[str, dict[str, Any]] = {
    "/": {},
    "/off": {"recovery": 0.0},
    "/short": {"recovery": 1.0},
    "/tiny": {"history_events": 20},
}


class App:
    def __init__(self, tasks: trio.Nursery, host: str, settings: dict[str, Any]) -> None:
        self.tasks = tasks
        self.host = host
        self.hub = Hub(**settings)
        self.port = 0
        self.logs: dict[str, list[dict[str, Any]]] = {}
        for name, overrides in NAMESPACES.items():
            self.install(name, overrides)

    def install(self, name: str, overrides: dict[str, Any]) -> None:
        hub = self.hub
        ns = hub.namespace(name, **overrides) if overrides else hub.namespace(name)
        log = self.logs.setdefault(name, [])

        @ns.on_connect
        async def connect(session: Session, auth: dict[str, Any] | None) -> None:
            log.append(
                {
                    "what": "connect",
                    "sid": session.sid,
                    "recovered": session.recovered,
                    "auth": auth,
                }
            )

        @ns.on_disconnect
        async def disconnect(session: Session, reason: str) -> None:
            log.append(
                {"what": "disconnect", "sid": session.sid, "recovered": session.recovered}
                | {"reason": reason}
            )

        @ns.on("join")
        async def join(session: Session, room: str) -> bool:
            await session.enter(room)
            return True

        @ns.on("leave")
        async def leave(session: Session, room: str) -> bool:
            await session.leave(room)
            return True

        @ns.on("stream")
        async def stream(session: Session, spec: dict[str, Any]) -> bool:
            self.tasks.start_soon(self.stream, name, spec)
            return True

        @ns.on("emit")
        async def emit(session: Session, spec: dict[str, Any]) -> int:
            return await hub.emit(
                spec["event"], *spec.get("args", []), to=spec.get("room"), namespace=name
            )

        @ns.on("note")
        async def note(session: Session, text: str) -> bool:
            await session.emit("note", text)
            return True

        @ns.on("remember")
        async def remember(session: Session, value: Any) -> bool:
            session.data["value"] = value
            return True

        @ns.on("whoami")
        async def whoami(session: Session) -> dict[str, Any]:
            return {
                "sid": session.sid,
                "recovered": session.recovered,
                "rooms": sorted(session.rooms),
                "data": session.data,
            }

        @ns.on("log")
        async def get_log(session: Session) -> list[dict[str, Any]]:
            return log

        @ns.on("kick")
        async def kick(session: Session) -> None:
            await session.disconnect()

        @ns.on("bounce")
        async def bounce(session: Session, spec: dict[str, Any]) -> bool:
            self.tasks.start_soon(self.bounce, float(spec["grace"]), float(spec["pause"]))
            return True

    async def stream(self, namespace: str, spec: dict[str, Any]) -> None:
        event = spec.get("event", "tick")
        start = int(spec.get("start", 0))
        interval = float(spec["interval"])
        for n in range(start, start + int(spec["count"])):
            await self.hub.emit(event, {"n": n}, to=spec["room"], namespace=namespace)
            await trio.sleep(interval)

    async def serve(self, port: int) -> None:
        self.port = await self.tasks.start(self.hub.serve, self.host, port)

    async def bounce(self, grace: float, pause: float) -> None:
        await self.hub.shutdown(grace=grace)
        await trio.sleep(pause)
        await self.serve(self.port)


async def main(host: str, port: int, settings: dict[str, Any]) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with trio.open_nursery() as nursery:
            app = App(nursery, host, settings)
            await app.serve(port)
            print(f"hub listening on http://{host}:{app.port}", flush=True)
            async for _ in signals:
                break
            await app.hub.shutdown(grace=1.0)
            nursery.cancel_scope.cancel()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--recovery", type=float, default=120.0)
    parser.add_argument("--history-events", type=int)
    parser.add_argument("--history-bytes", type=int)
    parser.add_argument("--history-age", type=float)
    parser.add_argument("--ping-interval", type=float)
    parser.add_argument("--ping-timeout", type=float)
    args = parser.parse_args()
    settings = {
        key: value
        for key, value in vars(args).items()
        if key not in ("host", "port") and value is not None
    }
    trio.run(main, args.host, args.port, settings)


if __name__ == "__main__":
    cli()
