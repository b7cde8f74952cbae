"""``hub start``, ``stop`` and ``restart``: the hub as a background process.

``start`` launches ``python -m hub run`` in a new session (no controlling terminal, no
signals from the shell's job control) with stdin closed and its output in the log file,
and returns once the hub's state file shows it listening. Spawning a fresh interpreter
instead of a double fork keeps the parent free of fork-after-threads hazards, hands us
the child's PID directly, and works wherever ``subprocess`` does; the child itself owns
the PID file, so a foreground ``run`` and a daemon behave the same.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import attrs

import hub
from hub.cli import paths
from hub.cli.codes import FAILURE, OK
from hub.cli.pidfile import Found, PidFile
from hub.cli.process import Liveness, liveness
from hub.cli.settings import PATH_KEYS, Resolved, Settings, flag_name

POLL = 0.05
KILL_WAIT = 5.0


def daemon_settings(settings: Settings, env: Mapping[str, str]) -> Settings:
    """A daemon always has a PID file and a log file: the per-user defaults if unset."""
    return attrs.evolve(
        settings,
        pid_file=settings.pid_file or paths.pid_file(env),
        log_file=settings.log_file or paths.log_file(env),
    )


def _child_argv(resolved: Resolved, settings: Settings, flags: Mapping[str, str]) -> list[str]:
    # The child re-reads the same sources (file, environment, these flags) on SIGHUP, so it
    # gets the user's flags as given, not the merged values; paths are made absolute.
    argv = [sys.executable, "-m", "hub", "run", "--detached"]
    for key, text in flags.items():
        if key not in PATH_KEYS:
            argv += [flag_name(key), text]
    if resolved.config_file is not None:
        argv += ["--config", str(resolved.config_file)]
    argv += ["--pid-file", str(settings.pid_file), "--log-file", str(settings.log_file)]
    return argv


def _child_env(env: Mapping[str, str]) -> dict[str, str]:
    # The child runs from "/" (a daemon keeps no directory busy). When this hub package was
    # found only through the current directory, point the child's imports at it.
    root = str(Path(hub.__file__).resolve().parent.parent)
    if root in sys.path[1:]:
        return dict(env)
    python_path = [root, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    return {**env, "PYTHONPATH": os.pathsep.join(python_path)}


def _tail(path: Path, offset: int) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace").strip()
    except OSError:
        return ""


def _stop_child(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(KILL_WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(KILL_WAIT)


def start(resolved: Resolved, flags: Mapping[str, str], env: Mapping[str, str], wait: float) -> int:
    settings = daemon_settings(resolved.settings, env)
    assert settings.pid_file is not None and settings.log_file is not None
    pid_file = PidFile(settings.pid_file)
    found = pid_file.inspect()
    if found is not None and found.alive:
        where = found.state.get("url", "address unknown")
        print(
            f"hub: already running (pid {found.pid}, {where}); PID file {pid_file.path}",
            file=sys.stderr,
        )
        return FAILURE
    if found is not None:
        print(f"replacing stale PID file {pid_file.path} (pid {found.pid}: {found.liveness.value})")
    settings.log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with settings.log_file.open("ab") as log:
        offset = log.tell()
        process = subprocess.Popen(
            _child_argv(resolved, settings, flags),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd="/",
            env=_child_env(env),
            start_new_session=True,
        )
    return _await_ready(process, pid_file, settings.log_file, offset, wait)


def _await_ready(
    process: subprocess.Popen[bytes], pid_file: PidFile, log_file: Path, offset: int, wait: float
) -> int:
    """Report the daemon's address once its state shows it listening, or why it is not."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = _tail(log_file, offset)  # what it wrote before dying says why
            print(output or f"hub: exited with status {process.returncode}", file=sys.stderr)
            return FAILURE
        state = pid_file.read_state()
        if state.get("pid") == process.pid and state.get("url"):
            print(f"hub listening on {state['url']}", flush=True)
            print(f"pid {process.pid}; log {log_file}; PID file {pid_file.path}")
            # Popen warns when its object dies with the child still running; this child
            # outlives us on purpose, and its PID file, not this object, tracks it now.
            process.returncode = 0
            return OK
        time.sleep(POLL)
    _stop_child(process)
    print(f"hub: not listening after {wait:g} s, stopped it; see {log_file}", file=sys.stderr)
    return FAILURE


def _wait_gone(found: Found, timeout: float) -> bool:
    recorded = found.state.get("process_start")
    deadline = time.monotonic() + timeout
    while liveness(found.pid, recorded) is Liveness.ALIVE:
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL)
    return True


def stop(settings: Settings, env: Mapping[str, str], timeout: float | None) -> int:
    """SIGTERM, wait for the drain, SIGKILL past ``timeout``; 0 once nothing runs."""
    settings = daemon_settings(settings, env)
    assert settings.pid_file is not None
    pid_file = PidFile(settings.pid_file)
    found = pid_file.inspect()
    if found is None:
        print(f"hub is not running (no PID file {pid_file.path})")
        return OK
    if not found.alive:
        pid_file.remove_stale()
        print(
            f"hub is not running; removed stale PID file (pid {found.pid}: {found.liveness.value})"
        )
        return OK
    limit = timeout if timeout is not None else settings.shutdown_grace + 5.0
    began = time.monotonic()
    try:
        os.kill(found.pid, signal.SIGTERM)
    except PermissionError:
        print(f"hub: not allowed to signal pid {found.pid}", file=sys.stderr)
        return FAILURE
    except ProcessLookupError:
        pass
    if _wait_gone(found, limit):
        pid_file.remove_stale()  # only if the hub could not remove its own
        print(f"hub stopped (pid {found.pid}, {time.monotonic() - began:.1f} s)")
        return OK
    with contextlib.suppress(ProcessLookupError):
        os.kill(found.pid, signal.SIGKILL)
    _wait_gone(found, KILL_WAIT)
    pid_file.remove_stale()
    print(
        f"hub: pid {found.pid} did not stop within {limit:g} s after SIGTERM: killed",
        file=sys.stderr,
    )
    return FAILURE


def restart(
    resolved: Resolved,
    flags: Mapping[str, str],
    env: Mapping[str, str],
    wait: float,
    timeout: float | None,
) -> int:
    stopped = stop(resolved.settings, env, timeout)
    if stopped != OK:
        return stopped
    return start(resolved, flags, env, wait)
