"""The recovery tests' plumbing: the recovery app, the fault proxy, headless Chromium, and
the Node scenario runner.

Every process here binds 127.0.0.1 only, on ephemeral ports, and is stopped by its PID
(SIGTERM, bounded wait, SIGKILL); the fixtures in ``conftest.py`` make sure each one is,
whatever the test did. Chromium runs in a session of its own and is stopped by its
process group (its PID), so its helper processes go too.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.interop.interop_harness import (
    JS_DIR,
    START_TIMEOUT,
    STOP_TIMEOUT,
    HubProcess,
    ScenarioFailed,
    hub_argv,
    require_node,
    run_node,
)

RECOVERY_DIR = Path(__file__).resolve().parent
APP = RECOVERY_DIR / "recovery_app.py"
PROXY = RECOVERY_DIR / "faultproxy.py"
CHROMIUM = Path("/usr/bin/chromium")
PLAYWRIGHT = JS_DIR / "node_modules" / "playwright-core" / "package.json"
BROWSER_BUNDLE = JS_DIR / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
Scenario = Callable[..., dict[str, Any]]
P = TypeVar("P", bound=HubProcess)
SCENARIO_TIMEOUT = 45.0  # a scenario's own watchdog (lib.mjs) fires at 30 s

PROXY_LINE = re.compile(r"faultproxy listening on 127\.0\.0\.1:(\d+) control 127\.0\.0\.1:(\d+)\s*")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


def app_argv(*extra: str) -> list[str]:
    """The command line of ``tests/recovery/recovery_app.py`` on an ephemeral port."""
    return [sys.executable, str(APP), "--host", "127.0.0.1", "--port", "0", *extra]


def standalone_argv(*extra: str) -> list[str]:
    """The command line of ``python -m hub`` on an ephemeral port."""
    return hub_argv("standalone", *extra)


class ProxyProcess(HubProcess):
    """``faultproxy.py`` in a subprocess: its client port, its control port, its commands."""

    control_port = 0

    def wait_ready(self, timeout: float = START_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"closed its stdout before it was ready ({self.proc.poll()=})")
            self.stdout_lines.append(line)
            if match := PROXY_LINE.fullmatch(line):
                self.port, self.control_port = int(match[1]), int(match[2])
                self.url = f"http://127.0.0.1:{self.port}"
                return self.url
        raise TimeoutError(f"no ready line within {timeout:.0f}s")

    def command(self, command: str, timeout: float = 10.0) -> dict[str, Any]:
        """Sends one control command (``cut``, ``stats``); its JSON answer."""
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=timeout) as conn:
            conn.sendall(command.encode() + b"\n")
            data = b""
            while chunk := conn.recv(4096):
                data += chunk
        answer: dict[str, Any] = json.loads(data)
        return answer


class ChromiumProcess:
    """Debian's headless Chromium with a DevTools endpoint on 127.0.0.1 (ephemeral port)."""

    def __init__(self, profile: Path, log: Path) -> None:
        self.profile = profile
        self.log = log
        self.endpoint = ""
        self.returncode: int | None = None
        argv = [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"]
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped whole by its PID
            )

    def wait_ready(self, timeout: float = START_TIMEOUT) -> str:
        """Waits (bounded) for ``DevToolsActivePort``; returns the browser's CDP URL."""
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode}")
            with contextlib.suppress(OSError):
                lines = port_file.read_text().split()
                if len(lines) == 2:
                    self.endpoint = f"ws://127.0.0.1:{lines[0]}{lines[1]}"
                    return self.endpoint
            time.sleep(0.05)
        raise TimeoutError(f"chromium wrote no {port_file.name} within {timeout:.0f}s")

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signum)

    def stop(self) -> int:
        """SIGTERM to its process group, bounded wait, then SIGKILL (idempotent)."""
        if self.returncode is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(STOP_TIMEOUT)
            self._signal_group(signal.SIGKILL)  # helpers that outlived the browser process
            self.returncode = self.proc.returncode
        return self.returncode

    def describe(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"chromium (pid {self.proc.pid}, status {self.returncode})\n{text[-4000:]}"


def require_chromium() -> None:
    """``ScenarioFailed`` unless Chromium, playwright-core and the browser bundle are there."""
    if not os.access(CHROMIUM, os.X_OK):
        raise ScenarioFailed(
            f"{CHROMIUM} is missing: install Debian's `chromium` (scripts/test does)"
        )
    for path in (PLAYWRIGHT.parent, BROWSER_BUNDLE):
        if not path.exists():
            raise ScenarioFailed(f"{path} is missing: run `npm ci --prefix tests/interop/js`")


def run_scenario(script: str, url: str, *args: str | dict[str, Any]) -> dict[str, Any]:
    """Runs ``tests/interop/js/<script>`` with ``node``; dict arguments go as JSON."""
    argv = [json.dumps(arg) if isinstance(arg, dict) else arg for arg in args]
    result: dict[str, Any] = run_node(require_node(), script, url, *argv, timeout=SCENARIO_TIMEOUT)
    return result


class Processes:
    """Starts hubs and proxies; stops every one of them by PID on ``close()``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.stops = contextlib.ExitStack()
        self.numbers = itertools.count()

    def _start(self, process: P) -> P:
        def stop() -> None:
            process.stop()
            print(process.describe())

        self.stops.callback(stop)
        try:
            process.wait_ready()
        except (TimeoutError, RuntimeError) as exc:
            process.stop()
            pytest.fail(f"{process.name} did not start: {exc}\n{process.describe()}", pytrace=False)
        return process

    def _stderr(self, name: str) -> Path:
        return self.folder / f"{name}.stderr"

    def app(self, *extra: str) -> HubProcess:
        """``tests/recovery/recovery_app.py`` (recovery on, 120 s unless ``--recovery``)."""
        name = f"app-{next(self.numbers)}"
        return self._start(HubProcess(name, app_argv(*extra), self._stderr(name)))

    def standalone(self, *extra: str) -> HubProcess:
        """``python -m hub`` with these flags."""
        name = f"standalone-{next(self.numbers)}"
        return self._start(HubProcess(name, standalone_argv(*extra), self._stderr(name)))

    def proxy(self, target: HubProcess) -> ProxyProcess:
        """A fault proxy in front of ``target``."""
        name = f"proxy-{next(self.numbers)}"
        argv = [sys.executable, str(PROXY), "--target-port", str(target.port)]
        return self._start(ProxyProcess(name, argv, self._stderr(name)))

    def close(self) -> None:
        self.stops.close()


class Browser:
    """One headless Chromium for the session, started by the first test that asks."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process: ChromiumProcess | None = None
        self.problem = ""

    def endpoint(self) -> str:
        """The DevTools URL; fails the calling test if Chromium is missing or won't start."""
        try:
            require_chromium()
        except ScenarioFailed as exc:
            pytest.fail(str(exc), pytrace=False)
        if self.problem:
            pytest.fail(self.problem, pytrace=False)
        if self.process is None:
            self.process = ChromiumProcess(self.folder / "profile", self.folder / "chromium.log")
            try:
                self.process.wait_ready()
            except (TimeoutError, RuntimeError) as exc:
                self.process.stop()
                self.problem = f"chromium did not start: {exc}\n{self.process.describe()}"
                pytest.fail(self.problem, pytrace=False)
        return self.process.endpoint

    def close(self) -> None:
        if self.process is not None:
            self.process.stop()
