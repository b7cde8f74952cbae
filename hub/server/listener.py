"""The server: listening sockets, each request head routed, and the live connections.

Accept loops run in their own cancel scope and connections in an outer nursery, so a
graceful shutdown can stop accepting, tell every client, and let them drain.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Sequence
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

SHUTDOWN_REASON = "server shutting down"


async def open_listeners(host: str, ports: int | Sequence[int]) -> list[trio.SocketListener]:
    """Listen on the first free port of ``ports`` (0 picks an ephemeral one)."""
    candidates = [ports] if isinstance(ports, int) else list(ports)
    if not candidates:
        raise ValueError("no port to listen on")
    for index, port in enumerate(candidates):
        try:
            return await trio.open_tcp_listeners(port, host=host)
        except OSError as error:
            if error.errno != errno.EADDRINUSE or index == len(candidates) - 1:
                raise
            log.info("port %d on %s is taken, trying %d", port, host, candidates[index + 1])
    raise AssertionError("unreachable")


class Server:
    """One run of ``Hub.serve``: what it listens on and the connections it holds."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.transports: set[WebSocketTransport] = set()
        self.closing = False
        self._accepting = trio.CancelScope()
        self._connections: trio.Nursery | None = None
        self._finished = trio.Event()

    async def run(
        self, host: str, ports: int | Sequence[int], task_status: trio.TaskStatus[int]
    ) -> None:
        listeners = await open_listeners(host, ports)
        port = listeners[0].socket.getsockname()[1]
        try:
            async with trio.open_nursery() as connections:
                self._connections = connections
                self.hub.attach(self, port, trio.lowlevel.current_trio_token().run_sync_soon)
                log.info("hub listening on http://%s:%d", host, port)
                task_status.started(port)
                with self._accepting:
                    await trio.serve_listeners(
                        partial(handle_stream, self), listeners, handler_nursery=connections
                    )
        finally:
            self.hub.detach(self)
            self._finished.set()

    async def shutdown(self, grace: float) -> None:
        """Stop accepting, close every connection as a server shutdown, wait, then force."""
        self.closing = True
        self._accepting.cancel()
        log.info("shutting down: %d connections, grace %.1f s", len(self.transports), grace)
        for transport in list(self.transports):
            transport.close(SHUTDOWN_REASON)
        with trio.move_on_after(grace):
            await self._finished.wait()
        if self._connections is not None and not self._finished.is_set():
            log.warning("forcing %d connections closed", len(self.transports))
            for transport in list(self.transports):
                transport.abort()
            self._connections.cancel_scope.cancel()
        await self._finished.wait()


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


async def handle_stream(server: Server, stream: trio.SocketStream) -> None:
    hub = server.hub
    try:
        upgrade = await route(hub, stream)
        if upgrade is None or server.closing:
            return
        transport = WebSocketTransport(hub, stream, _remote(stream))
        transport.open(*upgrade)
        del upgrade  # not kept alive for the connection's lifetime
        server.transports.add(transport)
        try:
            await transport.run()
        finally:
            server.transports.discard(transport)
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
