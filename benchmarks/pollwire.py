"""A minimal Socket.IO v5 client on Engine.IO v4 HTTP long-polling, never upgrading.

It offers what ``wire.SioConnection`` offers the load (``ready``, ``closed``, ``emit``,
``close``, ``pings``, ``unexpected``), so the fan-out load can hold its subscribers on
long-polling instead of WebSocket. Like a browser it keeps two keep-alive connections per
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
import itertools
from typing import Any

import httpclient
import orjson
from wire import ConnectionClosed, EventHandler, WireError, parse_sio

ENGINE_IO_PATH = b"/socket.io/?EIO=4&transport=polling"
RECORD_SEPARATOR = b"\x1e"
_POST_HEADERS = b"Content-Type: text/plain;charset=UTF-8\r\n"
# Bounds: a run is seconds long, so these are never reached by a healthy client.
_MAX_POLLS = 10_000_000
_MAX_POST_RECONNECTS = 100
# Engine.IO packet types, and Socket.IO's, as ints (first byte of a packet).
_EIO_OPEN, _EIO_CLOSE, _EIO_PING, _EIO_MESSAGE, _EIO_NOOP = b"01246"
_SIO_CONNECT, _SIO_DISCONNECT, _SIO_EVENT, _SIO_ACK, _SIO_CONNECT_ERROR = b"01234"


class PollingConnection:
    """One Socket.IO client on the default namespace over long-polling."""

    def __init__(
        self, host: str, port: int, on_event: EventHandler | None = None, timeout: float = 10.0
    ) -> None:
        loop = asyncio.get_running_loop()
        self.host = host
        self.port = port
        self.on_event = on_event
        self.timeout = timeout  # for the handshake and each POST
        self.ready: asyncio.Future[str] = loop.create_future()
        self.closed: asyncio.Future[str] = loop.create_future()
        self.pings = 0
        self.unexpected = 0
        self.polls = 0
        self.posts = 0
        self.eio_sid = ""
        self._loop = loop
        self._target = b""
        self._poll_timeout = 60.0  # replaced by pingInterval + pingTimeout + 5 s
        self._get: httpclient.HttpConnection | None = None
        self._post: httpclient.HttpConnection | None = None
        self._post_reconnects = 0
        self._posting = False
        self._outbox: list[bytes] = []
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._ack_ids = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._reconnect: asyncio.Task[None] | None = None

    # -- public API (the same as wire.SioConnection's) --------------------------------

    @property
    def is_open(self) -> bool:
        return not self.closed.done()

    def emit(self, event: str, *args: Any) -> asyncio.Future[Any]:
        """Send an EVENT asking for an ack; the future gets the ack's argument list."""
        fut: asyncio.Future[Any] = self._loop.create_future()
        if not self.is_open:
            fut.set_exception(ConnectionClosed(self.closed.result()))
            return fut
        ack_id = next(self._ack_ids)
        self._acks[ack_id] = fut
        self._queue(b"42%d" % ack_id + orjson.dumps([event, *args]))
        return fut

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
        if not opening or opening[0] != _EIO_OPEN:
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
        self._queue(b"40")
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
        if fut.cancelled() or not self.is_open:
            return
        exc = fut.exception()
        if exc is not None:
            self._fail(f"GET failed: {type(exc).__name__}: {exc}")
            return
        reply = fut.result()
        if reply.status != 200:
            self._fail(f"GET answered {reply.status}: {reply.body[:120]!r}")
            return
        now_ns = reply.received_ns
        try:
            for packet in reply.body.split(RECORD_SEPARATOR):
                self._on_packet(packet, now_ns)
        except (WireError, ValueError) as exc:
            self._fail(f"protocol error: {exc}")
            return
        self._poll()

    def _on_packet(self, packet: bytes, now_ns: int) -> None:
        if not packet:
            raise WireError("empty engine.io packet")
        kind = packet[0]
        if kind == _EIO_MESSAGE:
            # Hot path: a server EVENT for the default namespace without an ack id.
            if packet[1:3] == b"2[" and self.on_event is not None:
                self.on_event(packet[2:], now_ns)
            else:
                self._on_sio(packet[1:])
        elif kind == _EIO_PING:
            self.pings += 1
            self._queue(b"3" + packet[1:])
        elif kind == _EIO_CLOSE:
            self._fail("engine.io close packet")
        elif kind == _EIO_OPEN:
            self.unexpected += 1
        elif kind != _EIO_NOOP:
            raise WireError(f"unexpected engine.io packet {packet[:200]!r}")

    def _on_sio(self, body: bytes) -> None:
        kind, namespace, ack_id, data = parse_sio(body)
        if namespace != "/":
            self.unexpected += 1
        elif kind == _SIO_ACK and ack_id is not None:
            fut = self._acks.pop(ack_id, None)
            if fut is None:
                self.unexpected += 1
            elif not fut.done():
                fut.set_result(data)
        elif kind == _SIO_CONNECT:
            if not isinstance(data, dict) or "sid" not in data:
                raise WireError(f"bad connect packet {body[:200]!r}")
            if not self.ready.done():
                self.ready.set_result(str(data["sid"]))
        elif kind == _SIO_CONNECT_ERROR:
            self._fail(f"namespace connect refused: {data!r}")
        elif kind == _SIO_DISCONNECT:
            self._fail("socket.io disconnect packet")
        else:
            self.unexpected += 1

    # -- POSTs ------------------------------------------------------------------------

    def _queue(self, packet: bytes) -> None:
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
        if fut.cancelled() or not self.is_open:
            return
        exc = fut.exception()
        if exc is not None:
            self._fail(f"POST failed: {type(exc).__name__}: {exc}")
            return
        reply = fut.result()
        # "ok" from the hub and the reference server, "OK" from python-engineio.
        if reply.status != 200 or reply.body.lower() != b"ok":
            self._fail(f"POST answered {reply.status}: {reply.body[:120]!r}")
            return
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

    # -- teardown ---------------------------------------------------------------------

    def _timed_out(self, what: str) -> None:
        self._fail(f"{what} unanswered for too long")

    def _get_closed(self, fut: asyncio.Future[str]) -> None:
        self._fail(f"GET connection: {fut.result()}")

    def _fail(self, reason: str) -> None:
        """Record why the session ended, fail everything waiting on it, drop the sockets."""
        if self.closed.done():
            return
        self.closed.set_result(reason)
        error = ConnectionClosed(reason)
        if not self.ready.done():
            self.ready.set_exception(error)
            self.ready.exception()  # mark retrieved: a refused connect is reported, not raised
        for fut in self._acks.values():
            if not fut.done():
                fut.set_exception(error)
                fut.exception()
        self._acks.clear()
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
