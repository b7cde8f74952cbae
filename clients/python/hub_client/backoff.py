"""Reconnect delays: exponential backoff with jitter (sans-IO: it computes, never sleeps)."""

from __future__ import annotations

import random

import attrs


@attrs.define
class Backoff:
    """``delay(n)`` before the n-th attempt (from 1): ``min(initial * factor ** (n - 1),
    maximum)`` times a random factor in ``(1 - jitter, 1]``.

    The jitter only shortens a delay, so ``maximum`` is a true upper bound, and clients
    cut off by the same outage do not all come back at the same instant.
    """

    initial: float = 1.0
    maximum: float = 5.0
    factor: float = 2.0
    jitter: float = 0.5
    rng: random.Random = attrs.field(factory=random.Random, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.initial > 0:
            raise ValueError(f"the initial delay must be > 0, got {self.initial!r}")
        if not self.maximum >= self.initial:
            raise ValueError(f"the maximum delay must be >= {self.initial!r}, got {self.maximum!r}")
        if not self.factor >= 1:
            raise ValueError(f"the factor must be >= 1, got {self.factor!r}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"the jitter must be within 0..1, got {self.jitter!r}")

    def ceiling(self, attempt: int) -> float:
        """The delay before attempt ``attempt`` without jitter (its upper bound)."""
        if attempt < 1:
            raise ValueError(f"attempts count from 1, got {attempt!r}")
        # Capped before it can overflow: factor ** 1000 is no float.
        exponent = min(attempt - 1, 64)
        return float(min(self.maximum, self.initial * self.factor**exponent))

    def bounds(self, attempt: int) -> tuple[float, float]:
        """The lowest and highest delay ``delay(attempt)`` may return."""
        high = self.ceiling(attempt)
        return high * (1 - self.jitter), high

    def delay(self, attempt: int) -> float:
        return self.ceiling(attempt) * (1 - self.jitter * self.rng.random())
