"""Room membership of one namespace: pure bookkeeping, no I/O.

Members are kept in dicts used as ordered sets, so a broadcast reaches them in join order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

M = TypeVar("M")


class Rooms(Generic[M]):
    def __init__(self) -> None:
        self._members: dict[str, dict[M, None]] = {}

    def add(self, member: M, room: str) -> None:
        self._members.setdefault(room, {})[member] = None

    def discard(self, member: M, room: str) -> None:
        members = self._members.get(room)
        if members is not None:
            members.pop(member, None)
            if not members:
                del self._members[room]

    def members(self, room: str) -> Iterable[M]:
        return self._members.get(room, {}).keys()

    def sizes(self) -> dict[str, int]:
        return {room: len(members) for room, members in self._members.items()}

    def __contains__(self, room: str) -> bool:
        return room in self._members
