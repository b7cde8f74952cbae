"""Sessions that ended involuntarily, kept for a while so their client can resume them.

Follows Socket.IO's connection state recovery: only involuntary disconnects are kept,
for ``window`` seconds; a resumed session keeps its sid, pid, rooms and data.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import attrs

# Reasons a client did not choose; only these sessions may be resumed.
RECOVERABLE_REASONS = frozenset(
    {"transport close", "transport error", "ping timeout", "server shutting down", "slow consumer"}
)


@attrs.frozen
class Persisted:
    sid: str
    pid: str
    rooms: frozenset[str]
    data: dict[str, Any]
    # The history offset when the session connected: where a client that never got an
    # offset-tagged event resumes from.
    joined_at: str | None
    disconnected_at: float
    # The user of a session that connected with a token: only that user may resume it.
    user_id: str | None = None


class Vault:
    """Persisted sessions by pid, oldest first, forgotten once their window passes."""

    def __init__(self) -> None:
        self._sessions: OrderedDict[str, Persisted] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def keep(self, session: Persisted, now: float, window: float) -> None:
        self.expire(now, window)
        self._sessions[session.pid] = session

    def take(self, pid: str, now: float, window: float) -> Persisted | None:
        """The session ``pid`` names, if still within its window; it is removed either way."""
        self.expire(now, window)
        return self._sessions.pop(pid, None)

    def expire(self, now: float, window: float) -> None:
        sessions = self._sessions
        while sessions:
            oldest = next(iter(sessions.values()))
            if oldest.disconnected_at + window >= now:
                break
            sessions.popitem(last=False)
