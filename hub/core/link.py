"""What the core needs from a connection, whatever its transport."""

from __future__ import annotations

from typing import Protocol

from hub.protocol.outgoing import Outgoing


class Link(Protocol):
    def deliver(self, packet: Outgoing, *, volatile: bool = False) -> None:
        """Send without waiting; on overflow drop (volatile) or end the connection."""

    def close(self, reason: str) -> None:
        """End the whole connection soon; never waits."""


class Paced(Protocol):
    """A link that tells how much it has queued (WebSocket and long-polling transports).

    User emitters hand a session more events only while this is small, so a slow
    reader's backlog stays in the emitter's queue; links without it never hold back.
    """

    @property
    def queued_bytes(self) -> int:
        """Bytes handed over but not yet taken by the peer's kernel (or by a GET)."""
        ...
