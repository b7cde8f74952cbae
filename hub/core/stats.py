"""Counters the hub keeps as it runs, and the frozen snapshot ``Hub.stats()`` returns."""

from __future__ import annotations

from collections import Counter

import attrs


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


@attrs.define
class Counters:
    """Mutable tallies, bumped on the hot path (plain ints and Counters, no locks)."""

    connections: int = 0
    events_in: int = 0
    deliveries: int = 0
    recovered: int = 0
    dropped: Counter[str] = attrs.field(factory=Counter)
    disconnects: Counter[str] = attrs.field(factory=Counter)
    errors: Counter[str] = attrs.field(factory=Counter)
