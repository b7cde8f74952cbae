"""One user's pending events: priorities, coalescing, the bound, timers. Sans-IO.

Theory. Every event the emitter accepts becomes an ``Entry`` and stays *pending* until it
has an outcome: queued (waiting for a session with room), waiting (sent, its ack not
come yet) or backing off (to be resent). The bound counts every pending entry, so a
client that never acks cannot grow memory either. Queued entries sit in one FIFO per
priority; the sender takes from the highest priority first. A coalescing key names at
most one queued entry: a newer one replaces it (the older is finished as dropped,
"coalesced"). Time is an input (``now``): timers (TTL, ack deadline, resend) sit in one
heap and go stale lazily, so nothing here sleeps or does I/O; the async emitter
(``hub.core.emitter``) drives it.
"""

from __future__ import annotations

import heapq
import itertools
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, Literal

import attrs

Priority = Literal["critical", "high", "normal", "low"]
PRIORITIES: tuple[Priority, ...] = ("critical", "high", "normal", "low")
RANK: dict[str, int] = {name: rank for rank, name in enumerate(PRIORITIES)}
CRITICAL = RANK["critical"]

State = Literal[
    "queued", "sending", "waiting", "backoff", "delivered", "acked", "expired", "dropped"
]

# Timer kinds.
TTL, ACK_DEADLINE, RESEND = 0, 1, 2
# How far into a priority's FIFO the sender looks past entries it cannot deliver yet
# (their namespaces have no session with room): bounds the work of one pick.
SCAN_LIMIT = 256


@attrs.frozen
class Outcome:
    """How an event ended: ``delivered`` | ``acked`` | ``expired`` | ``dropped``."""

    state: str
    reason: str | None
    attempts: int


class Entry:
    """One event on its way to a user."""

    __slots__ = (
        "ack",
        "attempts",
        "batch",
        "cache",
        "created",
        "data",
        "event",
        "id",
        "key",
        "listeners",
        "max_attempts",
        "namespaces",
        "outcome",
        "rank",
        "sends",
        "seq",
        "state",
        "timer_gen",
    )

    def __init__(
        self,
        seq: int,
        event_id: str,
        event: str,
        data: Any,
        *,
        rank: int,
        ack: bool,
        batch: bool,
        key: str | None,
        namespaces: tuple[str, ...] | None,
        created: float,
        max_attempts: int,
    ) -> None:
        self.seq = seq
        self.id = event_id
        self.event = event
        self.data = data
        self.rank = rank
        self.ack = ack
        self.batch = batch
        self.key = key
        # None: every namespace the user has a session in.
        self.namespaces = namespaces
        self.created = created
        self.max_attempts = max_attempts
        self.attempts = 0
        self.state: State = "queued"
        self.outcome: Outcome | None = None
        # Called once with the entry when it gets its outcome (handles waiting on it).
        self.listeners: list[Callable[[], None]] = []
        # Outstanding acks of the current attempt: opaque to the queue, kept by the emitter.
        self.sends: list[Any] = []
        # Encoded packets by namespace, for the emitter (built once, resent as they are).
        self.cache: dict[str, Any] = {}
        # Bumped whenever ack/resend timers of an earlier attempt must be ignored.
        self.timer_gen = 0

    def __repr__(self) -> str:
        return f"<Entry {self.id} {self.event!r} {self.state}>"

    @property
    def pending(self) -> bool:
        return self.outcome is None


class Full(Exception):
    """No room, and nothing of lower priority that may be dropped to make some."""


Finish = Callable[[Entry], None]


class UserQueue:
    """The pending entries of one user; ``on_finish`` hears of every outcome."""

    def __init__(self, limit: int, on_finish: Finish) -> None:
        self.limit = limit
        self._on_finish = on_finish
        self._levels: list[deque[Entry]] = [deque() for _ in PRIORITIES]
        # Every pending entry, oldest first (the bound, and offline expiry, use it).
        self._pending: OrderedDict[int, Entry] = OrderedDict()
        self._keys: dict[str, Entry] = {}
        self._timers: list[tuple[float, int, int, int, Entry]] = []
        self._tiebreak = itertools.count()
        self.queued = 0  # entries in the FIFOs (not yet sent, or due to be resent)

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def full(self) -> bool:
        return len(self._pending) >= self.limit

    # Entries in

    def replaces(self, key: str | None) -> bool:
        """Whether an entry with coalescing ``key`` would replace a queued one."""
        return key is not None and key in self._keys

    def has_room(self, rank: int) -> bool:
        return not self.full or self._evictable(rank) is not None

    def push(self, entry: Entry, ttl_deadline: float | None) -> None:
        """Queue ``entry``; raises ``Full`` if there is no room for it.

        When full, a queued event of lower priority that is neither critical nor acked
        is dropped (reason "overflow") to make room; never silently.
        """
        if entry.key is not None:
            older = self._keys.get(entry.key)
            if older is not None:
                # The newer replaces the older: it frees the older's room first.
                self.finish(older, "dropped", "coalesced")
        if self.full:
            victim = self._evictable(entry.rank)
            if victim is None:
                raise Full
            self.finish(victim, "dropped", "overflow")
        self._pending[entry.seq] = entry
        self._levels[entry.rank].append(entry)
        self.queued += 1
        if entry.key is not None:
            self._keys[entry.key] = entry
        if ttl_deadline is not None:
            self._timer(ttl_deadline, TTL, entry)

    def _evictable(self, rank: int) -> Entry | None:
        # The oldest queued, non-acked, non-critical entry of the lowest priority below
        # ``rank``: only events nobody asked to confirm make room for more urgent ones.
        for level in range(len(PRIORITIES) - 1, max(rank, CRITICAL), -1):
            for entry in itertools.islice(self._levels[level], SCAN_LIMIT):
                if entry.pending and entry.state == "queued" and not entry.ack:
                    return entry
        return None

    # Entries out

    def pick(
        self,
        now: float,
        deliverable: Callable[[Entry], bool],
        batch_size: int,
        batch_window: float,
    ) -> tuple[list[Entry], float | None]:
        """The next entries to send together (several only for a batch), taken out.

        Highest priority first, FIFO within one; entries ``deliverable`` refuses stay.
        A batch is the run of batchable entries for the same namespaces at the head of a
        priority, sent once it holds ``batch_size`` or its first entry has waited
        ``batch_window``; until then that priority waits and lower ones may go. Also
        returns when the earliest batch window closes (None: no batch is waiting).
        """
        window_closes: float | None = None
        for level in self._levels:
            while level and not level[0].pending:
                level.popleft()  # finished while queued (coalesced, expired, dropped)
            for index, entry in enumerate(itertools.islice(level, SCAN_LIMIT)):
                if not entry.pending or not deliverable(entry):
                    continue
                if not entry.batch:
                    del level[index]
                    self._taken(entry)
                    return [entry], window_closes
                run, end = self._batch_run(level, index, batch_size)
                closes = entry.created + batch_window
                if len(run) < batch_size and now < closes:
                    window_closes = closes if window_closes is None else min(window_closes, closes)
                    break  # this priority waits for its batch; FIFO within it is kept
                # The run is contiguous but for finished entries: take the whole span.
                for _ in range(end - index):
                    del level[index]
                for item in run:
                    self._taken(item)
                return run, window_closes
        return [], window_closes

    def _batch_run(self, level: deque[Entry], start: int, limit: int) -> tuple[list[Entry], int]:
        """The batchable run starting at ``start``, and the index just past it."""
        first = level[start]
        run = [first]
        end = start + 1
        for entry in itertools.islice(level, start + 1, start + SCAN_LIMIT):
            if len(run) >= limit:
                break
            if entry.pending:
                if not entry.batch or entry.namespaces != first.namespaces:
                    break  # an unbatched event keeps its place after the run
                run.append(entry)
            end += 1
        return run, end

    def _taken(self, entry: Entry) -> None:
        self.queued -= 1
        entry.state = "sending"
        if entry.key is not None and self._keys.get(entry.key) is entry:
            del self._keys[entry.key]

    def sent(self, entry: Entry, now: float, ack_timeout: float) -> None:
        """``entry`` went out; with an ack it waits for it until ``now + ack_timeout``."""
        entry.attempts += 1
        if entry.ack:
            entry.state = "waiting"
            entry.timer_gen += 1
            self._timer(now + ack_timeout, ACK_DEADLINE, entry)
        else:
            self.finish(entry, "delivered", None)

    def back_off(self, entry: Entry, resend_at: float) -> None:
        entry.state = "backoff"
        entry.timer_gen += 1
        self._timer(resend_at, RESEND, entry)

    def requeue(self, entry: Entry) -> None:
        """Put an unacknowledged entry back at the head of its priority, to be resent."""
        entry.timer_gen += 1
        if entry.key is not None:
            newer = self._keys.get(entry.key)
            if newer is not None and newer is not entry:
                self.finish(entry, "dropped", "coalesced")
                return
            self._keys[entry.key] = entry
        entry.state = "queued"
        self._levels[entry.rank].appendleft(entry)
        self.queued += 1

    def finish(self, entry: Entry, state: State, reason: str | None) -> None:
        """Give ``entry`` its outcome (once) and forget it."""
        if entry.outcome is not None:
            return
        if entry.state == "queued" and self._pending.get(entry.seq) is entry:
            self.queued -= 1  # it stays in its FIFO until the sender skips it
            if entry.key is not None and self._keys.get(entry.key) is entry:
                del self._keys[entry.key]
        self._pending.pop(entry.seq, None)
        entry.state = state
        entry.outcome = Outcome(state, reason, entry.attempts)
        self._on_finish(entry)
        listeners, entry.listeners = entry.listeners, []
        for listener in listeners:
            listener()

    # Time

    def _timer(self, when: float, kind: int, entry: Entry) -> None:
        heapq.heappush(self._timers, (when, next(self._tiebreak), kind, entry.timer_gen, entry))

    def due(self, now: float) -> list[tuple[int, Entry]]:
        """Timers that are due and still mean something: (kind, entry), in time order."""
        fired = []
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, _, kind, gen, entry = heapq.heappop(timers)
            if not entry.pending:
                continue
            if kind != TTL and gen != entry.timer_gen:
                continue  # an ack or resend timer of an earlier attempt
            fired.append((kind, entry))
        return fired

    def next_timer(self) -> float | None:
        timers = self._timers
        while timers and not timers[0][4].pending:
            heapq.heappop(timers)  # drop stale heads so the emitter does not wake for them
        return timers[0][0] if timers else None

    def expire_offline(self, now: float, offline_since: float, offline_ttl: float) -> float | None:
        """While the user has no session: expire entries that waited ``offline_ttl``.

        An entry's offline wait starts when it was emitted or when the user went
        offline, whichever is later. Returns when the next one expires (None: none left).
        """
        pending = self._pending
        while pending:
            oldest = next(iter(pending.values()))
            expires = max(oldest.created, offline_since) + offline_ttl
            if expires > now:
                return expires
            self.finish(oldest, "expired", "offline")
        return None
