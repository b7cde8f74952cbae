"""One Engine.IO v4 connection over WebSocket, in a nursery of its own.

The nursery holds trio-websocket's frame reader, the *receive task* (Engine.IO packets
to the Socket.IO client, in order) and the *send task* (drains the outbox and keeps the
heartbeat). Whatever ends first (peer gone, malformed input, ping timeout, slow
consumer, server shutdown) records its reason and cancels the rest; the teardown then
drops the namespace sessions and closes the socket with a fitting close code.
"""

from __future__ import annotations

import logging
import struct

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, wrap_server_stream

from hub.core.client import Client
from hub.core.hub import Hub
from hub.core.session import new_sid
from hub.errors import ProtocolError
from hub.protocol.engineio import EioType, decode_eio, encode_open
from hub.protocol.heartbeat import Heartbeat, HeartbeatAction
from hub.protocol.outgoing import Outgoing, control_frame
from hub.transport.wire import Wire

log = logging.getLogger("hub")

PING_FRAME = control_frame("2")
# WebSocket close codes (RFC 6455 7.4.1) for the reasons the server ends a connection.
CLOSE_CODES = {"server shutting down": 1001, "parse error": 1002}


def close_frame(code: int, reason: str) -> bytes:
    payload = struct.pack("!H", code) + reason.encode()[:123]
    return bytes([0x88, len(payload)]) + payload


class WebSocketTransport:
    """A live connection: the ``Link`` its sessions deliver through."""

    def __init__(self, hub: Hub, wire: Wire, remote: str) -> None:
        self.hub = hub
        self.sid = new_sid()
        self.wire = wire
        self.remote = remote
        self.client = Client(hub, self, remote)
        config = hub.config
        self.heartbeat = Heartbeat(config.ping_interval, config.ping_timeout)
        self.close_reason: str | None = None
        self._scope = trio.CancelScope()
        self._ws: WebSocketConnection | None = None
        self._connect_deadline = float("inf")
        # The send task's sleep between writes; a pong moves its deadline.
        self._idle_wait = trio.CancelScope()

    # Link

    def deliver(self, packet: Outgoing, *, volatile: bool = False) -> None:
        if self.wire.write_nowait(packet.ws):
            return
        if volatile:
            self.hub.counters.dropped["volatile"] += 1
        else:
            self.close("slow consumer")

    def close(self, reason: str) -> None:
        if self.close_reason is None:
            self.close_reason = reason
        self._scope.cancel()

    # Lifecycle

    async def run(self) -> None:
        counters = self.hub.counters
        counters.connections += 1
        try:
            with self._scope:
                async with trio.open_nursery() as nursery:
                    if not await self._handshake(nursery):
                        self.close("handshake failed")
                        return
                    nursery.start_soon(self._send_task)
                    self.close(await self._receive_task())
        finally:
            counters.connections -= 1
            with trio.CancelScope(shield=True):
                await self._teardown()

    async def _handshake(self, nursery: trio.Nursery) -> bool:
        config = self.hub.config
        with trio.move_on_after(config.handshake_timeout):
            request = await wrap_server_stream(
                nursery, self.wire, message_queue_size=4, max_message_size=config.max_payload
            )
            self._ws = await request.accept()
            opening = encode_open(
                self.sid,
                ping_interval_ms=int(config.ping_interval * 1000),
                ping_timeout_ms=int(config.ping_timeout * 1000),
                max_payload=config.max_payload,
            )
            self.wire.write_nowait(control_frame(opening))
            now = trio.current_time()
            self.heartbeat.start(now)
            self._connect_deadline = now + config.connect_timeout
            return True
        return False

    async def _receive_task(self) -> str:
        """Feed packets to the client until the connection ends; returns why it ended."""
        assert self._ws is not None
        ws, client, heartbeat = self._ws, self.client, self.heartbeat
        while True:
            try:
                message = await ws.get_message()
            except ConnectionClosed as closed:
                if closed.reason is not None and closed.reason.code == 1009:
                    self.hub.counters.errors["payload_too_large"] += 1
                    log.info("conn=%s remote=%s payload too large", self.sid, self.remote)
                return "transport close"
            try:
                packet = decode_eio(message)
                if packet.type is EioType.MESSAGE:
                    await client.receive(packet.data)
                    if client.sessions:
                        self._connect_deadline = float("inf")
                elif packet.type is EioType.PONG:
                    heartbeat.on_pong(trio.current_time())
                    self._idle_wait.deadline = self._next_deadline()
                elif packet.type is EioType.CLOSE:
                    return "transport close"
                elif packet.type is not EioType.NOOP:
                    raise ProtocolError(f"unexpected engine.io {packet.type.name} packet")
            except ProtocolError as error:
                self.hub.counters.errors["protocol"] += 1
                log.info("conn=%s remote=%s parse error: %s", self.sid, self.remote, error)
                return "parse error"

    async def _send_task(self) -> None:
        """Write what the outbox holds; between writes, keep the heartbeat."""
        wire, heartbeat = self.wire, self.heartbeat
        while True:
            data = None
            with trio.move_on_at(self._next_deadline()) as self._idle_wait:
                data = await wire.next_queued()
            if data is not None:
                await wire.flush(data)
                continue
            now = trio.current_time()
            if now >= self._connect_deadline:
                self.close("connect timeout")
                return
            action = heartbeat.on_deadline(now)
            if action is HeartbeatAction.PING:
                if not wire.write_nowait(PING_FRAME):
                    self.close("slow consumer")
                    return
            elif action is HeartbeatAction.TIMEOUT:
                self.close("ping timeout")
                return

    def _next_deadline(self) -> float:
        return min(self.heartbeat.next_deadline, self._connect_deadline)

    async def _teardown(self) -> None:
        reason = self.close_reason or "server shutting down"
        if reason in ("ping timeout", "slow consumer", "connect timeout"):
            log.info("conn=%s remote=%s closed: %s", self.sid, self.remote, reason)
        with trio.move_on_after(5):
            await self.client.close(reason)
        if reason == "slow consumer":
            self.hub.counters.dropped["slow_consumer"] += 1
            self.wire.abort()
            return
        final = None
        if self._ws is not None and self._ws.closed is None:
            final = close_frame(CLOSE_CODES.get(reason, 1000), reason)
        with trio.move_on_after(1):
            await self.wire.finish(final)
        self.wire.abort()
