"""Request heads, sans-IO: parse with h11, decide where a request goes, build replies."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import attrs
import h11
import orjson
from wsproto.utilities import generate_accept_token

from hub.errors import ProtocolError

MAX_HEAD_BYTES = 16 * 1024


@attrs.frozen
class RequestHead:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


def head_end(buffer: bytes) -> int:
    """Where the request head in ``buffer`` ends, or -1 while it is incomplete."""
    end = buffer.find(b"\r\n\r\n")
    return end if end == -1 else end + 4


def parse_head(raw: bytes) -> RequestHead:
    """The request line and headers of ``raw``; ``ProtocolError`` if it is not HTTP/1.1."""
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
    try:
        conn.receive_data(raw)
        event = conn.next_event()
    except h11.RemoteProtocolError as exc:
        raise ProtocolError(f"bad HTTP request: {exc}") from None
    if not isinstance(event, h11.Request):
        raise ProtocolError("incomplete HTTP request head")
    target = urlsplit(event.target.decode("latin-1"))
    query = {key: values[0] for key, values in parse_qs(target.query).items()}
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in event.headers}
    return RequestHead(event.method.decode("latin-1"), target.path, query, headers)


# Engine.IO's error codes and messages, as its reference server sends them.
UNKNOWN_TRANSPORT = (0, "Transport unknown")
UNKNOWN_SID = (1, "Session ID unknown")
BAD_REQUEST = (3, "Bad request")
UNSUPPORTED_PROTOCOL_VERSION = (5, "Unsupported protocol version")


def websocket_refusal(head: RequestHead, path: str) -> tuple[int, str] | None:
    """Why this request may not open an Engine.IO WebSocket, or None if it may."""
    if head.path.rstrip("/") != path.rstrip("/"):
        return BAD_REQUEST[0], f"Unknown path {head.path!r}; Engine.IO is served at {path!r}"
    if head.query.get("EIO") != "4":
        return UNSUPPORTED_PROTOCOL_VERSION
    transport = head.query.get("transport")
    if transport != "websocket":
        return UNKNOWN_TRANSPORT
    if "sid" in head.query:
        return UNKNOWN_SID
    if head.method != "GET" or head.headers.get("upgrade", "").lower() != "websocket":
        return BAD_REQUEST[0], "Bad request: expected a WebSocket upgrade"
    if head.headers.get("sec-websocket-version") != "13" or not head.headers.get(
        "sec-websocket-key"
    ):
        return BAD_REQUEST[0], "Bad request: WebSocket version 13 with a key is required"
    return None


def websocket_accept(head: RequestHead) -> bytes:
    """The 101 response that completes the WebSocket opening handshake (RFC 6455 4.2.2)."""
    key = head.headers["sec-websocket-key"].encode("latin-1")
    headers = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", generate_accept_token(key).decode()),
    ]
    answerer = _answerer(b"Connection: Upgrade\r\nUpgrade: websocket\r\n")
    return answerer.send(h11.InformationalResponse(status_code=101, headers=headers))


def error_response(status: int, body: dict[str, object]) -> bytes:
    """A complete ``Connection: close`` response with a JSON body."""
    payload = orjson.dumps(body)
    conn = _answerer()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(payload))),
        ("Connection", "close"),
    ]
    return (
        conn.send(h11.Response(status_code=status, headers=headers))
        + conn.send(h11.Data(data=payload))
        + conn.send(h11.EndOfMessage())
    )


def _answerer(extra_headers: bytes = b"") -> h11.Connection:
    """An h11 server connection ready to serialize one response."""
    conn = h11.Connection(h11.SERVER)
    # h11 answers only after it has seen a request; feed it a minimal one.
    conn.receive_data(b"GET / HTTP/1.1\r\nHost: hub\r\n" + extra_headers + b"\r\n")
    conn.next_event()
    return conn
