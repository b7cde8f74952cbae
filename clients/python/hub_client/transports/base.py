"""What the Engine.IO session needs of a transport, and how a transport says it is gone."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from typing import Protocol

import anyio
from anyio.abc import ByteStream

from hub.protocol.engineio import EioPacket
from hub_client.options import Endpoint


class TransportClosed(Exception):
    """The transport can carry nothing more; ``reason`` says why (for logs)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Transport(Protocol):
    """One Engine.IO session's packets, both ways, after its OPEN packet.

    ``receive`` is called by one task at a time; ``send`` may be called by several (the
    transport keeps their packets whole and in call order).
    """

    name: str

    async def send(self, packets: Sequence[EioPacket]) -> None: ...

    async def receive(self) -> EioPacket: ...

    async def aclose(self) -> None:
        """Closes politely (a close frame, a CLOSE packet), bounded in time."""

    async def abort(self) -> None:
        """Drops the connection at once."""


# Network failures of a stream, as anyio and the OS report them.
STREAM_ERRORS = (
    OSError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
)
CLOSE_WAIT = 2.0  # how long a polite close waits for the peer


async def open_stream(endpoint: Endpoint, ssl_context: ssl.SSLContext | None) -> ByteStream:
    """A TCP (or TLS) stream to the endpoint; ``TransportClosed`` if it cannot be opened."""
    try:
        if endpoint.tls:
            return await anyio.connect_tcp(
                endpoint.host, endpoint.port, tls=True, ssl_context=ssl_context
            )
        return await anyio.connect_tcp(endpoint.host, endpoint.port)
    except STREAM_ERRORS as exc:
        raise TransportClosed(f"cannot connect to {endpoint.host}:{endpoint.port}: {exc}") from exc
