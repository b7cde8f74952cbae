"""The event rate of one connection: a token bucket, sans-IO (time is an argument).

A bucket of ``burst`` tokens refills at ``rate`` per second; each event takes one. Past it
the first dropped event is refused (the client is told), more are dropped quietly, and
``burst`` further drops before the bucket has been full again end the connection.
"""

from __future__ import annotations

import enum


class Verdict(enum.Enum):
    TAKE = "take"  # within the rate
    REFUSE = "refuse"  # the first event over it: drop it and tell the client
    DROP = "drop"  # over it again: drop quietly
    CLOSE = "close"  # still over it after ``burst`` more drops: end the connection


class EventRate:
    __slots__ = ("_dropped", "_refilled", "_tokens")

    def __init__(self, burst: int, now: float) -> None:
        self._tokens = float(burst)
        self._refilled = now
        # Events dropped since the bucket was last full.
        self._dropped = 0

    def take(self, now: float, rate: float, burst: int) -> Verdict:
        self._tokens = min(burst, self._tokens + (now - self._refilled) * rate)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            if self._tokens >= burst - 1:
                self._dropped = 0
            return Verdict.TAKE
        self._dropped += 1
        if self._dropped == 1:
            return Verdict.REFUSE
        return Verdict.CLOSE if self._dropped > burst else Verdict.DROP
