"""Is a PID a live process, and is it still the one that wrote our PID file?

A PID file outlives a crash, and the kernel reuses PIDs: liveness alone would take
an unrelated program for the hub. Linux records each process's start time (in clock
ticks since boot, ``/proc/PID/stat``); the hub writes its own beside its PID, so a
different start time means the PID now belongs to someone else. Where there is no
``/proc``, liveness is all there is to check.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path


class Liveness(enum.Enum):
    ALIVE = "alive"
    DEAD = "no such process"
    REUSED = "PID reused by another program"


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return text.rpartition(")")[2].split()


def process_start(pid: int) -> str | None:
    """When ``pid`` started, in clock ticks since boot; None where it cannot be told."""
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None  # field 22 of stat(5)


def liveness(pid: int, recorded_start: str | None) -> Liveness:
    """Whether ``pid`` runs and, if its start time was recorded, is the same process."""
    if pid <= 0 or pid == os.getpid():
        return Liveness.REUSED if pid == os.getpid() else Liveness.DEAD
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return Liveness.DEAD
    except PermissionError:
        # It exists, under another user: go on to tell whether it is the same process.
        ...
    fields = _stat_fields(pid)
    if fields and fields[0] in ("Z", "X"):
        return Liveness.DEAD  # exited, not yet reaped by its parent
    current = fields[19] if fields and len(fields) > 19 else None
    if recorded_start is not None and current is not None and current != recorded_start:
        return Liveness.REUSED
    return Liveness.ALIVE
