"""One TCP connection speaking HTTP/1.1 (parsed by h11) until it closes or turns WebSocket.

Requests are read one at a time with keep-alive. Limits: a head of at most
``MAX_HEAD_BYTES`` (431 past it), a body of at most ``max_payload`` (413), and each head
and body must arrive within ``handshake_timeout`` once begun; an idle keep-alive
connection is closed after ``keepalive_timeout``. Malformed HTTP gets a 4xx and a close.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import h11
import trio

from hub.core.config import HubConfig
from hub.server.http import MAX_HEAD_BYTES, Request, Response, error_response

log = logging.getLogger("hub")

RECEIVE_SIZE = 65536


class RequestError(Exception):
    """The request cannot be read; ``response`` says why to the peer (then close)."""

    def __init__(self, response: Response, kind: str, request: Request | None = None) -> None:
        super().__init__(kind)
        self.response = response
        self.kind = kind
        # The request, body left out, when its head was read.
        self.request = request


class HttpConnection:
    def __init__(self, stream: trio.SocketStream, config: HubConfig, remote: str) -> None:
        self.stream = stream
        self.config = config
        self.remote = remote
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
        self._requests = 0
        # Cancelled by a server shutdown while the connection waits for a request.
        self._idle = trio.CancelScope()
        self._stopping = False
        self._answering_head = False

    def stop_if_idle(self) -> None:
        """Take no more requests; end the wait for one now (server shutdown)."""
        self._stopping = True
        self._idle.cancel()

    async def next_request(self, max_body: int) -> Request | None:
        """The next request, body read; None when the peer is done or stayed idle."""
        config = self.config
        if self._h11.our_state is h11.DONE:
            self._h11.start_next_cycle()
        # The first request must come as promptly as any head; later ones may idle.
        wait = config.handshake_timeout if self._requests == 0 else config.keepalive_timeout
        if self._stopping:
            return None
        self._idle = idle = trio.CancelScope(deadline=trio.current_time() + wait)
        with idle:
            event = await self._next_event()
        self._idle = trio.CancelScope()  # a request is under way: not to be cut
        if idle.cancelled_caught:
            if self._requests == 0 and not self._stopping:
                raise RequestError(
                    error_response(408, "timeout", "no complete request head", close=True),
                    "bad_request_head",
                )
            return None
        if event is None:
            return None
        self._requests += 1
        assert isinstance(event, h11.Request)
        # h11 bounds only a head still incomplete; one that came whole is measured here.
        if len(event.target) + sum(len(n) + len(v) + 4 for n, v in event.headers) > MAX_HEAD_BYTES:
            response = error_response(431, "bad_request", "request head too large", close=True)
            raise RequestError(response, "bad_request_head")
        target = urlsplit(event.target.decode("latin-1"))
        query = {key: values[0] for key, values in parse_qs(target.query).items()}
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in event.headers}
        method = event.method.decode("latin-1")
        # A reply to HEAD says how long its body would be, and sends none (RFC 9110 9.3.2).
        self._answering_head = method == "HEAD"
        request = Request(method, target.path, query, headers, b"", self.remote)
        length = headers.get("content-length")
        try:
            if length is not None and length.isdigit() and int(length) > max_body:
                raise _too_large(max_body)
            body = await self._read_body(max_body)
        except RequestError as error:
            error.request = request
            raise
        return attrs.evolve(request, body=body) if body else request

    async def _next_event(self) -> Any:
        """The next h11 event; after the first bytes, the rest of a head is timed."""
        conn = self._h11
        deadline = float("inf")
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as error:
                status = error.error_status_hint if error.error_status_hint >= 400 else 400
                raise RequestError(
                    error_response(status, "bad_request", f"bad HTTP request: {error}", close=True),
                    "bad_request_head",
                ) from None
            if event is h11.NEED_DATA:
                with trio.move_on_at(deadline):
                    data = await self._receive()
                    if data and deadline == float("inf"):
                        deadline = trio.current_time() + self.config.handshake_timeout
                    conn.receive_data(data)
                    continue
                raise RequestError(
                    error_response(408, "timeout", "request too slow to arrive", close=True),
                    "bad_request_head",
                )
            if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return None
            return event

    async def _receive(self) -> bytes:
        try:
            return await self.stream.receive_some(RECEIVE_SIZE)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return b""

    async def _read_body(self, max_body: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        with trio.move_on_after(self.config.handshake_timeout) as timer:
            while True:
                event = await self._next_event()
                if event is None or isinstance(event, h11.EndOfMessage):
                    return b"".join(parts)
                if isinstance(event, h11.Data):
                    size += len(event.data)
                    if size > max_body:
                        raise _too_large(max_body)
                    parts.append(bytes(event.data))
        assert timer.cancelled_caught
        raise RequestError(
            error_response(408, "timeout", "request body too slow to arrive", close=True),
            "bad_request_head",
        )

    async def send(self, response: Response) -> bool:
        """Write ``response``; False when the connection must close after it."""
        conn = self._h11
        if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return False
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *response.headers,
        ]
        if response.close:
            headers.append(("Connection", "close"))
        data = conn.send(h11.Response(status_code=response.status, headers=headers))
        if response.body and not self._answering_head:
            data += conn.send(h11.Data(data=response.body))
        data += conn.send(h11.EndOfMessage())
        try:
            with trio.move_on_after(self.config.handshake_timeout) as timer:
                await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return False
        return not timer.cancelled_caught and conn.states[h11.SERVER] is h11.DONE

    def switch_protocol(self, headers: list[tuple[str, str]]) -> tuple[bytes, bytes]:
        """The 101 reply for an upgrade request, and the bytes the peer sent after it."""
        conn = self._h11
        # h11 holds back what follows an upgrade request until the switch is answered.
        accept = conn.send(h11.InformationalResponse(status_code=101, headers=headers))
        return accept, conn.trailing_data[0]


def _too_large(max_body: int) -> RequestError:
    message = f"request body over {max_body} bytes"
    return RequestError(error_response(413, "too_large", message, close=True), "payload_too_large")
