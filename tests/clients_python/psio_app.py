"""The benchmarks' python-socketio server (``benchmarks/psio_server.py``) with a namespace
more, for the Python client's interop tests.

    python tests/clients_python/psio_app.py [--host 127.0.0.1] [--port 0] [--polling-only]

``/`` is the benchmark server's (``join``, ``leave``, ``publish``, each acknowledged).
``/chat`` refuses a connect whose ``auth.token`` is not ``"secret"`` (``ConnectionRefusedError(
"bad token", {"reason": "invalid_token"})``), and offers:

``echo(*args)``
    acks its arguments unchanged;
``ask(question)``
    acks ``True``, then calls the client with ``question(question)`` and emits
    ``answer(ack)`` with what the client acknowledged (``{"error": "timeout"}`` if nothing);
any other event
    is sent back to its sender unchanged (so a typed event comes back as it left).

``--polling-only`` serves Engine.IO long-polling alone: a WebSocket opening is refused.
It prints ``python-socketio listening on http://HOST:PORT`` once ready, as the benchmark
server does, and stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import socketio

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import psio_server

CHAT = "/chat"
SECRET = "secret"
POLLING_ONLY = "--polling-only" in sys.argv
benchmark_server = psio_server.build_server


def build_server() -> socketio.AsyncServer:
    sio = benchmark_server()
    if POLLING_ONLY:
        sio.eio.transports = ["polling"]
    tasks: set[asyncio.Task[None]] = set()

    @sio.on("connect", namespace=CHAT)
    async def connect(sid: str, environ: Any, auth: Any = None) -> None:
        if not isinstance(auth, dict) or auth.get("token") != SECRET:
            raise socketio.exceptions.ConnectionRefusedError(
                "bad token", {"reason": "invalid_token"}
            )

    @sio.on("echo", namespace=CHAT)
    async def echo(sid: str, *args: Any) -> tuple[Any, ...]:
        return args

    async def ask_client(sid: str, question: Any) -> None:
        try:
            answer = await sio.call("question", question, to=sid, namespace=CHAT, timeout=5)
        except socketio.exceptions.TimeoutError:
            answer = {"error": "timeout"}
        await sio.emit("answer", answer, to=sid, namespace=CHAT)

    @sio.on("ask", namespace=CHAT)
    async def ask(sid: str, question: Any = None) -> bool:
        task = asyncio.get_running_loop().create_task(ask_client(sid, question))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return True

    @sio.on("*", namespace=CHAT)
    async def mirror(event: str, sid: str, *args: Any) -> None:
        await sio.emit(event, args[0] if len(args) == 1 else args, to=sid, namespace=CHAT)

    return sio


if __name__ == "__main__":
    if POLLING_ONLY:
        sys.argv.remove("--polling-only")
    psio_server.build_server = build_server  # serve() builds the server through this name
    psio_server.main()
