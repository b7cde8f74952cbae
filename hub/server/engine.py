"""Engine.IO requests over plain HTTP: the polling handshake, long-poll GETs and POSTs.

WebSocket openings (fresh, or the upgrade of a polling session) are checked here too and
then run by the listener, which owns the socket.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio

from hub.errors import ProtocolError
from hub.protocol.engineio import encode_open
from hub.server.http import (
    BAD_REQUEST,
    UNKNOWN_SID,
    Request,
    Response,
    engineio_error,
    engineio_refusal,
    error_response,
    handshake_of,
    is_engineio_path,
    text_response,
)
from hub.transport.polling import Overlap, PollingTransport

if TYPE_CHECKING:
    from hub.server.listener import Server

log = logging.getLogger("hub")

OK = text_response(b"ok", "text/html")


def _refuse(server: Server, request: Request, code: int, message: str) -> Response:
    server.hub.counters.errors["bad_request"] += 1
    log.info("remote=%s refused %s %s: %s", request.remote, request.method, request.path, message)
    return engineio_error(code, message, close=request.wants_websocket)


def websocket_refusal(server: Server, request: Request) -> Response | None:
    """Why a WebSocket opening is refused (a 400 to send), or None if it may go on."""
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
    return None if refusal is None else _refuse(server, request, *refusal)


async def handle(server: Server, request: Request) -> Response:
    """A long-polling request: handshake, GET for packets, or POST of packets."""
    refusal = engineio_refusal(request, server.hub.config.path)
    if refusal is not None:
        return _refuse(server, request, *refusal)
    if request.query.get("transport") != "polling":
        return _refuse(server, request, BAD_REQUEST[0], "Bad request: expected a WebSocket upgrade")
    sid = request.query.get("sid")
    if sid is None:
        if server.closing:
            return error_response(503, "shutting_down", "the hub is shutting down", close=True)
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
