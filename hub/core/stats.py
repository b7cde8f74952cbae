"""Counters the hub keeps as it runs, and the frozen snapshot ``Hub.stats()`` returns."""

from __future__ import annotations

from collections import Counter

import attrs
from prometheus_client import Histogram

# Upper bounds (seconds) of the publish latency buckets: a broadcast to idle loopback
# readers takes microseconds per recipient, so the scale starts at 10 us.
PUBLISH_BUCKETS = (
    0.00001,
    0.000025,
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    1.0,
)


@attrs.define
class EmitterCounts:
    """Outcomes of user emitter events (``hub.user(...)``): per user, and hub-wide."""

    delivered: int = 0
    acked: int = 0
    # Resends of events whose ack did not come in time (or whose session went away).
    retried: int = 0
    expired: Counter[str] = attrs.field(factory=Counter)  # by reason: ttl, offline, max_attempts
    dropped: Counter[str] = attrs.field(factory=Counter)  # by reason: coalesced, overflow

    def snapshot(self) -> UserEmitterStats:
        return UserEmitterStats(
            delivered=self.delivered,
            acked=self.acked,
            retried=self.retried,
            expired=dict(self.expired),
            dropped=dict(self.dropped),
        )


@attrs.frozen
class UserEmitterStats:
    delivered: int
    acked: int
    retried: int
    expired: dict[str, int]
    dropped: dict[str, int]
    # Events not finished yet: queued, or sent and waiting for their ack.
    pending: int = 0


@attrs.frozen
class EmitterStats:
    """``HubStats.emitter``: hub-wide totals, and each live emitter's own."""

    delivered: int = 0
    acked: int = 0
    retried: int = 0
    expired: dict[str, int] = attrs.field(factory=dict)
    dropped: dict[str, int] = attrs.field(factory=dict)
    pending: int = 0
    users: dict[str, UserEmitterStats] = attrs.field(factory=dict)


@attrs.frozen
class HubStats:
    connections: int
    sessions: dict[str, int]
    rooms: dict[str, dict[str, int]]
    events_in: int
    deliveries: int
    recovered: int
    dropped: dict[str, int]
    disconnects: dict[str, int]
    errors: dict[str, int]
    emitter: EmitterStats = attrs.field(factory=EmitterStats)


@attrs.define
class Counters:
    """Mutable tallies, bumped on the hot path (plain ints and Counters, no locks)."""

    connections: int = 0
    # Engine.IO sessions opened (WebSocket or long-polling handshakes; upgrades excluded).
    handshakes: int = 0
    events_in: int = 0
    deliveries: int = 0
    # Broadcasts (one per Namespace.broadcast, whatever the number of recipients).
    published: int = 0
    recovered: int = 0
    dropped: Counter[str] = attrs.field(factory=Counter)
    disconnects: Counter[str] = attrs.field(factory=Counter)
    errors: Counter[str] = attrs.field(factory=Counter)
    # Outcomes of user emitter events, over every user.
    emitter: EmitterCounts = attrs.field(factory=EmitterCounts)
    # Seconds from entering Namespace.publish to the end of its fan-out loop. Registered
    # nowhere: each server's /metrics collector exports its own hub's.
    publish_seconds: Histogram = attrs.field(factory=lambda: _publish_histogram())


def _publish_histogram() -> Histogram:
    return Histogram(
        "hub_publish_seconds",
        "From entering Namespace.publish to the end of its fan-out loop, once per broadcast",
        buckets=PUBLISH_BUCKETS,
        registry=None,
    )
