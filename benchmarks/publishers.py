"""The two ways the load publishes: a Socket.IO ``publish`` event, or an HTTP POST.

Both take one publish at a time and return a future for the server's raw reply;
``parse_reply`` turns that into the reply object (``{"recipients": n, ...}``) or raises
``PublishRefused``. The load's flow control decides how many are in flight.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Protocol

import httpclient
import orjson
import wire
from sioclient import ConnectionClosed

API_PATH = b"/api/publish"
NAMESPACE = "/"
# Published to before a run to check the API answers; nobody is in it.
PRIME_ROOM = "bench-prime"


class PublishRefused(Exception):
    """The server answered a publish with an error or a malformed reply."""


class Publisher(Protocol):
    """What the load needs from a publisher."""

    # How a publish is sent and acknowledged, for the report.
    via: str
    # Independent ordered streams: publishes sent on one lane must arrive in the order
    # sent; publishes in flight on different lanes have no order between them.
    lanes: int
    # Keys a healthy reply has, and keys it may have besides.
    reply_keys: frozenset[str]
    optional_keys: frozenset[str]

    @property
    def is_open(self) -> bool: ...

    def publish(self, room: str, event: str, data: dict[str, Any]) -> asyncio.Future[Any]:
        """Send one publish; with more than one lane, sets ``data["lane"]`` first."""
        ...

    def parse_reply(self, raw: Any) -> dict[str, Any]: ...

    def close(self) -> None: ...

    def describe_closed(self) -> str: ...


class SocketPublisher:
    """Publishes with the ``publish`` event on one Socket.IO connection, acked."""

    via = "socket.io publish event, acked"
    lanes = 1
    reply_keys = frozenset({"ok", "recipients"})
    optional_keys = frozenset({"offset"})

    def __init__(self, conn: wire.SioConnection) -> None:
        self.conn = conn

    @property
    def is_open(self) -> bool:
        return self.conn.is_open

    def publish(self, room: str, event: str, data: dict[str, Any]) -> asyncio.Future[Any]:
        return self.conn.emit("publish", {"room": room, "event": event, "data": data})

    def parse_reply(self, raw: Any) -> dict[str, Any]:
        # An ack is a list of arguments: exactly one object is expected.
        if isinstance(raw, list) and len(raw) == 1 and isinstance(raw[0], dict):
            reply: dict[str, Any] = raw[0]
            if reply.get("ok") is True:
                return reply
        raise PublishRefused(f"bad publish ack {raw!r}")

    def close(self) -> None:
        self.conn.close()

    def describe_closed(self) -> str:
        return self.conn.closed.result() if self.conn.closed.done() else ""


class HttpPublisher:
    """Publishes with ``POST /api/publish`` over a few keep-alive connections.

    Each connection carries one request at a time, so at most ``len(connections)``
    publishes are in flight; the load's window must not be larger. Each connection is a
    lane: requests in flight on different connections may be served in any order.
    """

    via = "HTTP POST /api/publish, keep-alive"
    reply_keys = frozenset({"recipients"})
    optional_keys = frozenset({"offset"})

    def __init__(self, connections: list[httpclient.HttpConnection], key: str) -> None:
        self.connections = connections
        self.lanes = max(1, len(connections))
        self._idle: deque[int] = deque(range(len(connections)))
        self._headers = (
            b"Content-Type: application/json\r\nAuthorization: Bearer " + key.encode() + b"\r\n"
        )

    @classmethod
    async def open(
        cls, host: str, port: int, connections: int, key: str, timeout: float
    ) -> HttpPublisher:
        """Open the connections and publish once on each to a room nobody is in.

        The first request also keeps a server from closing a connection that has not
        sent one yet, and a missing or refusing API fails the run here, not mid-way.
        """
        opened = await asyncio.wait_for(
            asyncio.gather(
                *(httpclient.open_connection(host, port) for _ in range(connections)),
                return_exceptions=True,
            ),
            timeout,
        )
        conns = [c for c in opened if isinstance(c, httpclient.HttpConnection)]
        publisher = cls(conns, key)
        errors = [c for c in opened if isinstance(c, BaseException)]
        if errors:
            publisher.close()
            raise errors[0]
        for _ in range(connections):
            raw = await asyncio.wait_for(publisher.publish(PRIME_ROOM, "prime", {}), timeout)
            reply = publisher.parse_reply(raw)
            if reply.get("recipients") != 0:
                publisher.close()
                raise PublishRefused(f"priming publish to an empty room answered {reply!r}")
        return publisher

    @property
    def is_open(self) -> bool:
        return any(conn.is_open for conn in self.connections)

    def publish(self, room: str, event: str, data: dict[str, Any]) -> asyncio.Future[Any]:
        while self._idle and not self.connections[self._idle[0]].is_open:
            self._idle.popleft()
        if not self._idle:
            fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            fut.set_exception(ConnectionClosed("no idle keep-alive connection"))
            return fut
        lane = self._idle.popleft()
        data["lane"] = lane
        body = orjson.dumps({"event": event, "data": data, "namespace": NAMESPACE, "room": room})
        reply = self.connections[lane].request(b"POST", API_PATH, body, self._headers)
        # Registered before the load's own callback, so the connection is idle again by
        # the time the load may send the next publish.
        reply.add_done_callback(lambda _f: self._idle.append(lane))
        return reply

    def parse_reply(self, raw: Any) -> dict[str, Any]:
        assert isinstance(raw, httpclient.HttpReply)
        if raw.status != 200:
            raise PublishRefused(f"HTTP {raw.status}: {raw.body[:160]!r}")
        try:
            reply = orjson.loads(raw.body)
        except orjson.JSONDecodeError:
            raise PublishRefused(f"HTTP 200 with a non-JSON body {raw.body[:160]!r}") from None
        if not isinstance(reply, dict):
            raise PublishRefused(f"HTTP 200 with {reply!r}")
        return reply

    def close(self) -> None:
        for conn in self.connections:
            conn.close()

    def describe_closed(self) -> str:
        reasons = {conn.closed.result() for conn in self.connections if conn.closed.done()}
        return "; ".join(sorted(reasons))
