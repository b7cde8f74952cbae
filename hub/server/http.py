"""HTTP requests and replies as plain values, sans-IO: what every route takes and returns.

The connection (``hub.server.connection``) parses with httptools and turns each request into a
``Request``; routes answer with a ``Response``; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs
import orjson
from wsproto.utilities import generate_accept_token

from hub.core.config import HubConfig
from hub.core.handshake import Handshake

# Request line plus headers; a longer head gets 431.
MAX_HEAD_BYTES = 16 * 1024


@attrs.frozen
class Request:
    method: str
    path: str
    query: dict[str, str]
    # Lower-case names; a repeated header keeps its last value.
    headers: dict[str, str]
    body: bytes = b""
    remote: str = "?"

    @property
    def wants_websocket(self) -> bool:
        return self.headers.get("upgrade", "").lower() == "websocket"


@attrs.frozen
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    # Close the connection after this reply (its request was not read to the end, or
    # the peer misbehaved).
    close: bool = False

    def with_headers(self, extra: list[tuple[str, str]]) -> Response:
        return attrs.evolve(self, headers=self.headers + tuple(extra)) if extra else self


def handshake_of(request: Request) -> Handshake:
    return Handshake.of(request.remote, request.headers, request.query)


def json_response(status: int, body: Any, *, close: bool = False) -> Response:
    return Response(status, orjson.dumps(body), close=close)


def error_response(status: int, error: str, message: str, *, close: bool = False) -> Response:
    """A 4xx/5xx whose JSON body names the kind of error and says what is wrong."""
    return json_response(status, {"error": error, "message": message}, close=close)


def engineio_error(
    code: int,
    message: str,
    *,
    close: bool = False,
    status: int = 400,
    reason: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    """Engine.IO's own error body, as its reference server sends it (a 400 unless told);
    ``reason`` adds a stable machine-readable name for the refusal."""
    body: dict[str, Any] = {"code": code, "message": message}
    if reason is not None:
        body["reason"] = reason
    response = json_response(status, body, close=close)
    return response.with_headers(list(headers))


def text_response(body: bytes, content_type: str = "text/plain; charset=UTF-8") -> Response:
    return Response(200, body, content_type)


# Engine.IO's error codes and messages, as its reference server sends them.
UNKNOWN_TRANSPORT = (0, "Transport unknown")
UNKNOWN_SID = (1, "Session ID unknown")
BAD_HANDSHAKE_METHOD = (2, "Bad handshake method")
BAD_REQUEST = (3, "Bad request")
FORBIDDEN = (4, "Forbidden")
UNSUPPORTED_PROTOCOL_VERSION = (5, "Unsupported protocol version")


def engineio_refusal(request: Request, path: str) -> tuple[int, str] | None:
    """Why ``request`` to the Engine.IO path is refused, or None if it may go on."""
    if request.query.get("EIO") != "4":
        return UNSUPPORTED_PROTOCOL_VERSION
    transport = request.query.get("transport")
    if transport not in ("polling", "websocket"):
        return UNKNOWN_TRANSPORT
    if transport == "websocket":
        upgrading = "upgrade" in request.headers.get("connection", "").lower()
        if not request.wants_websocket or not upgrading or request.method != "GET":
            return BAD_REQUEST[0], "Bad request: expected a WebSocket upgrade"
        if request.headers.get("sec-websocket-version") != "13" or not request.headers.get(
            "sec-websocket-key"
        ):
            return BAD_REQUEST[0], "Bad request: WebSocket version 13 with a key is required"
    elif request.method not in ("GET", "POST"):
        return BAD_HANDSHAKE_METHOD if "sid" not in request.query else BAD_REQUEST
    elif request.method == "POST" and "sid" not in request.query:
        return BAD_HANDSHAKE_METHOD
    return None


T = TypeVar("T")


class PerConfig(Generic[T]):
    """A value derived from the settings, made once per ``HubConfig`` object (by identity,
    so a request costs a dict lookup, and ``hub.reconfigure`` makes it anew)."""

    def __init__(self, derive: Callable[[HubConfig], T], size: int = 8) -> None:
        self._derive = derive
        self._size = size
        # id -> (the config, kept alive so its id is not reused, and its value).
        self._made: dict[int, tuple[HubConfig, T]] = {}

    def __call__(self, config: HubConfig) -> T:
        found = self._made.get(id(config))
        if found is not None and found[0] is config:
            return found[1]
        value = self._derive(config)
        if len(self._made) >= self._size:
            del self._made[next(iter(self._made))]
        self._made[id(config)] = (config, value)
        return value


def _normal_origin(origin: str) -> str:
    return origin.strip().lower().rstrip("/")


def _origin_list(config: HubConfig) -> frozenset[str] | None:
    """The allowed origins, normalized; None when any is (empty list, or "*")."""
    allowed = frozenset(_normal_origin(origin) for origin in config.allowed_origins)
    return None if not allowed or "*" in allowed else allowed


_allowed_origins = PerConfig(_origin_list)


def origin_allowed(config: HubConfig, request: Request) -> bool:
    """Whether ``request`` may use Engine.IO by its ``Origin`` (``allowed_origins``).

    A request without one (not from a browser page) is allowed: browsers always send it.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    allowed = _allowed_origins(config)
    return allowed is None or _normal_origin(origin) in allowed


def is_engineio_path(request_path: str, path: str) -> bool:
    return request_path.rstrip("/") == path.rstrip("/")


def websocket_accept_headers(request: Request) -> list[tuple[str, str]]:
    """The 101 reply's headers that complete the WebSocket opening (RFC 6455 4.2.2)."""
    key = request.headers["sec-websocket-key"].encode("latin-1")
    return [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", generate_accept_token(key).decode()),
    ]


def cors_headers(config: HubConfig, request: Request) -> list[tuple[str, str]]:
    """CORS headers for a reply to ``request``: none unless its origin is allowed."""
    origin = request.headers.get("origin")
    allowed = config.cors_origins
    if origin is None or not allowed or (origin not in allowed and "*" not in allowed):
        return []
    headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
    if config.cors_credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    return headers


def preflight(config: HubConfig, request: Request) -> Response:
    """The reply to a CORS preflight (``OPTIONS`` with ``Access-Control-Request-Method``).

    The origin's own headers are added to it, as to every reply, by the connection.
    """
    if not cors_headers(config, request):
        return error_response(403, "cors", "origin not allowed")
    headers = [("Access-Control-Allow-Methods", "GET, POST, OPTIONS")]
    asked = request.headers.get("access-control-request-headers")
    if asked:
        headers.append(("Access-Control-Allow-Headers", asked))
    headers.append(("Access-Control-Max-Age", "86400"))
    return Response(204, b"", "text/plain", tuple(headers))
