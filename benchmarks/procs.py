"""Server subprocesses for the benchmark: start pinned to a CPU, probe via /proc, stop.

Each server is a child process with ``PR_SET_PDEATHSIG`` set, so even a benchmark killed
with SIGKILL leaves no server behind; the normal path is ``ServerProcess.stop``: SIGTERM,
then SIGKILL after a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import re
import signal
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
_LISTENING = re.compile(rb"listening on http://([0-9.]+):(\d+)")
_PR_SET_PDEATHSIG = 1
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

SERVER_COMMANDS: dict[str, list[str]] = {
    "hub": [sys.executable, "-m", "hub", "--host", "127.0.0.1", "--port", "0"],
    "python-socketio": [
        sys.executable,
        str(BENCH_DIR / "psio_server.py"),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
    ],
}


# The hub's limits are for hostile peers; the load generator is a friendly one that opens
# a thousand connections from one address and publishes as fast as acks come back. Given
# as environment variables, which a hub from an older ``--hub-src`` simply ignores.
HUB_BENCH_ENV = {
    "HUB_CLIENT_PUBLISH": "true",
    "HUB_MAX_CONNECTIONS_PER_IP": "0",
    "HUB_EVENT_RATE": "1000000",
    "HUB_EVENT_BURST": "1000000",
}


class ServerStartError(Exception):
    """The server exited or never printed its listening line."""


@dataclass(frozen=True)
class StopResult:
    returncode: int | None
    seconds: float
    killed: bool
    was_running: bool  # False: it had already exited (crashed) before being stopped

    def describe(self) -> str:
        if not self.was_running:
            return f"had already exited with rc {self.returncode} before SIGTERM"
        if self.killed:
            return f"ignored SIGTERM for {self.seconds:.1f} s; SIGKILLed (rc {self.returncode})"
        return f"SIGTERM -> exited with rc {self.returncode} in {self.seconds:.2f} s"

    @property
    def clean(self) -> bool:
        return self.was_running and not self.killed and self.returncode in (0, -signal.SIGTERM)


def _child_setup(cpu: int) -> None:
    """Runs in the forked child before exec: pin to ``cpu`` and die with the parent."""
    os.sched_setaffinity(0, {cpu})
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of all threads of ``pid`` (/proc/<pid>/stat fields 14, 15)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


@dataclass(frozen=True)
class CoreTicks:
    """Clock ticks one CPU spent since boot, from /proc/stat."""

    busy: int
    softirq: int  # loopback TCP receive work lands here, on the sending CPU
    total: int

    def percent_since(self, earlier: CoreTicks) -> tuple[float, float]:
        """(busy %, softirq %) of this CPU between ``earlier`` and now."""
        elapsed = self.total - earlier.total
        if elapsed <= 0:
            return 0.0, 0.0
        busy = 100 * (self.busy - earlier.busy) / elapsed
        return busy, 100 * (self.softirq - earlier.softirq) / elapsed


def core_ticks(cpu: int) -> CoreTicks:
    prefix = f"cpu{cpu} "
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(prefix):
            # user nice system idle iowait irq softirq steal [guest guest_nice]; guest
            # time is already counted in user and nice.
            ticks = [int(v) for v in line.split()[1:9]]
            total = sum(ticks)
            return CoreTicks(total - ticks[3] - ticks[4], ticks[6], total)
    raise ValueError(f"no cpu{cpu} in /proc/stat")


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    # Kernel threads and zombies have no VmRSS; statm is the fallback.
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_KIB


class ServerProcess:
    """A running server: its pid, address, and the tail of what it printed."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process, stderr_path: Path) -> None:
        self.name = name
        self.proc = proc
        self.pid = proc.pid
        self.host = ""
        self.port = 0
        self.stdout_tail: deque[str] = deque(maxlen=50)
        self.stderr_path = stderr_path
        self._drain: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls,
        name: str,
        cpu: int,
        cwd: Path = REPO_ROOT,
        timeout: float = 30.0,
        api_key: str | None = None,
    ) -> ServerProcess:
        """Start ``name`` in ``cwd``; ``python -m hub`` imports the ``hub`` found there.

        With ``api_key``, the server's HTTP publish API is on and accepts that key.
        """
        argv = list(SERVER_COMMANDS[name])
        fd, path = tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".stderr")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if name == "hub":
            env |= HUB_BENCH_ENV
        if api_key is not None:
            if name == "hub":
                env["HUB_API_KEYS"] = api_key
            else:
                argv += ["--api-key", api_key]
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=fd,
                cwd=cwd,
                env=env,
                preexec_fn=lambda: _child_setup(cpu),
            )
        finally:
            os.close(fd)
        server = cls(name, proc, Path(path))
        try:
            await asyncio.wait_for(server._await_listening(), timeout)
        except BaseException as exc:
            await server.stop()
            if isinstance(exc, TimeoutError):
                raise ServerStartError(f"{name}: no listening line within {timeout:.0f} s") from exc
            raise
        server._drain = asyncio.create_task(server._drain_stdout())
        return server

    async def _await_listening(self) -> None:
        assert self.proc.stdout is not None
        for _ in range(1000):  # bounded: a server printing endless banners is broken
            line = await self.proc.stdout.readline()
            if not line:
                await self.proc.wait()
                raise ServerStartError(
                    f"{self.name} exited with {self.proc.returncode} before listening:\n"
                    + self.stderr_text(tail_lines=20)
                )
            self.stdout_tail.append(line.decode(errors="replace").rstrip())
            match = _LISTENING.search(line)
            if match:
                self.host, self.port = match.group(1).decode(), int(match.group(2))
                return
        raise ServerStartError(f"{self.name}: no listening line in its first 1000 lines")

    async def _drain_stdout(self) -> None:
        # Keep reading so a chatty server never blocks on a full pipe.
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            self.stdout_tail.append(line.decode(errors="replace").rstrip())

    def affinity(self) -> set[int]:
        return os.sched_getaffinity(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def stderr_text(self, tail_lines: int | None = None) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""
        if tail_lines is not None:
            text = "\n".join(text.splitlines()[-tail_lines:])
        return text

    async def stop(self, timeout: float = 5.0) -> StopResult:
        """SIGTERM, wait up to ``timeout``, then SIGKILL; always reaps the process."""
        started = time.monotonic()
        killed = False
        was_running = self.proc.returncode is None
        if was_running:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                killed = True
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await asyncio.wait_for(self.proc.wait(), timeout)
        if self._drain is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._drain, 1.0)
        return StopResult(self.proc.returncode, time.monotonic() - started, killed, was_running)

    def cleanup(self) -> None:
        with contextlib.suppress(OSError):
            self.stderr_path.unlink()
