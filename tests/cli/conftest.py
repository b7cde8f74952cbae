"""Fixtures for the CLI tests: `python -m hub` in real subprocesses, in a private sandbox.

Each test gets its own config, state and runtime folders (through the XDG variables) and
no inherited HUB_* variables. Every hub a test starts, in the foreground or as a daemon,
is killed by its PID at teardown if it still runs, whatever the test did.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from hub.cli.pidfile import PidFile
from hub.cli.process import Liveness, liveness

COMMAND_TIMEOUT = 30


@attrs.define
class Sandbox:
    """Runs `python -m hub` commands in an isolated environment and cleans up after them."""

    root: Path
    env: dict[str, str]
    pids: list[tuple[int, str | None]] = attrs.field(factory=list)
    children: list[subprocess.Popen[str]] = attrs.field(factory=list)

    @property
    def pid_file(self) -> Path:
        return self.root / "run" / "hub" / "hub.pid"

    @property
    def log_file(self) -> Path:
        return self.root / "state" / "hub" / "hub.log"

    @property
    def config_file(self) -> Path:
        return self.root / "config" / "hub" / "hub.toml"

    def hub(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run one command to its end; `--port 0` is the sandbox's default."""
        result = subprocess.run(
            [sys.executable, "-m", "hub", *args],
            env=self.env | env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        self.track(self.pid_file)
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """A foreground hub; stdout is a pipe, to read its ready line."""
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self.children.append(process)
        return process

    def track(self, pid_file: Path) -> None:
        """Remember the hub a PID file names, to kill it at teardown if it still runs."""
        found = PidFile(pid_file).inspect()
        if found is not None and found.alive:
            self.pids.append((found.pid, found.state.get("process_start")))

    def kill_all(self) -> None:
        self.track(self.pid_file)
        for pid, start in self.pids:
            if liveness(pid, start) is Liveness.ALIVE:
                os.kill(pid, signal.SIGKILL)
        for child in self.children:
            if child.poll() is None:
                child.kill()
            child.communicate(timeout=COMMAND_TIMEOUT)  # reaps it and closes its pipes


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[str]]:
    """A live process that is not a hub and ignores SIGTERM: a stand-in for a reused PID."""
    code = (
        "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == "ready\n"  # SIGTERM is ignored from now on
            yield process
        finally:
            process.kill()
            process.wait(timeout=COMMAND_TIMEOUT)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HUB_")}
    env |= {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "HUB_PORT": "0",
        "HUB_HOST": "127.0.0.1",
    }
    box = Sandbox(tmp_path, env)
    try:
        yield box
    finally:
        box.kill_all()
