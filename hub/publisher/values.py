"""The publisher's values: settings, failures, counts, queued items and errors."""

from __future__ import annotations

import random
import threading
import time
from typing import Any, Final, Literal

import attrs
import orjson

from hub.errors import HubError, QueueFull

# Statuses sent again after a wait: overloaded (429) or a proxy in front of a hub that is
# not there (yet).
RETRIED_STATUSES: Final = frozenset({429, 502, 503, 504})
# orjson's options: numpy arrays and scalars (common in training loops) encode as JSON.
DUMPS: Final = orjson.OPT_SERIALIZE_NUMPY
# How long an open publisher may flush at interpreter exit.
EXIT_FLUSH = 5.0


class PublisherFull(QueueFull):
    """The publisher's queue is full (the hub is down or slower than its callers)."""


class PublisherClosed(HubError):
    """The publisher was closed: it takes no more events."""


class _Nothing:
    def __repr__(self) -> str:
        return "NOTHING"


# ``publish(event)`` with no data sends an event with no arguments; ``data=None`` sends null.
NOTHING: Any = _Nothing()


@attrs.frozen
class Retry:
    """How events are sent again after a connection error, a 429 or a 502/503/504."""

    # Seconds from the call: an event not sent by then is dropped as a failure ("expired").
    # It bounds how long an outage is bridged, and how old an event can be when it arrives.
    max_age: float = 30.0
    # The wait after the first failed attempt, doubled per failure up to backoff_max, times
    # a random 0.5-1.0. A reused keep-alive connection that fails is retried at once first.
    backoff: float = 0.05
    backoff_max: float = 2.0

    def __attrs_post_init__(self) -> None:
        if not self.max_age >= 0 or not self.backoff > 0 or not self.backoff_max >= self.backoff:
            raise ValueError("Retry needs max_age >= 0 and 0 < backoff <= backoff_max")

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` failed attempts in a row (>= 1)."""
        step = min(self.backoff_max, self.backoff * 2 ** min(failures - 1, 32))
        return float(step * random.uniform(0.5, 1.0))


# Frozen, so one default serves every publisher.
DEFAULT_RETRY = Retry()


@attrs.frozen
class PublishFailure:
    """An event that was not delivered to the hub, and why."""

    # The hub's error kind for a 4xx ("unauthorized", "invalid_body", "unknown_namespace",
    # ...; "http_<status>" when the body has none), or the publisher's own: "expired" (not
    # sent within Retry.max_age; ``message`` says what the last attempt met), "connection"
    # (a connection error with retry=None) or "closed" (closed before it was sent).
    kind: str
    message: str
    event: str
    # "/api/publish" or "/api/users/<id>/emit", after the URL's own path.
    path: str
    # The HTTP status of the last answer, None when there was none.
    status: int | None
    attempts: int


@attrs.frozen
class Failures:
    """How many events failed since the publisher was made, and the last failure."""

    count: int
    last: PublishFailure | None


@attrs.frozen
class PublisherStats:
    queued: int  # accepted, not yet sent nor failed
    sent: int  # answered 2xx by the hub
    failed: int  # as ``failures.count``
    retries: int  # attempts made again (connection errors, 429, 502-504)
    connects: int  # HTTP connections made (each reconnect is one)


class Item:
    """One queued request: its path and body, and when it was made."""

    __slots__ = ("attempts", "body", "born", "error", "event", "kind", "path", "status")

    def __init__(self, path: str, body: bytes, event: str) -> None:
        self.path = path
        self.body = body
        self.event = event
        self.born = time.monotonic()
        self.attempts = 0
        self.error = ""  # what its last attempt met
        self.kind = ""
        self.status: int | None = None


class Marker:
    """Put behind every worker's queue by ``flush``: set once each worker reached it."""

    def __init__(self, workers: int) -> None:
        self.left = workers
        self.lock = threading.Lock()
        self.done = threading.Event()

    def reached(self) -> None:
        with self.lock:
            self.left -= 1
            if self.left == 0:
                self.done.set()


Outcome = Literal["sent", "failed", "retry", "retry_now"]
