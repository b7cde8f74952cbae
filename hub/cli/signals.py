"""What the foreground hub does on each signal.

SIGTERM or SIGINT: drain gracefully (the hub stops accepting, tells every client it is
a server shutdown, flushes, waits up to the grace period). The same signal again, while
draining: stop now. SIGHUP: reload the reloadable settings and reopen the log file.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import AsyncIterable, Awaitable, Callable

import trio

log = logging.getLogger("hub.cli")

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


async def obey_signals(
    signals: AsyncIterable[int],
    nursery: trio.Nursery,
    drain: Callable[[], Awaitable[object]],
    reload: Callable[[], object],
) -> bool:
    """Act on ``signals`` until forced; True once a second stop signal cancelled ``nursery``.

    A graceful drain runs as a task of ``nursery``, so signals keep being read meanwhile;
    whoever sees the hub stopped cancels ``nursery``, which ends this loop too.
    """
    draining = False
    async for signum in signals:
        name = signal.Signals(signum).name
        if signum == signal.SIGHUP:
            reload()
        elif not draining:
            draining = True
            log.info("%s: shutting down gracefully", name)
            nursery.start_soon(drain)
        else:
            log.warning("%s while shutting down: forcing exit", name)
            nursery.cancel_scope.cancel()
            return True
    return False
