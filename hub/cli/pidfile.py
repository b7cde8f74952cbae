"""The PID file, and the JSON state the hub keeps beside it.

``hub.pid`` holds the PID alone, as tools expect (``kill $(cat hub.pid)``);
``hub.pid.json`` holds the rest: the process's start time (to tell a reused PID apart),
the address it listens on, when it started and how many clients it has.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from hub.cli.paths import state_file
from hub.cli.process import Liveness, liveness, process_start


@attrs.frozen
class Found:
    """What a PID file says: its PID, whether that process lives, and its state."""

    pid: int
    liveness: Liveness
    state: dict[str, Any]

    @property
    def alive(self) -> bool:
        return self.liveness is Liveness.ALIVE


class AlreadyRunning(Exception):
    def __init__(self, found: Found) -> None:
        super().__init__(f"pid {found.pid}")
        self.found = found


def _write_atomically(path: Path, text: str) -> None:
    # Readers see the old content or the new, never a half-written file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


class PidFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.state_path = state_file(path)

    def read_state(self) -> dict[str, Any]:
        try:
            state = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def inspect(self) -> Found | None:
        """The PID file's owner, or None when there is no PID file."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        try:
            pid = int(text.strip())
        except ValueError:
            return Found(0, Liveness.DEAD, {})  # unreadable: nobody we could signal
        state = self.read_state()
        if state.get("pid") != pid:
            state = {}  # left by another process: says nothing about this one
        return Found(pid, liveness(pid, state.get("process_start")), state)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # Check-then-replace must not interleave with another starter's: lock the folder
        # (a lock file of our own would be one more file to leave behind).
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            yield
        finally:
            os.close(folder)

    def acquire(self) -> Found | None:
        """Record this process as the hub; returns the stale owner it replaced, if any.

        Raises ``AlreadyRunning`` while the recorded process lives.
        """
        with self._locked():
            found = self.inspect()
            if found is not None and found.alive:
                raise AlreadyRunning(found)
            pid = os.getpid()
            _write_atomically(self.path, f"{pid}\n")
            self.write_state({"pid": pid, "process_start": process_start(pid)})
        return found

    def write_state(self, state: dict[str, Any]) -> None:
        _write_atomically(self.state_path, json.dumps(state, indent=1) + "\n")

    def update_state(self, **fields: Any) -> None:
        self.write_state(self.read_state() | fields)

    def release(self) -> None:
        """Remove both files, if they still name this process."""
        with self._locked():
            found = self.inspect()
            if found is not None and found.pid == os.getpid():
                self._remove()

    def remove_stale(self) -> Found | None:
        """Remove the files if their process is gone; returns what was removed."""
        with self._locked():
            found = self.inspect()
            if found is None or found.alive:
                return None
            self._remove()
            return found

    def _remove(self) -> None:
        self.path.unlink(missing_ok=True)
        self.state_path.unlink(missing_ok=True)
