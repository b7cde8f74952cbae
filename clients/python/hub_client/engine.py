"""One Engine.IO session (a *link*): the transport it runs on, its heartbeat, and the
Socket.IO packets it carries. Opening one tries the configured transports in order."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence

import anyio

from hub.errors import ProtocolError
from hub.protocol.engineio import EioPacket, EioType
from hub.protocol.socketio import SioDecoder, SioPacket
from hub_client.codec import PONG, Handshake, sio_packets
from hub_client.errors import ConnectError
from hub_client.options import ClientOptions, Endpoint
from hub_client.transports import Transport, TransportClosed, open_polling, open_websocket

log = logging.getLogger("hub_client")
_numbers = itertools.count(1)


class Link:
    """A live Engine.IO session. ``lost`` is set once it can carry nothing more, and
    ``reason`` then says why (Socket.IO's reasons: "transport close", "ping timeout"...)."""

    def __init__(self, transport: Transport, handshake: Handshake) -> None:
        self.transport = transport
        self.handshake = handshake
        self.number = next(_numbers)
        self.lost = anyio.Event()
        self.reason = ""
        self._decoder = SioDecoder()

    @property
    def alive(self) -> bool:
        return not self.lost.is_set()

    def mark_lost(self, reason: str) -> None:
        if not self.lost.is_set():
            self.reason = reason
            self.lost.set()

    async def send(self, packet: SioPacket) -> None:
        """Writes one Socket.IO packet; ``TransportClosed`` (and the link lost) on failure."""
        await self.send_encoded(sio_packets(packet))

    async def send_encoded(self, packets: Sequence[EioPacket]) -> None:
        if not self.alive:
            raise TransportClosed(self.reason)
        try:
            await self.transport.send(packets)
        except TransportClosed as exc:
            log.info("%s connection failed: %s", self.transport.name, exc.reason)
            self.mark_lost("transport error")
            raise

    async def receive(self) -> SioPacket:
        """The next Socket.IO packet. Pings are answered here; a server silent for longer
        than its ping interval and timeout is gone (``TransportClosed("ping timeout")``)."""
        while True:
            try:
                with anyio.fail_after(self.handshake.silence_limit):
                    packet = await self.transport.receive()
            except TimeoutError:
                raise TransportClosed("ping timeout") from None
            except TransportClosed as exc:
                log.info("%s connection closed: %s", self.transport.name, exc.reason)
                raise TransportClosed("transport close") from exc
            if packet.type is EioType.MESSAGE:
                try:
                    decoded = self._decoder.feed(packet.data)
                except ProtocolError as exc:
                    raise TransportClosed(f"parse error: {exc.reason}") from exc
                if decoded is not None:
                    return decoded
            elif packet.type is EioType.PING:
                await self.send_encoded([PONG])
            elif packet.type is EioType.CLOSE:
                raise TransportClosed("transport close")
            # NOOP, and anything a v4 server should not send, is ignored.

    async def close(self) -> None:
        """Closes the transport politely (bounded), marking the link lost."""
        self.mark_lost("io client disconnect")
        await self.transport.aclose()

    async def abort(self) -> None:
        self.mark_lost("transport close")
        await self.transport.abort()


async def open_link(endpoint: Endpoint, options: ClientOptions) -> Link:
    """An Engine.IO session on the first of ``options.transports`` that opens.

    Each transport gets ``connect_timeout`` seconds; ``ConnectError`` names why each failed.
    """
    problems = []
    for name in options.transports:
        opener = open_websocket if name == "websocket" else open_polling
        try:
            with anyio.fail_after(options.connect_timeout):
                transport, handshake = await opener(endpoint, options.headers, options.ssl_context)
        except TimeoutError:
            problems.append(f"{name}: no handshake within {options.connect_timeout:g} s")
        except TransportClosed as exc:
            problems.append(f"{name}: {exc.reason}")
        else:
            return Link(transport, handshake)
    where = f"{endpoint.host}:{endpoint.port}{endpoint.path}"
    raise ConnectError(f"cannot connect to {where} ({'; '.join(problems)})")
