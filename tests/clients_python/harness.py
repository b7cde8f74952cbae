"""Plumbing of the Python client's tests: servers (the interop and recovery harnesses'
processes, stopped by PID), running a scenario under one anyio backend, the hub's HTTP
API, and recording what handlers get."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx

from tests.interop.interop_harness import START_TIMEOUT, HubProcess, hub_argv
from tests.recovery.harness import Processes

T = TypeVar("T")

HERE = Path(__file__).resolve().parent
PSIO_APP = HERE / "psio_app.py"
PSIO_LINE = re.compile(r"python-socketio listening on (http://127\.0\.0\.1:(\d+))\s*")

SCENARIO_TIMEOUT = 40.0  # one whole test
STEP = 10.0  # one wait for something that should come at once
API_KEY = "client-tests-key"
AUTH = {"token": "secret"}  # what tests/interop/app.py's /test namespace wants
# What its "whoami" echoes: the token is a sensitive key, redacted on the way out.
ECHOED = {"token": "[redacted]"}


def run(backend: str, scenario: Callable[[], Awaitable[T]]) -> T:
    """Runs ``scenario`` under ``backend`` ("trio" or "asyncio"), bounded in time."""

    async def bounded() -> T:
        with anyio.fail_after(SCENARIO_TIMEOUT):
            return await scenario()

    return anyio.run(bounded, backend=backend)


class PsioProcess(HubProcess):
    """``psio_app.py``: python-socketio, found ready by its own listening line."""

    def wait_ready(self, timeout: float = START_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except Exception:  # queue.Empty
                continue
            if line is None:
                raise RuntimeError(f"closed its stdout before it was ready ({self.proc.poll()=})")
            self.stdout_lines.append(line)
            if match := PSIO_LINE.fullmatch(line):
                self.url, self.port = match[1], int(match[2])
                return self.url
        raise TimeoutError(f"no ready line within {timeout:.0f}s")


class Servers(Processes):
    """The recovery tests' process keeper, with the interop app and python-socketio."""

    def interop_app(self, *extra: str) -> HubProcess:
        """``tests/interop/app.py`` (namespaces ``/`` and ``/test``); ``--port`` to pick one."""
        name = f"interop-app-{next(self.numbers)}"
        return self._start(HubProcess(name, hub_argv("app", *extra), self._stderr(name)))

    def psio(self, *extra: str) -> PsioProcess:
        name = f"psio-{next(self.numbers)}"
        argv = [sys.executable, str(PSIO_APP), "--host", "127.0.0.1", "--port", "0", *extra]
        return self._start(PsioProcess(name, argv, self._stderr(name)))


async def api(url: str, path: str, body: Any = None) -> Any:
    """A request to the hub's HTTP API (POST with a body, else GET); its JSON answer."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=STEP) as http:
        if body is None:
            response = await http.get(path)
        else:
            response = await http.post(path, json=body)
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response.json()


async def publish(url: str, event: str, data: Any, room: str) -> str:
    """Publishes ``event(data)`` to ``room`` through the HTTP API; the event's offset."""
    answer = await api(url, "/api/publish", {"event": event, "data": data, "room": room})
    offset: str = answer["offset"]
    return offset


async def emit_to_user(url: str, user: str, event: str, data: Any, **options: Any) -> Any:
    body = {"event": event, "data": data, **options}
    return await api(url, f"/api/users/{user}/emit", body)


class Recorder:
    """A handler that records what it gets; ``wait(n)`` until it has ``n`` (bounded)."""

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self._changed: anyio.Event | None = None

    def __call__(self, *args: Any) -> None:
        self.calls.append(args[0] if len(args) == 1 else args)
        if self._changed is not None:
            self._changed.set()

    async def wait(self, count: int, timeout: float = STEP) -> list[Any]:
        with anyio.fail_after(timeout):
            while len(self.calls) < count:
                self._changed = anyio.Event()
                await self._changed.wait()
        return self.calls


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = STEP) -> None:
    """Polls ``check`` (something another process owns) until it holds, bounded."""
    deadline = time.monotonic() + timeout
    for _ in range(10_000):
        if await check():
            return
        if time.monotonic() > deadline:
            break
        await anyio.sleep(0.05)
    raise AssertionError(f"still not true after {timeout} s")


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
