"""What every transport of an Engine.IO session shares: its Socket.IO client, heartbeat,
connect deadline, and what it does with each packet the client sends."""

from __future__ import annotations

from abc import ABC, abstractmethod

import trio

from hub.core.client import Client
from hub.core.handshake import Handshake
from hub.core.hub import Hub
from hub.errors import ProtocolError
from hub.protocol.engineio import EioPacket, EioType
from hub.protocol.heartbeat import Heartbeat
from hub.protocol.outgoing import Outgoing


class EngineSession(ABC):
    __slots__ = (
        "_timer",
        "client",
        "close_reason",
        "connect_deadline",
        "heartbeat",
        "hub",
        "remote",
        "sid",
    )

    def __init__(self, hub: Hub, sid: str, handshake: Handshake) -> None:
        config = hub.config
        self.hub = hub
        self.sid = sid
        self.remote = handshake.remote
        self.client = Client(hub, self, handshake)
        self.heartbeat = Heartbeat(config.ping_interval, config.ping_timeout)
        self.close_reason: str | None = None
        # A client must connect a namespace by then (``connect_timeout``).
        self.connect_deadline = float("inf")
        # The sleep of the task keeping the heartbeat; a pong moves its deadline.
        self._timer = trio.CancelScope()

    @abstractmethod
    def deliver(self, packet: Outgoing, *, volatile: bool = False) -> None:
        """Send without waiting (the ``Link`` its namespace sessions deliver through)."""

    @abstractmethod
    def close(self, reason: str) -> None:
        """End the session soon, for ``reason``; never waits."""

    def next_deadline(self) -> float:
        return min(self.heartbeat.next_deadline, self.connect_deadline)

    async def on_packet(self, packet: EioPacket) -> None:
        """One packet from the client; ``ProtocolError`` if it has no place here."""
        if packet.type is EioType.MESSAGE:
            await self.client.receive(packet.data)
            if self.client.sessions:
                self.connect_deadline = float("inf")
        elif packet.type is EioType.PONG:
            self.heartbeat.on_pong(trio.current_time())
            self._timer.deadline = self.next_deadline()
        elif packet.type is EioType.CLOSE:
            self.close("transport close")
        elif packet.type is not EioType.NOOP:
            raise ProtocolError(f"unexpected engine.io {packet.type.name} packet")
