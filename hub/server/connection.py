"""One TCP connection speaking HTTP/1.1 until it closes or turns WebSocket.

Requests are parsed by httptools (llhttp, the C parser behind Node's HTTP server) as the
bytes come, pipelined ones queued in order, and answered one at a time with keep-alive.
Limits: a head of at most ``MAX_HEAD_BYTES`` (431), a body of at most ``max_payload``
(413); once a request has begun, its head and body must arrive within
``handshake_timeout`` (408), and so must a new connection's first request; an idle
keep-alive connection is closed after ``keepalive_timeout``. Malformed HTTP gets a 4xx and
a close.

Cost matters here (the HTTP API and long-polling are hot paths): a request costs one
cancel scope at most, none when it was already buffered, and a reply is written with one
non-blocking send when the kernel takes it whole.
"""

from __future__ import annotations

import os
from collections import deque
from http import HTTPStatus
from urllib.parse import parse_qs

import attrs
import httptools
import trio

from hub.core.config import HubConfig
from hub.server.http import MAX_HEAD_BYTES, Request, Response, error_response

RECEIVE_SIZE = 65536
# Bytes of a head still incomplete after a read; past this the head is too large whatever
# httptools has buffered of it (the exact 431 check counts the parsed parts).
MAX_RAW_HEAD = MAX_HEAD_BYTES + RECEIVE_SIZE


class RequestError(Exception):
    """The request cannot be read; ``response`` says why to the peer (then close)."""

    def __init__(self, response: Response, kind: str, request: Request | None = None) -> None:
        super().__init__(kind)
        self.response = response
        self.kind = kind
        # The request, body left out, when its head was read.
        self.request = request


def _too_large(max_body: int, request: Request) -> RequestError:
    message = f"request body over {max_body} bytes"
    response = error_response(413, "too_large", message, close=True)
    return RequestError(response, "payload_too_large", request)


def _bad(status: int, message: str) -> RequestError:
    return RequestError(
        error_response(status, "bad_request", message, close=True), "bad_request_head"
    )


class HttpConnection:
    def __init__(self, stream: trio.SocketStream, config: HubConfig, remote: str) -> None:
        self.stream = stream
        self.config = config
        self.remote = remote
        self._fd = stream.socket.fileno()
        self._max_body = config.max_payload
        self._parser = httptools.HttpRequestParser(self)
        # Complete requests not yet answered, with whether each allows keep-alive.
        self._ready: deque[tuple[Request, bool]] = deque()
        self._requests = 0
        self._eof = False
        # The bytes after an upgrade request (the WebSocket's first frames); None before.
        self._trailing: bytes | None = None
        self._keep_alive = True
        self._answering_head = False
        # Cancelled by a server shutdown while the connection waits for a request.
        self._idle = trio.CancelScope()
        self._stopping = False
        # The request being parsed.
        self._in_message = False
        self._url = b""
        self._headers: dict[str, str] = {}
        self._head_size = 0
        self._raw_head = 0
        self._body: list[bytes] = []
        self._body_size = 0
        self._head: Request | None = None

    def stop_if_idle(self) -> None:
        """Take no more requests; end the wait for one now if none has begun (shutdown)."""
        self._stopping = True
        if not self._in_message:
            self._idle.cancel()

    async def next_request(self) -> Request | None:
        """The next request, body read; None when the peer is done or stayed idle."""
        if self._ready:
            await trio.lowlevel.checkpoint()  # pipelined requests must not starve others
        else:
            if self._stopping or self._eof or self._trailing is not None:
                return None
            await self._read_request()
            if not self._ready:
                return None
        request, self._keep_alive = self._ready.popleft()
        self._answering_head = request.method == "HEAD"
        return request

    async def _read_request(self) -> None:
        config = self.config
        first = self._requests == 0
        wait = config.handshake_timeout if first else config.keepalive_timeout
        self._idle = scope = trio.CancelScope(deadline=trio.current_time() + wait)
        with scope:
            while not self._ready and not self._eof and self._trailing is None:
                began = self._in_message
                try:
                    data = await self.stream.receive_some(RECEIVE_SIZE)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    data = b""
                self._feed(data)
                if not began and self._in_message and not first:
                    # Idle no more: the rest of this request must come promptly.
                    scope.deadline = trio.current_time() + config.handshake_timeout
        self._idle = trio.CancelScope()
        late = self._in_message or (first and not self._stopping)
        if scope.cancelled_caught and not self._ready and late:
            response = error_response(408, "timeout", "request too slow to arrive", close=True)
            raise RequestError(response, "bad_request_head")

    def _feed(self, data: bytes) -> None:
        if not data:
            self._eof = True
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self._trailing = data[upgrade.args[0] :]
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, RequestError):
                raise error.__context__ from None
            raise
        except httptools.HttpParserError as error:
            raise _bad(400, f"bad HTTP request: {error}") from None
        if self._in_message and self._head is None:
            self._raw_head += len(data)
            if self._raw_head > MAX_RAW_HEAD:
                raise _bad(431, "request head too large")

    # httptools callbacks, in the order of a request

    def on_message_begin(self) -> None:
        self._in_message = True
        self._url = b""
        self._headers = {}
        self._head_size = self._raw_head = self._body_size = 0
        self._body = []
        self._head = None

    def on_url(self, url: bytes) -> None:
        self._url += url  # may come in pieces
        self._grow_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        self._grow_head(len(name) + len(value) + 4)

    def _grow_head(self, size: int) -> None:
        self._head_size += size
        if self._head_size > MAX_HEAD_BYTES:
            raise _bad(431, "request head too large")

    def on_headers_complete(self) -> None:
        path, _, query = self._url.decode("latin-1").partition("?")
        parsed = {key: values[0] for key, values in parse_qs(query).items()} if query else {}
        method = self._parser.get_method().decode("latin-1")
        self._head = head = Request(method, path, parsed, self._headers, b"", self.remote)
        length = self._headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self._max_body:
            raise _too_large(self._max_body, head)

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > self._max_body:
            assert self._head is not None
            raise _too_large(self._max_body, self._head)
        self._body.append(body)

    def on_message_complete(self) -> None:
        head = self._head
        assert head is not None
        if self._body:
            head = attrs.evolve(head, body=b"".join(self._body))
        self._ready.append((head, self._parser.should_keep_alive()))
        self._requests += 1
        self._in_message = False
        self._body = []

    # Replies

    async def send(self, response: Response) -> bool:
        """Write ``response``; False when the connection must close after it."""
        close = response.close or not self._keep_alive
        head = [
            f"HTTP/1.1 {response.status} {_reason(response.status)}\r\n"
            f"Content-Type: {response.content_type}\r\n"
            f"Content-Length: {len(response.body)}\r\n"
        ]
        head += [f"{name}: {value}\r\n" for name, value in response.headers]
        if close:
            head.append("Connection: close\r\n")
        head.append("\r\n")
        data = "".join(head).encode("latin-1")
        if response.body and not self._answering_head:
            data += response.body
        if not await self._write(data):
            return False
        return not close

    def switch_protocol(self, headers: list[tuple[str, str]]) -> tuple[bytes, bytes]:
        """The 101 reply for an upgrade request, and the bytes the peer sent after it."""
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
        accept = f"HTTP/1.1 101 Switching Protocols\r\n{lines}\r\n".encode("latin-1")
        return accept, self._trailing or b""

    async def _write(self, data: bytes) -> bool:
        # Most replies fit the socket buffer: one non-blocking write, no task switch.
        try:
            sent = os.write(self._fd, data)
        except BlockingIOError:
            sent = 0
        except OSError:
            return False
        if sent == len(data):
            return True
        try:
            with trio.move_on_after(self.config.handshake_timeout) as timer:
                await self.stream.send_all(data[sent:])
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return False
        return not timer.cancelled_caught


_REASONS = {status.value: status.phrase for status in HTTPStatus}


def _reason(status: int) -> str:
    return _REASONS.get(status, "")
