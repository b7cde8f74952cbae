"""Engine.IO requests over plain HTTP: the polling handshake, long-poll GETs and POSTs.

WebSocket openings (fresh, or the upgrade of a polling session) are checked here too and
then run by the listener, which owns the socket.

Every Engine.IO request must come from an allowed origin (``allowed_origins``), and a
session that opens must fit the connection limits (``max_connections`` in total,
``max_connections_per_ip`` per remote address): see ``Gate``.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import trio

from hub.core.config import HubConfig
from hub.errors import ProtocolError
from hub.protocol.engineio import encode_open
from hub.server.http import (
    BAD_REQUEST,
    FORBIDDEN,
    UNKNOWN_SID,
    Request,
    Response,
    engineio_error,
    engineio_refusal,
    error_response,
    handshake_of,
    is_engineio_path,
    origin_allowed,
    text_response,
)
from hub.transport.polling import Overlap, PollingTransport

if TYPE_CHECKING:
    from hub.server.listener import Server

log = logging.getLogger("hub")

OK = text_response(b"ok", "text/html")
# How long a refused client is asked to wait before it tries again.
RETRY_AFTER = "5"
# Refusal log lines per kind and second; past it they are only counted (a flood of
# refused connections must not flood the log as well).
LOG_BURST = 20


# TCP connections (HTTP or WebSocket, sessions or not) beyond ``SOCKET_FACTOR *
# max_connections + SOCKET_MARGIN`` are refused as they are accepted: each holds a file
# descriptor. A long-polling client holds two (its GET and its POST), API callers and
# scrapers a few more.
SOCKET_FACTOR = 2
SOCKET_MARGIN = 64


def max_sockets(config: HubConfig) -> int:
    """The cap on open TCP connections (0: none, when ``max_connections`` is 0)."""
    limit = config.max_connections
    return SOCKET_FACTOR * limit + SOCKET_MARGIN if limit else 0


class RefusalLog:
    """One log line per refusal, at most ``LOG_BURST`` a second for each kind."""

    def __init__(self) -> None:
        # kind -> [start of the current second, lines logged in it, lines held back]
        self._windows: dict[str, list[float]] = {}

    def info(self, kind: str, message: str, *args: Any) -> None:
        now = time.monotonic()
        window = self._windows.get(kind)
        if window is None or now - window[0] >= 1.0:
            if window is not None and window[2]:
                log.info("%d more %s refusals were not logged", int(window[2]), kind)
            window = self._windows[kind] = [now, 0, 0]
        if window[1] < LOG_BURST:
            window[1] += 1
            log.info(message, *args)
        else:
            window[2] += 1


class Gate:
    """The Engine.IO sessions counted against ``max_connections`` and
    ``max_connections_per_ip`` (0: no limit).

    ``admit`` checks and counts in one step, with no await in between, so a flood of
    openings can never take the count past a limit; ``give_back`` is called exactly once
    when the session ends, whatever ends it. A session upgraded from long-polling to
    WebSocket keeps its one slot: the polling side gives it back as it hands over and
    the WebSocket takes it again in the same step (``take``, no check).
    """

    def __init__(self) -> None:
        self.total = 0
        self.by_ip: dict[str, int] = {}

    def admit(self, config: HubConfig, ip: str) -> tuple[int, str, str] | None:
        """Count a session from ``ip`` and return None, or say why it may not open:
        (HTTP status, reason, message)."""
        limit = config.max_connections
        if limit and self.total >= limit:
            return 503, "too_many_connections", f"Too many connections: the hub takes {limit}"
        per_ip = config.max_connections_per_ip
        if per_ip and self.by_ip.get(ip, 0) >= per_ip:
            message = f"Too many connections from {ip}: the hub takes {per_ip} per address"
            return 429, "too_many_connections_per_ip", message
        self.take(ip)
        return None

    def take(self, ip: str) -> None:
        self.total += 1
        self.by_ip[ip] = self.by_ip.get(ip, 0) + 1

    def give_back(self, ip: str) -> None:
        self.total -= 1
        left = self.by_ip.get(ip, 0) - 1
        if left > 0:
            self.by_ip[ip] = left
        else:
            self.by_ip.pop(ip, None)


def _refuse(server: Server, request: Request, code: int, message: str) -> Response:
    server.hub.counters.errors["bad_request"] += 1
    log.info("remote=%s refused %s %s: %s", request.remote, request.method, request.path, message)
    return engineio_error(code, message, close=request.wants_websocket)


def _forbid(
    server: Server,
    request: Request,
    status: int,
    reason: str,
    message: str,
    detail: str | None = None,
) -> Response:
    """A refusal by policy (origin, limits): Engine.IO's code 4 and a stable reason;
    ``detail`` is for the log line (the peer gets ``message``)."""
    server.hub.counters.errors[reason] += 1
    server.refusals.info(
        reason,
        "remote=%s refused %s %s: %d %s: %s",
        request.remote,
        request.method,
        request.path[:200],
        status,
        reason,
        detail or message,
    )
    headers = (("Retry-After", RETRY_AFTER),) if status in (429, 503) else ()
    return engineio_error(
        FORBIDDEN[0],
        message,
        status=status,
        reason=reason,
        close=request.wants_websocket,
        headers=headers,
    )


def _origin_refusal(server: Server, request: Request) -> Response | None:
    if origin_allowed(server.hub.config, request):
        return None
    origin = request.headers.get("origin", "")[:200]
    detail = f"origin {origin!r} is not in allowed_origins"
    return _forbid(server, request, 403, "origin_not_allowed", FORBIDDEN[1], detail)


def _admit(server: Server, request: Request) -> Response | None:
    """Count a new session against the limits, or the refusal to send instead."""
    refused = server.gate.admit(server.hub.config, handshake_of(request).ip)
    return None if refused is None else _forbid(server, request, *refused)


def websocket_refusal(server: Server, request: Request) -> Response | None:
    """Why a WebSocket opening is refused (a 4xx/503 to send), or None if it may go on.

    None for a fresh opening (no ``sid``) means its session was counted in
    ``server.gate``: the listener gives the slot back when the connection ends.
    """
    config = server.hub.config
    if not is_engineio_path(request.path, config.path):
        message = f"Unknown path {request.path!r}; Engine.IO is served at {config.path!r}"
        return _refuse(server, request, BAD_REQUEST[0], message)
    refusal = engineio_refusal(request, config.path)
    if refusal is None and request.query.get("transport") != "websocket":
        refusal = BAD_REQUEST[0], "Bad request: a WebSocket opening must say transport=websocket"
    if refusal is None and "sid" in request.query:
        polling = server.polling.get(request.query["sid"])
        if polling is None:
            refusal = UNKNOWN_SID
        elif polling.upgrading:
            refusal = BAD_REQUEST[0], "Bad request: this session is already upgrading"
    if refusal is not None:
        return _refuse(server, request, *refusal)
    forbidden = _origin_refusal(server, request)
    if forbidden is not None or "sid" in request.query:
        return forbidden  # an upgrade keeps the slot of its polling session
    if server.closing:
        return error_response(503, "shutting_down", "the hub is shutting down", close=True)
    return _admit(server, request)


async def handle(server: Server, request: Request) -> Response:
    """A long-polling request: handshake, GET for packets, or POST of packets."""
    refusal = engineio_refusal(request, server.hub.config.path)
    if refusal is not None:
        return _refuse(server, request, *refusal)
    if request.query.get("transport") != "polling":
        return _refuse(server, request, BAD_REQUEST[0], "Bad request: expected a WebSocket upgrade")
    forbidden = _origin_refusal(server, request)
    if forbidden is not None:
        return forbidden
    sid = request.query.get("sid")
    if sid is None:
        if server.closing:
            return error_response(503, "shutting_down", "the hub is shutting down", close=True)
        forbidden = _admit(server, request)
        if forbidden is not None:
            return forbidden
        return _open(server, request)
    polling = server.polling.get(sid)
    if polling is None:
        return _refuse(server, request, *UNKNOWN_SID)
    try:
        if request.method == "GET":
            return text_response(await polling.poll())
        await polling.receive(request.body)
    except Overlap as overlap:
        return _refuse(server, request, BAD_REQUEST[0], f"Bad request: {overlap}")
    except ProtocolError as error:
        server.hub.counters.errors["protocol"] += 1
        log.info("conn=%s remote=%s parse error: %s", sid, request.remote, error)
        polling.close("parse error")
        return engineio_error(BAD_REQUEST[0], f"Bad request: {error}")
    return OK


def request_failed(server: Server, request: Request, kind: str) -> None:
    """A request that could not be read ends the polling session it was for: its
    packets are lost, and carrying on without them would be worse."""
    if is_engineio_path(request.path, server.hub.config.path) and "sid" in request.query:
        polling = server.polling.get(request.query["sid"])
        if polling is not None:
            polling.close(kind.replace("_", " "))


def _open(server: Server, request: Request) -> Response:
    """Open a polling session (already counted in ``server.gate``; ``forget_polling``
    gives the slot back)."""
    hub = server.hub
    hub.counters.handshakes += 1
    config = hub.config
    polling = PollingTransport(hub, handshake_of(request), server.forget_polling)
    polling.start(trio.current_time())
    server.open_polling(polling)
    opening = encode_open(
        polling.sid,
        ping_interval_ms=int(config.ping_interval * 1000),
        ping_timeout_ms=int(config.ping_timeout * 1000),
        max_payload=config.max_payload,
        upgrades=("websocket",),
    )
    return text_response(opening.encode())
