"""What the core needs from a connection, whatever its transport."""

from __future__ import annotations

from typing import Protocol

from hub.protocol.outgoing import Outgoing


class Link(Protocol):
    def deliver(self, packet: Outgoing, *, volatile: bool = False) -> None:
        """Send without waiting; on overflow drop (volatile) or end the connection."""

    def close(self, reason: str) -> None:
        """End the whole connection soon; never waits."""
