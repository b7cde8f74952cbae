"""One Engine.IO v4 connection over WebSocket, in a nursery of its own.

The nursery holds two tasks: the *receive task* reads the socket, parses frames with
wsproto and feeds Engine.IO packets to the Socket.IO client in order; the *send task*
drains the outbox and keeps the heartbeat. Whatever ends first (peer gone, malformed
input, ping timeout, slow consumer, server shutdown) records its reason and cancels the
rest; the teardown then drops the namespace sessions and closes the socket with a
fitting close code.
"""

from __future__ import annotations

import contextlib
import logging
from typing import cast

import trio
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage

from hub.core.handshake import Handshake
from hub.core.hub import Hub
from hub.core.session import new_sid
from hub.errors import ProtocolError
from hub.protocol.engineio import decode_eio, encode_open
from hub.protocol.heartbeat import HeartbeatAction
from hub.protocol.outgoing import Outgoing, control_frame
from hub.transport.polling import PollingTransport
from hub.transport.session import EngineSession
from hub.transport.wire import Wire

log = logging.getLogger("hub")

PING_FRAME = control_frame("2")
RECEIVE_SIZE = 65536
# How long a client has from the WebSocket opening to the upgrade packet.
UPGRADE_TIMEOUT = 10.0
# WebSocket close codes (RFC 6455 7.4.1) for the reasons the server ends a connection.
CLOSE_CODES = {"server shutting down": 1001, "parse error": 1002, "payload too large": 1009}
# Reasons worth a log line (the others are ordinary comings and goings).
NOTEWORTHY = frozenset({"ping timeout", "slow consumer", "connect timeout", "payload too large"})


class WebSocketTransport(EngineSession):
    """A live connection: the ``Link`` its sessions deliver through."""

    # Slots: a hub holds many thousands of these.
    __slots__ = ("_close_code", "_early_data", "_scope", "_teardown_scope", "_ws", "wire")

    def __init__(self, hub: Hub, stream: trio.SocketStream, handshake: Handshake) -> None:
        super().__init__(hub, new_sid(), handshake)
        config = hub.config
        self.wire = Wire(stream, config.outbox_messages, config.outbox_bytes, self._wake)
        self._ws = Connection(ConnectionType.SERVER)
        self._early_data = b""
        self._close_code = 1000
        self._scope = trio.CancelScope()
        # Shielded from the cancellation that ends the connection; ``abort`` cancels it.
        self._teardown_scope = trio.CancelScope(shield=True)

    # Link

    @property
    def queued_bytes(self) -> int:
        """Bytes waiting in the outbox (user emitters pace on it)."""
        return self.wire.queued_bytes

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

    def abort(self) -> None:
        """End the connection now, teardown included: no flushing, no waiting."""
        self.close("server shutting down")
        self._teardown_scope.cancel()
        self.wire.abort()

    def _wake(self) -> None:
        # The outbox channel was just made: end the send task's idle wait to read it.
        self._timer.cancel()

    # Lifecycle

    def open(self, accept: bytes, early_data: bytes) -> None:
        """Answer the upgrade with ``accept`` and open the Engine.IO session."""
        self.hub.counters.handshakes += 1
        config = self.hub.config
        opening = encode_open(
            self.sid,
            ping_interval_ms=int(config.ping_interval * 1000),
            ping_timeout_ms=int(config.ping_timeout * 1000),
            max_payload=config.max_payload,
        )
        self.wire.write_nowait(accept + control_frame(opening))
        self._early_data = early_data
        now = trio.current_time()
        self.heartbeat.start(now)
        self.connect_deadline = now + config.connect_timeout

    async def upgrade(self, polling: PollingTransport, accept: bytes, early_data: bytes) -> bool:
        """Answer the upgrade, probe, then take over ``polling``'s session.

        The client sends ``2probe`` (answered ``3probe``), pauses polling, then sends the
        upgrade packet ``5``. False when it does not within ``UPGRADE_TIMEOUT``, or sends
        anything else; the polling session then goes on as before.
        """
        self.wire.write_nowait(accept)
        upgraded = False
        with trio.move_on_after(UPGRADE_TIMEOUT):
            upgraded = await self._probe(polling, early_data)
        if upgraded:
            self._adopt(polling)
            return True
        polling.cancel_upgrade()
        self.hub.counters.errors["upgrade_failed"] += 1
        log.info("conn=%s remote=%s upgrade failed", polling.sid, self.remote)
        return False

    async def _probe(self, polling: PollingTransport, data: bytes) -> bool:
        ws = self._ws
        probed = False
        while True:
            if data:
                ws.receive_data(data)
            # Frames after the upgrade packet stay in wsproto for the receive task.
            for event in ws.events():
                if not isinstance(event, TextMessage) or not event.message_finished:
                    return False
                if event.data == "2probe" and not probed:
                    self.wire.write_nowait(control_frame("3probe"))
                    polling.begin_upgrade()
                    probed = True
                elif event.data == "5" and probed:
                    return polling.close_reason is None
                else:
                    return False
            try:
                data = await self.wire.stream.receive_some(RECEIVE_SIZE)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return False
            if not data:
                return False

    def _adopt(self, polling: PollingTransport) -> None:
        """Become the transport of ``polling``'s session, its buffered packets first."""
        self.sid = polling.sid
        self.client = polling.client
        self.heartbeat = polling.heartbeat
        self.connect_deadline = polling.connect_deadline
        for packet in polling.hand_over():
            if not self.wire.write_nowait(packet.ws):
                self.close("slow consumer")
        self.client.rebind(self)

    async def run(self) -> None:
        """Serve the connection until it ends, then tear it down."""
        counters = self.hub.counters
        counters.connections += 1
        try:
            with self._scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._send_task)
                    self.close(await self._receive_task())
        finally:
            counters.connections -= 1
            with self._teardown_scope:
                await self._teardown()

    async def _receive_task(self) -> str:
        """Feed messages to the client until the connection ends; returns why it ended."""
        ws, stream = self._ws, self.wire.stream
        max_payload = self.hub.config.max_payload
        parts: list[str | bytes | bytearray] = []
        size = 0
        data, self._early_data = self._early_data, b""
        while True:
            if data:
                ws.receive_data(data)
            for event in ws.events():
                if isinstance(event, TextMessage | BytesMessage):
                    size += _byte_size(event.data)
                    if size > max_payload:
                        self.hub.counters.errors["payload_too_large"] += 1
                        return "payload too large"
                    parts.append(event.data)
                    if event.message_finished:
                        message = _join(event, parts)
                        parts, size = [], 0
                        try:
                            await self._on_message(message)
                        except ProtocolError as error:
                            self.hub.counters.errors["protocol"] += 1
                            log.info(
                                "conn=%s remote=%s parse error: %s", self.sid, self.remote, error
                            )
                            return "parse error"
                elif isinstance(event, Ping):
                    if not self.wire.write_nowait(ws.send(event.response())):
                        return "slow consumer"
                elif isinstance(event, CloseConnection):
                    if ws.state is ConnectionState.REMOTE_CLOSING:
                        self.wire.write_nowait(ws.send(event.response()))
                        return "transport close"
                    # wsproto reports a malformed frame as the close we should send.
                    self._close_code = event.code
                    self._log_protocol_error(f"bad frame: {event.reason}")
                    return "parse error"
            try:
                data = await stream.receive_some(RECEIVE_SIZE)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return "transport close"
            if not data:
                return "transport close"

    async def _on_message(self, message: str | bytes) -> None:
        await self.on_packet(decode_eio(message))

    async def _send_task(self) -> None:
        """Write what the outbox holds; between writes, keep the heartbeat."""
        wire, heartbeat = self.wire, self.heartbeat
        while True:
            data = None
            with trio.move_on_at(self.next_deadline()) as self._timer:
                data = await wire.next_queued()
            if data is not None:
                try:
                    await wire.flush(data)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    self.close("transport close")
                    return
                continue
            now = trio.current_time()
            if now >= self.connect_deadline:
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

    def _log_protocol_error(self, reason: str) -> None:
        self.hub.counters.errors["protocol"] += 1
        log.info("conn=%s remote=%s parse error: %s", self.sid, self.remote, reason)

    async def _teardown(self) -> None:
        reason = self.close_reason or "server shutting down"
        if reason in NOTEWORTHY:
            log.info("conn=%s remote=%s closed: %s", self.sid, self.remote, reason)
        with trio.move_on_after(5):
            await self.client.close(reason)
        if reason == "slow consumer":
            self.hub.counters.dropped["slow_consumer"] += 1
            self.wire.abort()
            return
        final = None
        if self._ws.state is ConnectionState.OPEN:
            code = CLOSE_CODES.get(reason, self._close_code)
            final = self._ws.send(CloseConnection(code, reason))
        with trio.move_on_after(1):
            await self.wire.finish(final)
            await self._await_peer_close()
        self.wire.abort()

    async def _await_peer_close(self) -> None:
        """Wait for the peer's close frame; then the server hangs up first (RFC 6455 7.1.1)."""
        ws = self._ws
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            while ws.state is ConnectionState.LOCAL_CLOSING:
                data = await self.wire.stream.receive_some(RECEIVE_SIZE)
                if not data:
                    return
                ws.receive_data(data)
                # Reading the events is what applies a close reply (state -> CLOSED).
                list(ws.events())


def _byte_size(data: str | bytes | bytearray) -> int:
    """Bytes on the wire: ``max_payload`` counts bytes, and a text message's UTF-8 may
    be longer than its characters (``isascii`` is O(1) for the usual ASCII text)."""
    if isinstance(data, str) and not data.isascii():
        return len(data.encode())
    return len(data)


def _join(last: TextMessage | BytesMessage, parts: list[str | bytes | bytearray]) -> str | bytes:
    if isinstance(last, TextMessage):
        return "".join(cast(list[str], parts))
    return b"".join(cast(list[bytes | bytearray], parts))
