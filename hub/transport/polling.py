"""One Engine.IO v4 session over HTTP long-polling.

Theory: the session outlives the requests that carry it. Outgoing packets wait in a
bounded buffer (the same bounds as a WebSocket's outbox); a GET takes the whole buffer,
or waits until something arrives. A POST carries the client's packets, dispatched in
order. A *timer task* in the server's nursery keeps the heartbeat and the connect
deadline and, when the session ends, drops its namespace sessions.

Upgrade: while a WebSocket probes, an empty GET is answered with a noop at once so the
client can pause polling; when the client sends the upgrade packet, ``hand_over`` gives
the WebSocket the buffered packets, the Socket.IO client and the heartbeat in one step,
so nothing is lost or reordered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import trio

from hub.core.handshake import Handshake
from hub.core.hub import Hub
from hub.core.session import new_sid
from hub.protocol.engineio import decode_payload
from hub.protocol.heartbeat import HeartbeatAction
from hub.protocol.outgoing import Control, Outgoing
from hub.transport.session import EngineSession

log = logging.getLogger("hub")

PING = Control("2")
NOOP = b"6"
CLOSE = b"1"
NOTEWORTHY = frozenset({"ping timeout", "slow consumer", "connect timeout", "transport error"})


class Overlap(Exception):
    """A second GET (or POST) while one is under way: the client is broken."""


class PollingTransport(EngineSession):
    """A long-polling session: the ``Link`` its namespace sessions deliver through."""

    def __init__(
        self, hub: Hub, handshake: Handshake, on_end: Callable[[PollingTransport], None]
    ) -> None:
        super().__init__(hub, new_sid(), handshake)
        config = hub.config
        self.upgrading = False
        self._max_messages = config.outbox_messages
        self._max_bytes = config.outbox_bytes
        self._pending: list[Outgoing | Control] = []
        self._pending_bytes = 0
        # Set while a GET waits: delivering, closing or probing wakes it.
        self._arrived: trio.Event | None = None
        self._posting = False
        self._handed_over = False
        self._on_end = on_end
        self._scope = trio.CancelScope()

    @property
    def queued_bytes(self) -> int:
        return self._pending_bytes

    # Link

    def deliver(self, packet: Outgoing | Control, *, volatile: bool = False) -> None:
        if self.close_reason is not None:
            return
        size = packet.size
        if len(self._pending) >= self._max_messages or self._pending_bytes + size > self._max_bytes:
            if volatile:
                self.hub.counters.dropped["volatile"] += 1
            else:
                self.close("slow consumer")
            return
        self._pending.append(packet)
        self._pending_bytes += size
        if self._arrived is not None:
            self._arrived.set()

    def close(self, reason: str) -> None:
        if self.close_reason is None:
            self.close_reason = reason
        self._scope.cancel()
        if self._arrived is not None:
            self._arrived.set()

    # Requests

    async def poll(self) -> bytes:
        """A GET: what is buffered, waiting for it if nothing is; raises ``Overlap``."""
        if self._arrived is not None:
            self.close("transport error")
            raise Overlap("a second GET while one is waiting")
        if not self._pending and self.close_reason is None and not self.upgrading:
            self._arrived = trio.Event()
            try:
                await self._arrived.wait()
            finally:
                self._arrived = None
        packets, self._pending, self._pending_bytes = self._pending, [], 0
        parts = [packet.polling for packet in packets]
        if self.close_reason is not None and not self._handed_over:
            parts.append(CLOSE)
        return b"\x1e".join(parts) if parts else NOOP

    async def receive(self, body: bytes) -> None:
        """A POST: the client's packets, in order; ``ProtocolError`` or ``Overlap``."""
        if self._posting:
            self.close("transport error")
            raise Overlap("a second POST while one is under way")
        self._posting = True
        try:
            for packet in decode_payload(body):
                if self.close_reason is not None:
                    return
                await self.on_packet(packet)
        finally:
            self._posting = False

    # Upgrade

    def begin_upgrade(self) -> None:
        """A WebSocket answered the probe: release a waiting GET so polling can pause."""
        self.upgrading = True
        if self._arrived is not None:
            self._arrived.set()

    def cancel_upgrade(self) -> None:
        self.upgrading = False

    def hand_over(self) -> list[Outgoing | Control]:
        """End this transport for the upgrade; the buffered packets go to the WebSocket."""
        self._handed_over = True
        self.close("transport upgraded")
        packets, self._pending, self._pending_bytes = self._pending, [], 0
        self._on_end(self)
        return packets

    # Lifecycle

    def start(self, now: float) -> None:
        """The session is open; ``run`` must follow (it counts the connection's end)."""
        self.hub.counters.connections += 1
        self.heartbeat.start(now)
        self.connect_deadline = now + self.hub.config.connect_timeout

    async def run(self) -> None:
        """The timer task: heartbeat and connect deadline until the session ends."""
        try:
            with self._scope:
                while True:
                    with trio.move_on_at(self.next_deadline()) as self._timer:
                        await trio.sleep_forever()
                    now = trio.current_time()
                    if now >= self.connect_deadline:
                        self.close("connect timeout")
                    action = self.heartbeat.on_deadline(now)
                    if action is HeartbeatAction.PING:
                        self.deliver(PING)
                    elif action is HeartbeatAction.TIMEOUT:
                        self.close("ping timeout")
        finally:
            self.hub.counters.connections -= 1
            if not self._handed_over:
                with trio.CancelScope(shield=True):
                    await self._teardown()

    async def _teardown(self) -> None:
        self._on_end(self)
        reason = self.close_reason or "server shutting down"
        if reason in NOTEWORTHY:
            log.info("conn=%s remote=%s closed: %s", self.sid, self.remote, reason)
        if reason == "slow consumer":
            self.hub.counters.dropped["slow_consumer"] += 1
        with trio.move_on_after(5):
            await self.client.close(reason)
