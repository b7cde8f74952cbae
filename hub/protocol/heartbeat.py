"""Engine.IO v4 heartbeat, server side, with time as an input.

Theory: the server pings every ``interval`` seconds; after a ping it waits ``timeout``
seconds for the pong. A pong re-arms the interval; a missing pong is a dead peer. The I/O
layer sleeps until ``next_deadline`` and then calls ``on_deadline(now)``.
"""

from __future__ import annotations

import enum

import attrs


class HeartbeatAction(enum.Enum):
    PING = "ping"
    TIMEOUT = "timeout"


@attrs.define
class Heartbeat:
    interval: float
    timeout: float
    next_deadline: float = attrs.field(default=float("inf"))
    awaiting_pong: bool = False

    def start(self, now: float) -> None:
        self.awaiting_pong = False
        self.next_deadline = now + self.interval

    def on_deadline(self, now: float) -> HeartbeatAction | None:
        """What is due at ``now``: nothing, a ping to send, or a timed-out peer."""
        if now < self.next_deadline:
            return None
        if self.awaiting_pong:
            return HeartbeatAction.TIMEOUT
        self.awaiting_pong = True
        self.next_deadline = now + self.timeout
        return HeartbeatAction.PING

    def on_pong(self, now: float) -> None:
        # A pong nobody asked for is harmless (clients may answer late): ignore it.
        if self.awaiting_pong:
            self.awaiting_pong = False
            self.next_deadline = now + self.interval
