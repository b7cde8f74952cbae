"""Sessions whose token expires: ended with ``token_expired`` unless refreshed in time.

One task per hub (started on the first token with an expiry, ended once no watched
session is left) sleeps until the earliest expiry; a refresh just moves
``session.claims``, and the stale entry is skipped.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
import weakref
from typing import TYPE_CHECKING

import anyio

from hub.errors import AuthError

if TYPE_CHECKING:
    from hub.core.hub import Hub
    from hub.core.session import Session

log = logging.getLogger("hub")

# Sleep at most this long, so a clock step or a hub restart is noticed soon.
MAX_NAP = 5.0


class ExpiryWatch:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._due: list[tuple[float, int, weakref.ref[Session]]] = []
        self._order = itertools.count()
        self._running = False
        self._wake: anyio.Event | None = None
        # Connected sessions being watched; entries of the others are dropped in bulk.
        self._watched: weakref.WeakSet[Session] = weakref.WeakSet()

    def watch(self, session: Session) -> None:
        """End ``session`` when its claims expire (plus the leeway), unless refreshed.

        Held weakly: a session that ended is forgotten, not kept until its expiry."""
        claims = session.claims
        if claims is None or claims.expires_at is None:
            return
        deadline = claims.expires_at + self._hub.config.jwt_leeway
        heapq.heappush(self._due, (deadline, next(self._order), weakref.ref(session)))
        self._watched.add(session)
        if self._wake is not None and deadline <= self._due[0][0]:
            self._wake.set()
        if not self._running and self._hub.spawn is not None:
            self._running = self._hub.spawn(self._run)

    def forget(self, session: Session) -> None:
        """``session`` ended: stop watching it (the task ends when none is left)."""
        if session not in self._watched:
            return
        self._watched.discard(session)
        if not self._watched:
            self._due.clear()
        elif len(self._due) > 2 * len(self._watched) + 64:
            # Amortized: entries of ended sessions never outnumber live ones for long.
            self._due = [entry for entry in self._due if entry[2]() in self._watched]
            heapq.heapify(self._due)
        else:
            return
        if self._wake is not None:
            self._wake.set()

    async def _run(self) -> None:
        try:
            while self._due:
                now = time.time()
                while self._due and self._due[0][0] <= now:
                    _, _, ref = heapq.heappop(self._due)
                    session = ref()
                    if session is not None:
                        try:
                            await self._expire(session, now)
                        except Exception:
                            self._hub.counters.errors["expiry"] += 1
                            log.exception("ending the expired session %r failed", session)
                if not self._due:
                    break
                self._wake = anyio.Event()
                # Each pass re-reads the heap: ``forget`` may have replaced or emptied it.
                with anyio.move_on_after(min(self._due[0][0] - now, MAX_NAP)):
                    await self._wake.wait()
        finally:
            # Never started again from here: this only ends early when the server stops
            # (cancelled), and a task spawned into a cancelled nursery would end and spawn
            # again forever. The next ``watch`` starts a new one.
            self._running, self._wake = False, None

    async def _expire(self, session: Session, now: float) -> None:
        claims = session.claims
        if not session.connected or claims is None or claims.expires_at is None:
            return
        if claims.expires_at + self._hub.config.jwt_leeway > now:
            return  # refreshed since this entry was made; a newer entry is queued
        self._hub.counters.errors["token_expired"] += 1
        log.info(
            "remote=%s sid=%s namespace=%s user=%s token expired",
            session.client.remote,
            session.sid,
            session.namespace.name,
            session.user_id,
        )
        session.send_error(AuthError("the token has expired", "token_expired"))
        await session.disconnect("token expired")
