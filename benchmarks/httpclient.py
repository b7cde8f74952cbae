"""A minimal keep-alive HTTP/1.1 client: one request at a time on one TCP connection.

Like ``wire``, it is an ``asyncio.Protocol`` rather than a general HTTP library, because
the load generator's own per-request cost lands in every latency sample. It speaks only
what the benchmark needs: requests with a ``Content-Length`` body (or none) and replies
framed by ``Content-Length``; a chunked or unframed reply is a ``WireError``. Each reply
carries the ``time.monotonic_ns()`` at which its last byte was read.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import cast

from sioclient import ConnectionClosed, WireError

_MAX_HEAD = 16 * 1024
_MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    body: bytes
    received_ns: int  # monotonic ns when the reply was complete


class HttpConnection(asyncio.Protocol):
    """One keep-alive connection; ``request`` sends and returns a future for the reply.

    A request may only be sent once the previous reply has arrived (no pipelining), which
    is how browsers and ordinary clients use a keep-alive connection.
    """

    def __init__(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self.host_header = f"{host}:{port}".encode()
        self.closed: asyncio.Future[str] = loop.create_future()
        self.requests = 0
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._pending: asyncio.Future[HttpReply] | None = None
        # Parsed head of the reply being read: (status, headers, body length).
        self._head: tuple[int, dict[str, str], int] | None = None

    # -- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they have its methods.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        now_ns = time.monotonic_ns()
        self._buf += data
        try:
            self._parse(now_ns)
        except WireError as exc:
            self._fail(f"protocol error: {exc}")
            if self._transport is not None:
                self._transport.abort()

    def eof_received(self) -> bool | None:
        self._fail("connection closed by peer")
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(f"connection lost: {exc!r}" if exc else "connection closed by peer")

    # -- public API -------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return not self.closed.done()

    @property
    def busy(self) -> bool:
        return self._pending is not None

    def request(
        self,
        method: bytes,
        target: bytes,
        body: bytes = b"",
        headers: bytes = b"",
    ) -> asyncio.Future[HttpReply]:
        """Send one request; ``headers`` are extra ``Name: value\\r\\n`` lines, pre-encoded."""
        fut: asyncio.Future[HttpReply] = asyncio.get_running_loop().create_future()
        if not self.is_open or self._transport is None:
            fut.set_exception(ConnectionClosed(self.closed.result() if self.closed.done() else ""))
            return fut
        if self._pending is not None:
            fut.set_exception(WireError("a request is already under way on this connection"))
            return fut
        self._pending = fut
        self.requests += 1
        head = b"%s %s HTTP/1.1\r\nHost: %s\r\n%s" % (method, target, self.host_header, headers)
        if body or method == b"POST":
            head += b"Content-Length: %d\r\n" % len(body)
        self._transport.write(head + b"\r\n" + body)
        return fut

    def close(self) -> None:
        """Drop the TCP connection at once (teardown only)."""
        if self._transport is not None:
            self._transport.abort()
        self._fail("closed by the client")

    # -- incoming ---------------------------------------------------------------------

    def _parse(self, now_ns: int) -> None:
        buf = self._buf
        while buf:
            if self._head is None:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > _MAX_HEAD:
                        raise WireError("oversized reply head")
                    return
                self._head = _parse_head(bytes(buf[:end]))
                del buf[: end + 4]
            status, headers, length = self._head
            if len(buf) < length:
                return
            body = bytes(buf[:length])
            del buf[:length]
            self._head = None
            fut, self._pending = self._pending, None
            if fut is None:
                raise WireError(f"unsolicited reply {status}")
            if not fut.done():
                fut.set_result(HttpReply(status, headers, body, now_ns))
            if headers.get("connection", "").lower() == "close":
                self._fail("server closed the keep-alive connection")
                if self._transport is not None:
                    self._transport.close()
                return

    # -- teardown ---------------------------------------------------------------------

    def _fail(self, reason: str) -> None:
        if self.closed.done():
            return
        self.closed.set_result(reason)
        fut, self._pending = self._pending, None
        if fut is not None and not fut.done():
            fut.set_exception(ConnectionClosed(reason))
            fut.exception()  # mark retrieved: whoever awaits it still gets it


def _parse_head(head: bytes) -> tuple[int, dict[str, str], int]:
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/1.") or not status_line[1]:
        raise WireError(f"bad status line {lines[0][:100]!r}")
    try:
        status = int(status_line[1])
    except ValueError:
        raise WireError(f"bad status line {lines[0][:100]!r}") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise WireError("chunked replies are not supported by this client")
    if status in (204, 304) or 100 <= status < 200:
        return status, headers, 0
    length_text = headers.get("content-length")
    if length_text is None or not length_text.isdigit():
        raise WireError(f"reply {status} without a Content-Length")
    length = int(length_text)
    if length > _MAX_BODY:
        raise WireError(f"reply body of {length} bytes")
    return status, headers, length


async def open_connection(host: str, port: int) -> HttpConnection:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(lambda: HttpConnection(host, port), host, port)
    return protocol
