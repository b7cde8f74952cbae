"""Fixtures for the publisher tests: `python -m hub` in real subprocesses.

A hub is started on a given port (or a free one picked first, so it can be restarted on
the same port), found ready by its ``hub listening on http://HOST:PORT`` line (bounded
wait) and stopped by its PID: SIGTERM, a bounded wait, then SIGKILL. Every hub a test
started is stopped at teardown, whatever the test did. Each runs in a private
environment: no inherited HUB_* variables, XDG folders under the test's tmp_path.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from hub.publisher import Publisher

KEY = "k"
READY = re.compile(r"hub listening on (http://127\.0\.0\.1:(\d+))\s*")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick), for a hub to take and take again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class HubServer:
    """One `python -m hub run` subprocess, stopped by its PID."""

    def __init__(self, port: int, env: dict[str, str], stderr: Path, *args: str) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "hub", "run", "--host", "127.0.0.1", "--port", str(port)]
        with stderr.open("ab") as errors:
            self.process = subprocess.Popen(
                [*argv, "--shutdown-grace", "2", *args],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        assert self.process.stdout is not None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,))
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def wait_ready(self) -> None:
        while True:
            try:
                line = self._lines.get(timeout=START_TIMEOUT)
            except queue.Empty:
                raise TimeoutError(f"no ready line within {START_TIMEOUT:.0f} s") from None
            if line is None:
                raise RuntimeError(f"the hub exited before it was ready: {self.process.poll()}")
            match = READY.fullmatch(line)
            if match:
                assert int(match[2]) == self.port
                return

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; the exit status. Idempotent."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_TIMEOUT)
        self._reader.join(STOP_TIMEOUT)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return self.process.returncode


class Hubs:
    """Starts hubs for one test; ``stop_all`` stops each by its PID."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[HubServer] = []
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("HUB_")}
        self.env |= {
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "XDG_RUNTIME_DIR": str(tmp_path / "run"),
            "HUB_API_KEYS": KEY,
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, port: int | None = None, *args: str) -> HubServer:
        server = HubServer(port or free_port(), self.env, self.tmp_path / "hub.stderr", *args)
        self.started.append(server)
        try:
            server.wait_ready()
        except (TimeoutError, RuntimeError) as error:
            server.stop()
            pytest.fail(f"the hub did not start: {error}\n{self.stderr()}", pytrace=False)
        return server

    def stderr(self) -> str:
        path = self.tmp_path / "hub.stderr"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop_all(self) -> None:
        with contextlib.ExitStack() as stops:  # each is stopped, even if one stop fails
            for server in self.started:
                stops.callback(server.stop)


@pytest.fixture
def hubs(tmp_path: Path) -> Iterator[Hubs]:
    box = Hubs(tmp_path)
    try:
        yield box
    finally:
        box.stop_all()


@pytest.fixture
def publishers() -> Iterator[list[Publisher]]:
    """Publishers a test made; each is closed at teardown (threads joined, sockets closed)."""
    made: list[Publisher] = []
    try:
        yield made
    finally:
        for publisher in made:
            publisher.close(timeout=1.0)
