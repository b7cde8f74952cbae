"""The hub application the interop tests drive with third-party Socket.IO clients.

Run it from the repository root (``hub`` need not be installed)::

    python tests/interop/app.py [--host 127.0.0.1] [--port 0]
                                [--ping-interval SECONDS] [--ping-timeout SECONDS]
                                [--cors-origin ORIGIN ...] [--cors-credentials]

``--cors-origin`` (repeatable; ``*`` for any) and ``--cors-credentials`` set the hub's
``cors_origins`` and ``cors_credentials``: which browser pages of other origins may use
long-polling. Without them no CORS headers are sent.

When it is ready it prints ``hub listening on http://HOST:PORT`` (flushed) on stdout; it
runs until SIGTERM or SIGINT and then exits 0.

Namespaces:

``/`` (no auth)
    ``ping(*args)`` acks ``"pong", *args``.

``/test`` (refused with ``ConnectRefused("bad token", {"reason": "invalid_token"})``
unless ``auth.token == "secret"``)
    ``join(room)`` / ``leave(room)`` ack ``True``;
    ``echo(*args)`` acks its arguments unchanged (binary included, zero args: an empty ack);
    ``kick()`` disconnects the session from the server side (no ack);
    ``unencodable()`` returns a value JSON cannot encode (the hub must survive that);
    ``whoami()`` acks the auth dict;
    ``info()`` acks ``{"sid", "namespace", "rooms"}``;
    ``ask(question, wait=5.0)`` acks ``True``, then an app task ``session.call``\\ s the
    client with ``question(question)`` and emits ``answer({"ok": True, "answer": [ack
    args]})`` (or ``answer({"ok": False, "error": "timeout"})`` on ``AckTimeout``);
    ``broadcast({"room", "event", "args"})`` does ``hub.emit(event, *args, to=room)`` and
    acks the recipient count.
    A disconnect is announced as ``peer_left({"sid", "reason"})`` to the room ``watchers``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import signal
import sys
from pathlib import Path
from typing import Any

if importlib.util.find_spec("hub") is None:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import trio

from hub import AckTimeout, ConnectRefused, Hub, NotConnected, Session

TEST_NS = "/test"
SECRET = "secret"
WATCHERS = "watchers"


def build_hub(tasks: trio.Nursery, **settings: Any) -> Hub:
    """The interop Hub with these settings; ``tasks`` runs the server-to-client ack calls."""
    hub = Hub(**settings)

    root = hub.namespace("/")

    @root.on("ping")
    async def ping(session: Session, *args: Any) -> tuple[Any, ...]:
        return ("pong", *args)

    ns = hub.namespace(TEST_NS)

    @ns.on_connect
    async def connect(session: Session, auth: dict[str, Any] | None) -> None:
        if not auth or auth.get("token") != SECRET:
            raise ConnectRefused("bad token", {"reason": "invalid_token"})

    @ns.on_disconnect
    async def disconnect(session: Session, reason: str) -> None:
        await hub.emit(
            "peer_left", {"sid": session.sid, "reason": reason}, to=WATCHERS, namespace=TEST_NS
        )

    @ns.on("join")
    async def join(session: Session, room: str) -> bool:
        await session.enter(room)
        return True

    @ns.on("leave")
    async def leave(session: Session, room: str) -> bool:
        await session.leave(room)
        return True

    @ns.on("echo")
    async def echo(session: Session, *args: Any) -> tuple[Any, ...]:
        return args

    @ns.on("kick")
    async def kick(session: Session) -> None:
        await session.disconnect()

    @ns.on("unencodable")
    async def unencodable(session: Session) -> Any:
        return {"not json": object()}  # the ack cannot be encoded: the hub must survive it

    @ns.on("whoami")
    async def whoami(session: Session) -> Any:
        return session.auth

    @ns.on("info")
    async def info(session: Session) -> dict[str, Any]:
        return {
            "sid": session.sid,
            "namespace": session.namespace.name,
            "rooms": sorted(session.rooms),
        }

    async def ask_client(session: Session, question: Any, wait: float) -> None:
        try:
            answer = await session.call("question", question, timeout=wait)
            reply: dict[str, Any] = {"ok": True, "answer": list(answer)}
        except AckTimeout:
            reply = {"ok": False, "error": "timeout"}
        except NotConnected:  # the client left while asked: nobody to tell
            return
        with contextlib.suppress(NotConnected):
            await session.emit("answer", reply)

    @ns.on("ask")
    async def ask(session: Session, question: Any, wait: float = 5.0) -> bool:
        # Not awaited here: this handler runs in the connection's receive task, which is
        # the task that would have to read the client's ack.
        tasks.start_soon(ask_client, session, question, float(wait))
        return True

    @ns.on("broadcast")
    async def broadcast(session: Session, spec: dict[str, Any]) -> int:
        return await hub.emit(
            spec["event"], *spec.get("args", []), to=spec.get("room"), namespace=TEST_NS
        )

    return hub


async def main(host: str, port: int, settings: dict[str, Any]) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with trio.open_nursery() as nursery:
            hub = build_hub(nursery, **settings)
            bound = await nursery.start(hub.serve, host, port)
            print(f"hub listening on http://{host}:{bound}", flush=True)
            async for _ in signals:
                break
            nursery.cancel_scope.cancel()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ping-interval", type=float, default=25.0)
    parser.add_argument("--ping-timeout", type=float, default=20.0)
    parser.add_argument("--cors-origin", action="append", default=[], dest="cors_origins")
    parser.add_argument("--cors-credentials", action="store_true")
    args = parser.parse_args()
    settings = {
        "ping_interval": args.ping_interval,
        "ping_timeout": args.ping_timeout,
        "cors_origins": tuple(args.cors_origins),
        "cors_credentials": args.cors_credentials,
    }
    trio.run(main, args.host, args.port, settings)


if __name__ == "__main__":
    cli()
