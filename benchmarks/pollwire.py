"""A minimal Socket.IO v5 client on Engine.IO v4 HTTP long-polling, never upgrading.

Like ``wire.SioConnection`` it is a ``sioclient.SioClient``, which does what is done
with the packets, so the fan-out load can hold its subscribers on long-polling instead
of WebSocket; this module is the polling. Like a browser it keeps two keep-alive connections per
client: one for the long-poll GETs, one for the POSTs that carry its own packets. Driven
by callbacks, not a task per client: the generator's per-reply cost is in every sample.

The exchange::

    GET  /socket.io/?EIO=4&transport=polling          -> 0{"sid": X, "pingInterval": ...}
    POST /socket.io/?EIO=4&transport=polling&sid=X    40  (connect "/")      -> ok
    GET  ...&sid=X   (long poll, repeated)            -> packets joined by \\x1e
    POST ...&sid=X                                    3   (answer to each ping 2)
"""

from __future__ import annotations

import asyncio

import httpclient
import orjson
from sioclient import EIO_OPEN, EventHandler, SioClient, WireError

ENGINE_IO_PATH = b"/socket.io/?EIO=4&transport=polling"
RECORD_SEPARATOR = b"\x1e"
_POST_HEADERS = b"Content-Type: text/plain;charset=UTF-8\r\n"
# Bounds: a run is seconds long, so these are never reached by a healthy client.
_MAX_POLLS = 10_000_000
_MAX_POST_RECONNECTS = 100


class PollingConnection(SioClient):
    """One Socket.IO client on the default namespace over long-polling."""

    def __init__(
        self, host: str, port: int, on_event: EventHandler | None = None, timeout: float = 10.0
    ) -> None:
        super().__init__(host, port, on_event)
        self.timeout = timeout  # for the handshake and each POST
        self.polls = 0
        self.posts = 0
        self.eio_sid = ""
        self._target = b""
        self._poll_timeout = 60.0  # replaced by pingInterval + pingTimeout + 5 s
        self._get: httpclient.HttpConnection | None = None
        self._post: httpclient.HttpConnection | None = None
        self._post_reconnects = 0
        self._posting = False
        self._outbox: list[bytes] = []
        self._timer: asyncio.TimerHandle | None = None
        self._reconnect: asyncio.Task[None] | None = None

    # -- public API (the rest is SioClient's) -----------------------------------------

    def close(self) -> None:
        """Drop both HTTP connections without an Engine.IO close (teardown only)."""
        self._fail("closed by the client")

    # -- opening ----------------------------------------------------------------------

    async def open(self) -> None:
        """Handshake on the GET connection, then connect "/" and start long-polling."""
        self._get = await httpclient.open_connection(self.host, self.port)
        self._get.closed.add_done_callback(self._get_closed)
        reply = await asyncio.wait_for(self._get.request(b"GET", ENGINE_IO_PATH), self.timeout)
        if reply.status != 200:
            raise WireError(f"handshake answered {reply.status}: {reply.body[:200]!r}")
        packets = reply.body.split(RECORD_SEPARATOR)
        opening = packets[0]
        if not opening or opening[0] != EIO_OPEN:
            raise WireError(f"bad handshake reply {reply.body[:200]!r}")
        handshake = orjson.loads(opening[1:])
        if not isinstance(handshake, dict) or not isinstance(handshake.get("sid"), str):
            raise WireError(f"bad open packet {opening[:200]!r}")
        self.eio_sid = handshake["sid"]
        self._target = ENGINE_IO_PATH + b"&sid=" + self.eio_sid.encode()
        interval, timeout = handshake.get("pingInterval"), handshake.get("pingTimeout")
        if isinstance(interval, int) and isinstance(timeout, int):
            self._poll_timeout = (interval + timeout) / 1000 + 5.0
        self._post = await httpclient.open_connection(self.host, self.port)
        self._send_packet(b"40")
        for packet in packets[1:]:
            self._on_packet(packet, reply.received_ns)
        self._poll()

    # -- long-poll GETs ---------------------------------------------------------------

    def _poll(self) -> None:
        get = self._get
        if not self.is_open or get is None:
            return
        if self.polls >= _MAX_POLLS:
            self._fail(f"{_MAX_POLLS} polls: the bound on one run")
            return
        self.polls += 1
        fut = get.request(b"GET", self._target)
        self._timer = self._loop.call_later(self._poll_timeout, self._timed_out, "GET")
        fut.add_done_callback(self._polled)

    def _polled(self, fut: asyncio.Future[httpclient.HttpReply]) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        reply = self._reply(fut, "GET")
        if reply is None:
            return
        now_ns = reply.received_ns
        try:
            for packet in reply.body.split(RECORD_SEPARATOR):
                self._on_packet(packet, now_ns)
        except (WireError, ValueError) as exc:
            self._fail(f"protocol error: {exc}")
            return
        self._poll()

    def _on_open(self, packet: bytes) -> None:
        self.unexpected += 1  # only the handshake GET carries one

    # -- POSTs ------------------------------------------------------------------------

    def _send_packet(self, packet: bytes) -> None:
        self._outbox.append(packet)
        if not self._posting:
            self._flush()

    def _flush(self) -> None:
        """POST everything queued as one payload; at most one POST at a time."""
        post = self._post
        if not self._outbox or not self.is_open or post is None or self._posting:
            return
        if not post.is_open:  # the server closed the idle keep-alive connection
            if self._reconnect is None:
                self._reconnect = self._loop.create_task(self._reopen_post())
            return
        body = RECORD_SEPARATOR.join(self._outbox)
        self._outbox.clear()
        self._posting = True
        self.posts += 1
        fut = post.request(b"POST", self._target, body, _POST_HEADERS)
        timer = self._loop.call_later(self.timeout, self._timed_out, "POST")
        fut.add_done_callback(lambda f: self._posted(f, timer))

    def _posted(
        self, fut: asyncio.Future[httpclient.HttpReply], timer: asyncio.TimerHandle
    ) -> None:
        timer.cancel()
        self._posting = False
        if self._reply(fut, "POST", body=b"ok") is not None:
            self._flush()

    async def _reopen_post(self) -> None:
        try:
            self._post_reconnects += 1
            if self._post_reconnects > _MAX_POST_RECONNECTS:
                self._fail(f"POST connection reopened {_MAX_POST_RECONNECTS} times")
                return
            self._post = await asyncio.wait_for(
                httpclient.open_connection(self.host, self.port), self.timeout
            )
        except (OSError, TimeoutError) as exc:
            self._fail(f"POST connection: {type(exc).__name__}: {exc}")
            return
        finally:
            self._reconnect = None
        self._flush()

    # -- both -------------------------------------------------------------------------

    def _reply(
        self, fut: asyncio.Future[httpclient.HttpReply], what: str, body: bytes | None = None
    ) -> httpclient.HttpReply | None:
        """The answer to a GET or POST if it is a 200 (with ``body``, in any case), else None.

        None also once the session has ended; a failed request or a wrong answer ends it.
        """
        if fut.cancelled() or not self.is_open:
            return None
        exc = fut.exception()
        if exc is not None:
            self._fail(f"{what} failed: {type(exc).__name__}: {exc}")
            return None
        reply = fut.result()
        # A POST is answered "ok" by the hub and the reference server, "OK" by python-engineio.
        if reply.status != 200 or (body is not None and reply.body.lower() != body):
            self._fail(f"{what} answered {reply.status}: {reply.body[:120]!r}")
            return None
        return reply

    # -- teardown ---------------------------------------------------------------------

    def _timed_out(self, what: str) -> None:
        self._fail(f"{what} unanswered for too long")

    def _get_closed(self, fut: asyncio.Future[str]) -> None:
        self._fail(f"GET connection: {fut.result()}")

    def _drop(self, reason: str) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._reconnect is not None:
            self._reconnect.cancel()
        for http in (self._get, self._post):
            if http is not None:
                http.close()


async def connect(
    host: str, port: int, on_event: EventHandler | None = None, timeout: float = 10.0
) -> PollingConnection:
    """Open a polling session and wait until the default namespace is connected."""
    conn = PollingConnection(host, port, on_event, timeout)
    try:
        await conn.open()
        await conn.ready
    except BaseException:
        conn.close()
        raise
    return conn
