"""A namespace's broadcast history: offsets, bounded storage, and "what came after X".

Theory: every stored broadcast gets the next sequence number of its namespace, so the
entries in the buffer are contiguous and an offset maps to a position by subtraction.
An offset is the opaque string ``"<boot>-<seq>"``: ``boot`` is random per hub instance,
so an offset from another process (or an earlier run) is never mistaken for one of ours.
Trimming drops the oldest entries first (count, bytes, age); asking for what followed an
offset whose successor was trimmed reports the gap instead of silently skipping it.
Time is an input: callers pass ``now``.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Iterable
from typing import Any

import attrs

from hub.protocol.outgoing import Outgoing


def new_boot_id() -> str:
    return secrets.token_hex(4)


@attrs.frozen
class Stored:
    """One broadcast as it was addressed and encoded."""

    seq: int
    offset: str
    event: str
    args: tuple[Any, ...]
    rooms: frozenset[str] | None  # None: the whole namespace
    except_: frozenset[str]
    packet: Outgoing
    size: int
    at: float

    def reaches(self, rooms: Iterable[str]) -> bool:
        """Whether a member of ``rooms`` (its own sid among them) was addressed."""
        rooms = set(rooms)
        included = self.rooms is None or not self.rooms.isdisjoint(rooms)
        return included and self.except_.isdisjoint(rooms)


@attrs.frozen
class Slice:
    """Entries after an offset, and whether they are all there are (no gap)."""

    entries: list[Stored]
    complete: bool


class History:
    def __init__(self, boot: str) -> None:
        self.boot = boot
        self._entries: deque[Stored] = deque()
        self._next_seq = 1
        self._bytes = 0
        self.dropped = 0

    @property
    def latest(self) -> str:
        """The offset of the newest event ever stored (``<boot>-0`` before any)."""
        return f"{self.boot}-{self._next_seq - 1}"

    def __len__(self) -> int:
        return len(self._entries)

    def next_offset(self) -> tuple[int, str]:
        seq = self._next_seq
        self._next_seq += 1
        return seq, f"{self.boot}-{seq}"

    def append(self, entry: Stored, *, max_events: int, max_bytes: int, max_age: float) -> None:
        self._entries.append(entry)
        self._bytes += entry.size
        self.trim(entry.at, max_events=max_events, max_bytes=max_bytes, max_age=max_age)

    def trim(self, now: float, *, max_events: int, max_bytes: int, max_age: float) -> None:
        entries = self._entries
        while entries and (
            len(entries) > max_events or self._bytes > max_bytes or entries[0].at < now - max_age
        ):
            self._bytes -= entries.popleft().size
            self.dropped += 1

    def after(self, offset: str | None, limit: int | None = None) -> Slice:
        """Entries newer than ``offset`` (all entries for None), oldest first."""
        entries = self._entries
        if offset is None:
            found = list(entries)
            return Slice(found[:limit] if limit is not None else found, True)
        seq = self._seq_of(offset)
        first = entries[0].seq if entries else self._next_seq
        if seq is None or seq >= self._next_seq or seq + 1 < first:
            return Slice([], False)
        start = seq + 1 - first
        stop = len(entries) if limit is None else min(len(entries), start + limit)
        return Slice([entries[i] for i in range(start, stop)], True)

    def _seq_of(self, offset: str) -> int | None:
        boot, _, seq = offset.rpartition("-")
        if boot != self.boot or not seq.isdigit():
            return None
        return int(seq)
