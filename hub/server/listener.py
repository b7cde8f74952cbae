"""Accept TCP connections, read each request head, and hand it to its transport."""

from __future__ import annotations

import logging
from functools import partial

import trio

from hub.core.hub import Hub
from hub.errors import ProtocolError
from hub.server.http import (
    MAX_HEAD_BYTES,
    error_response,
    head_end,
    parse_head,
    websocket_accept,
    websocket_refusal,
)
from hub.transport.websocket import WebSocketTransport

log = logging.getLogger("hub")


async def serve(
    hub: Hub, host: str, port: int, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED
) -> None:
    listeners = await trio.open_tcp_listeners(port, host=host)
    hub.port = listeners[0].socket.getsockname()[1]
    log.info("hub listening on http://%s:%d", host, hub.port)
    task_status.started(hub.port)
    await trio.serve_listeners(partial(handle_stream, hub), listeners)


async def read_head(stream: trio.SocketStream) -> tuple[bytes, bytes] | None:
    """The request head and any bytes after it, or None if no complete head comes."""
    buffer = b""
    while (end := head_end(buffer)) == -1:
        if len(buffer) > MAX_HEAD_BYTES:
            return None
        chunk = await stream.receive_some(MAX_HEAD_BYTES)
        if not chunk:
            return None
        buffer += chunk
    return buffer[:end], buffer[end:]


async def handle_stream(hub: Hub, stream: trio.SocketStream) -> None:
    try:
        upgrade = await route(hub, stream)
        if upgrade is None:
            return
        transport = WebSocketTransport(hub, stream, _remote(stream))
        transport.open(*upgrade)
        del upgrade  # not kept alive for the connection's lifetime
        await transport.run()
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    except Exception:
        # A bug met by one connection ends that connection, never the listener.
        hub.counters.errors["internal"] += 1
        log.exception("connection from %s failed", _remote(stream))
    finally:
        await trio.aclose_forcefully(stream)


async def route(hub: Hub, stream: trio.SocketStream) -> tuple[bytes, bytes] | None:
    """Read and check the request; the 101 reply and early bytes, or None once refused."""
    found = None
    with trio.move_on_after(hub.config.handshake_timeout):
        found = await read_head(stream)
    if found is None:
        hub.counters.errors["bad_request_head"] += 1
        await _reply(stream, 400, {"code": 3, "message": "Bad request: no complete head"})
        return None
    raw, early_data = found
    try:
        head = parse_head(raw)
    except ProtocolError as error:
        hub.counters.errors["bad_request_head"] += 1
        log.info("remote=%s %s", _remote(stream), error)
        await _reply(stream, 400, {"code": 3, "message": error.reason})
        return None
    refusal = websocket_refusal(head, hub.config.path)
    if refusal is not None:
        hub.counters.errors["bad_request"] += 1
        log.info("remote=%s refused %s %s: %s", _remote(stream), head.method, head.path, refusal[1])
        await _reply(stream, 400, {"code": refusal[0], "message": refusal[1]})
        return None
    return websocket_accept(head), early_data


async def _reply(stream: trio.SocketStream, status: int, body: dict[str, object]) -> None:
    with trio.move_on_after(1):
        await stream.send_all(error_response(status, body))


def _remote(stream: trio.SocketStream) -> str:
    try:
        host, port = stream.socket.getpeername()[:2]
    except OSError:
        return "?"
    return f"{host}:{port}"
