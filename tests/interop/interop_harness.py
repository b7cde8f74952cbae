"""The interop tests' plumbing: hub server subprocesses and the Node scenario runner.

A server is started on 127.0.0.1 with port 0, found ready by its
``hub listening on http://127.0.0.1:PORT`` line (bounded wait), and stopped by its PID
(SIGTERM, then SIGKILL). The fixtures in ``conftest.py`` make sure every one is stopped.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

INTEROP_DIR = Path(__file__).resolve().parent
REPO_ROOT = INTEROP_DIR.parents[1]
APP = INTEROP_DIR / "app.py"
JS_DIR = INTEROP_DIR / "js"
SOCKET_IO_CLIENT = JS_DIR / "node_modules" / "socket.io-client" / "package.json"

READY_LINE = re.compile(r"hub listening on (http://127\.0\.0\.1:(\d+))\s*")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
NODE_TIMEOUT = 60.0


class HubProcess:
    """One hub server subprocess, started and stopped by PID."""

    def __init__(self, name: str, argv: list[str], stderr_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.stderr_path = stderr_path
        self.url = ""
        self.port = 0
        self.returncode: int | None = None
        self.stdout_lines: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        env["PYTHONUNBUFFERED"] = "1"
        with stderr_path.open("wb") as stderr:
            self.proc = subprocess.Popen(
                argv,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        assert self.proc.stdout is not None
        self._reader = threading.Thread(
            target=self._read, args=(self.proc.stdout,), name=f"{name}-stdout", daemon=True
        )
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> str:
        """Wait (bounded) for the ready line; returns the URL."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no ready line within {timeout:.0f}s")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"closed its stdout before it was ready ({self.proc.poll()=})")
            self.stdout_lines.append(line)
            match = READY_LINE.fullmatch(line)
            if match:
                self.url, self.port = match[1], int(match[2])
                return self.url

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int:
        """SIGTERM, bounded wait, then SIGKILL; returns the exit status (idempotent)."""
        if self.returncode is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(STOP_TIMEOUT)
            self.returncode = self.proc.returncode
            self._reader.join(STOP_TIMEOUT)
            assert self.proc.stdout is not None
            if not self._reader.is_alive():  # else a descendant holds the pipe: leave it be
                self.proc.stdout.close()
            while True:
                try:
                    line = self._lines.get_nowait()
                except queue.Empty:
                    break
                if line is not None:
                    self.stdout_lines.append(line)
        return self.returncode

    def describe(self) -> str:
        return (
            f"{self.name}: {' '.join(self.argv)} (pid {self.proc.pid}, status {self.returncode})\n"
            f"--- stdout ---\n{''.join(self.stdout_lines)}--- stderr ---\n{self.stderr()}"
        )


def hub_argv(kind: str, *extra: str) -> list[str]:
    """The command line of an ``"app"`` (tests/interop/app.py) or ``"standalone"`` hub.

    The standalone hub lets clients publish (``client_publish``): the scenarios use it."""
    if kind == "app":
        return [sys.executable, str(APP), "--host", "127.0.0.1", "--port", "0", *extra]
    if kind == "standalone":
        local = ["--host", "127.0.0.1", "--port", "0", "--client-publish", "true"]
        return [sys.executable, "-m", "hub", *local, *extra]
    raise ValueError(f"unknown hub kind {kind!r}")


SpawnHub = Callable[..., HubProcess]
NodeScenario = Callable[..., dict[str, Any]]


def decode_binary(value: Any) -> Any:
    """The Node scenarios write binary values as ``{"$bin": hex}``: turn them into bytes."""
    if isinstance(value, list):
        return [decode_binary(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"$bin"}:
            return bytes.fromhex(value["$bin"])
        return {key: decode_binary(item) for key, item in value.items()}
    return value


class ScenarioFailed(Exception):
    """A Node scenario did not run to its end; the message holds its output."""


NPM_CI = "npm ci --prefix tests/interop/js"


def require_node() -> str:
    """The ``node`` executable; ``ScenarioFailed`` if it or the npm dependencies are missing."""
    node = shutil.which("node")
    if node is None:
        raise ScenarioFailed("`node` is not on PATH: the Node interop tests need Node 18+")
    if not SOCKET_IO_CLIENT.is_file():
        raise ScenarioFailed(f"{SOCKET_IO_CLIENT.parent} is missing: run `{NPM_CI}` before pytest")
    return node


def run_node(node: str, script: str, url: str, *args: str, timeout: float = NODE_TIMEOUT) -> Any:
    """Run one scenario with ``node`` (killed after ``timeout``); its JSON result line."""
    argv = [node, str(JS_DIR / script), url, *args]
    try:
        done = subprocess.run(
            argv,
            cwd=JS_DIR,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ScenarioFailed(
            f"{script} still running after {timeout:.0f}s, killed: {exc}"
        ) from None
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        result = None
    if done.returncode != 0 or not isinstance(result, dict):
        raise ScenarioFailed(
            f"{' '.join(argv)} failed (exit {done.returncode})\n"
            f"--- stdout ---\n{done.stdout}--- stderr ---\n{done.stderr}"
        )
    return decode_binary(result)
