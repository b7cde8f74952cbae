"""The server: listening sockets, each request routed, and the live connections.

Accept loops run in their own cancel scope and connections in an outer nursery, so a
graceful shutdown can stop accepting, tell every client, and let them drain.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

import orjson
import trio

from hub.core.hub import Hub
from hub.server import api, assets, engine, metrics
from hub.server.connection import HttpConnection, RequestError
from hub.server.engine import websocket_refusal
from hub.server.http import (
    Request,
    Response,
    cors_headers,
    handshake_of,
    is_engineio_path,
    preflight,
    websocket_accept_headers,
)
from hub.transport.polling import PollingTransport
from hub.transport.websocket import WebSocketTransport

log = logging.getLogger("hub")

SHUTDOWN_REASON = "server shutting down"
# How long a refused socket may take to read the refusal before it is closed.
REFUSED_LINGER = 1.0


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
        # Long-polling sessions by sid: they outlive the requests that carry them.
        self.polling: dict[str, PollingTransport] = {}
        self.http: set[HttpConnection] = set()
        # Engine.IO sessions counted against the connection limits.
        self.gate = engine.Gate()
        self.refusals = engine.RefusalLog()
        # Open TCP connections, whatever they carry.
        self.sockets = 0
        self.metrics = metrics.new_registry(self)
        self.closing = False
        self._accepting = trio.CancelScope()
        self._connections: trio.Nursery | None = None
        # The hub's own tasks (user emitters' pumps): cancelled when a shutdown begins.
        self._tasks: trio.Nursery | None = None
        self._finished = trio.Event()

    async def run(
        self, host: str, ports: int | Sequence[int], task_status: trio.TaskStatus[int]
    ) -> None:
        listeners = await open_listeners(host, ports)
        port = listeners[0].socket.getsockname()[1]
        try:
            async with trio.open_nursery() as connections:
                self._connections = connections
                self._tasks = await connections.start(self._run_hub_tasks)
                call_soon = trio.lowlevel.current_trio_token().run_sync_soon
                self.hub.attach(self, port, call_soon, self.spawn)
                log.info("hub listening on http://%s:%d", host, port)
                task_status.started(port)
                with self._accepting:
                    await trio.serve_listeners(
                        partial(handle_stream, self), listeners, handler_nursery=connections
                    )
        finally:
            self.hub.detach(self)
            self._finished.set()

    async def _run_hub_tasks(self, task_status: trio.TaskStatus[trio.Nursery]) -> None:
        async with trio.open_nursery() as tasks:
            task_status.started(tasks)
            await trio.sleep_forever()

    def spawn(self, task: Callable[[], Awaitable[None]]) -> bool:
        """Run one of the hub's tasks (the core has no nursery of its own) until shutdown.

        False when it could not start: the server is stopping.
        """
        if self._tasks is None or self.closing:
            return False
        try:
            self._tasks.start_soon(task)
        except RuntimeError:  # the nursery has closed
            return False
        return True

    def open_polling(self, polling: PollingTransport) -> None:
        assert self._connections is not None
        self.polling[polling.sid] = polling
        self._connections.start_soon(polling.run)

    def forget_polling(self, polling: PollingTransport) -> None:
        """The polling session ended or handed over to a WebSocket: its slot goes back
        (once: this is called once, and only the first call finds it)."""
        if self.polling.pop(polling.sid, None) is polling:
            self.gate.give_back(polling.client.handshake.ip)

    async def shutdown(self, grace: float) -> None:
        """Stop accepting, close every connection as a server shutdown, wait, then force."""
        self.closing = True
        self._accepting.cancel()
        if self._tasks is not None:
            # Emitters keep their queues in the hub; their pumps start again on serve.
            self._tasks.cancel_scope.cancel()
        connections = len(self.transports) + len(self.polling)
        log.info("shutting down: %d connections, grace %.1f s", connections, grace)
        live: list[WebSocketTransport | PollingTransport] = [
            *self.transports,
            *self.polling.values(),
        ]
        for transport in live:
            transport.close(SHUTDOWN_REASON)
        for http in list(self.http):
            http.stop_if_idle()
        with trio.move_on_after(grace):
            await self._finished.wait()
        if self._connections is not None and not self._finished.is_set():
            log.warning("forcing %d connections closed", len(self.transports))
            for transport in list(self.transports):
                transport.abort()
            self._connections.cancel_scope.cancel()
        await self._finished.wait()


async def handle_stream(server: Server, stream: trio.SocketStream) -> None:
    server.sockets += 1
    try:
        cap = engine.max_sockets(server.hub.config)
        if cap and server.sockets > cap:
            await _refuse_socket(server, stream, cap)
        else:
            await _serve_stream(server, stream)
    finally:
        await trio.aclose_forcefully(stream)
        server.sockets -= 1


async def _serve_stream(server: Server, stream: trio.SocketStream) -> None:
    hub = server.hub
    remote = _remote(stream)
    # The IP a WebSocket session of this connection is counted under in server.gate.
    counted: str | None = None
    try:
        opening = await serve_http(server, stream, remote)
        if opening is None:
            return
        request, accept, early_data = opening
        del opening  # the opening is not kept alive for the connection's lifetime
        handshake = handshake_of(request)
        sid = request.query.get("sid")
        if sid is None:
            counted = handshake.ip  # websocket_refusal counted the new session
        if server.closing:
            return
        transport = WebSocketTransport(hub, stream, handshake)
        if sid is None:
            transport.open(accept, early_data)
        else:
            polling = server.polling.get(sid)
            if polling is None or not await transport.upgrade(polling, accept, early_data):
                return
            del polling
            # The polling session gave its slot back as it handed over, just now (no
            # await since): the WebSocket takes it on, so an upgrade counts once.
            counted = transport.client.handshake.ip
            server.gate.take(counted)
        del request, accept, early_data
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
        log.exception("connection from %s failed", remote)
    finally:
        if counted is not None:
            server.gate.give_back(counted)


async def _refuse_socket(server: Server, stream: trio.SocketStream, cap: int) -> None:
    """Past the cap on open connections: a 503 written at once, without reading the
    request, then a short lingering close (reading what the peer sent, so the close
    does not reset the connection before the peer has read the refusal)."""
    reason = "too_many_sockets"
    server.hub.counters.errors[reason] += 1
    remote = _remote(stream)
    server.refusals.info(
        reason, "remote=%s refused: 503 %s: over %d connections", remote, reason, cap
    )
    body = orjson.dumps({"code": 4, "message": "Too many open connections", "reason": reason})
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nRetry-After: {engine.RETRY_AFTER}\r\n"
        "Connection: close\r\n\r\n"
    )
    try:
        # A new socket's send buffer is empty: the reply goes in one non-blocking write.
        os.write(stream.socket.fileno(), head.encode("latin-1") + body)
        stream.socket.shutdown(socket.SHUT_WR)
    except OSError:
        return
    with trio.move_on_after(REFUSED_LINGER):
        try:
            while await stream.receive_some(65536):
                pass
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass


async def serve_http(
    server: Server, stream: trio.SocketStream, remote: str
) -> tuple[Request, bytes, bytes] | None:
    """Answer HTTP requests until the connection closes or asks to become a WebSocket.

    Returns the accepted WebSocket opening: its request, the 101 reply and the bytes
    that followed it.
    """
    http = HttpConnection(stream, server.hub.config, remote)
    server.http.add(http)
    try:
        while True:
            config = server.hub.config
            try:
                request = await http.next_request()
            except RequestError as error:
                server.hub.counters.errors[error.kind] += 1
                log.info("remote=%s bad request: %s", remote, error.response.body.decode())
                response = error.response
                if error.request is not None:
                    engine.request_failed(server, error.request, error.kind)
                    response = response.with_headers(cors_headers(config, error.request))
                await http.send(response)
                return None
            if request is None:
                return None
            if request.wants_websocket:
                refusal = websocket_refusal(server, request)
                if refusal is None:
                    # A new session is counted from here: return at once (no await), so
                    # the caller that gives its slot back has it.
                    return (request, *http.switch_protocol(websocket_accept_headers(request)))
                response = refusal
            else:
                response = await route(server, request)
            response = response.with_headers(cors_headers(config, request))
            if not await http.send(response) or response.close or server.closing:
                return None
    finally:
        server.http.discard(http)


async def route(server: Server, request: Request) -> Response:
    config = server.hub.config
    if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
        return preflight(config, request)
    if is_engineio_path(request.path, config.path):
        return await engine.handle(server, request)
    if request.path == assets.CLIENT_PATH:
        return assets.handle(server, request)
    return await api.handle(server, request)


def _remote(stream: trio.SocketStream) -> str:
    try:
        host, port = stream.socket.getpeername()[:2]
    except OSError:
        return "?"
    return f"{host}:{port}"
