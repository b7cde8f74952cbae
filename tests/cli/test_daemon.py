"""`python -m hub start|stop|restart|status` and `run` with a PID file, as real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import trio

from hub import NotConnected
from hub.cli.process import Liveness, liveness, process_start
from hub.testing import open_test_client, wait_until
from tests.cli.conftest import Sandbox

READY = "hub listening on http://127.0.0.1:"


def ready_port(output: str) -> int:
    line = next(line for line in output.splitlines() if line.startswith(READY))
    return int(line.rsplit(":", 1)[1])


def status(sandbox: Sandbox, *args: str) -> tuple[int, dict[str, Any]]:
    result = sandbox.hub("status", "--json", *args)
    return result.returncode, json.loads(result.stdout)


def state(sandbox: Sandbox) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((sandbox.pid_file.parent / "hub.pid.json").read_text())
    return found


def gone(pid: int, start: str | None) -> bool:
    return liveness(pid, start) is not Liveness.ALIVE


@contextmanager
def listening_socket() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


async def test_start_status_then_sigterm_drains_and_cleans_up(sandbox: Sandbox) -> None:
    """start -> status -> client; SIGTERM tells it 'server shutting down', exits 0, no PID file."""
    started = sandbox.hub("start")
    assert started.returncode == 0, started.stderr
    port = ready_port(started.stdout)
    pid = int(sandbox.pid_file.read_text())
    start = process_start(pid)
    code, report = status(sandbox)
    assert code == 0
    assert (report["state"], report["pid"], report["port"]) == ("running", pid, port)
    assert report["url"] == f"http://127.0.0.1:{port}" and report["uptime"] >= 0
    assert report["health"].startswith("GET /health answered in ")
    async with open_test_client(port) as client:
        assert await client.call("join", "r") == [{"ok": True, "room": "r"}]
        await wait_until(lambda: state(sandbox).get("connections") == 1, timeout=5)
        assert status(sandbox)[1]["connections"] >= 1
        os.kill(pid, signal.SIGTERM)
        with pytest.raises(NotConnected):
            await client.next_event(timeout=10)
        assert client.ws.closed is not None
        assert (client.ws.closed.code, client.ws.closed.reason) == (1001, "server shutting down")
    await wait_until(lambda: gone(pid, start), timeout=10)
    assert not sandbox.pid_file.exists()
    assert not (sandbox.pid_file.parent / "hub.pid.json").exists()
    assert "hub stopped: exit status 0" in sandbox.log_file.read_text()
    assert status(sandbox) == (
        3,
        {"pid_file": str(sandbox.pid_file), "state": "not running", "exit": 3},
    )


async def test_foreground_run_with_pid_file_exits_zero_on_sigterm(sandbox: Sandbox) -> None:
    """`run --pid-file`: status sees it; SIGTERM closes clients with 1001, exit 0, file removed."""
    pid_file = sandbox.root / "fg.pid"
    process = sandbox.popen("run", "--pid-file", str(pid_file))
    assert process.stdout is not None
    with trio.fail_after(15):
        line = await trio.to_thread.run_sync(process.stdout.readline, abandon_on_cancel=True)
    port = ready_port(line)
    code, report = status(sandbox, "--pid-file", str(pid_file))
    assert (code, report["pid"], report["port"]) == (0, process.pid, port)
    async with open_test_client(port) as client:
        process.send_signal(signal.SIGTERM)
        with pytest.raises(NotConnected):
            await client.next_event(timeout=10)
        assert client.ws.closed is not None and client.ws.closed.code == 1001
    with trio.fail_after(10):
        while process.poll() is None:  # noqa: ASYNC110
            await trio.sleep(0.05)
    assert process.returncode == 0
    assert not pid_file.exists()


def test_second_start_is_refused_while_the_first_lives(sandbox: Sandbox) -> None:
    """A second start (or run on the same PID file) is refused; stop then ends the first."""
    first = sandbox.hub("start")
    assert first.returncode == 0, first.stderr
    pid = int(sandbox.pid_file.read_text())
    second = sandbox.hub("start")
    assert second.returncode == 1
    assert f"already running (pid {pid}, http://127.0.0.1:{ready_port(first.stdout)})" in (
        second.stderr
    )
    foreground = sandbox.hub("run", "--pid-file", str(sandbox.pid_file))
    assert foreground.returncode == 1 and f"already running (pid {pid}" in foreground.stderr
    assert int(sandbox.pid_file.read_text()) == pid
    assert status(sandbox)[0] == 0
    stopped = sandbox.hub("stop")
    assert stopped.returncode == 0 and f"hub stopped (pid {pid}" in stopped.stdout
    assert not sandbox.pid_file.exists()
    assert sandbox.hub("stop").stdout.startswith("hub is not running")


def test_stale_pid_file_of_a_dead_process_is_replaced(sandbox: Sandbox) -> None:
    """A PID file naming a process that is gone does not block start, which replaces it."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    dead_pid = int(dead.stdout)
    sandbox.pid_file.parent.mkdir(parents=True)
    sandbox.pid_file.write_text(f"{dead_pid}\n")
    code, report = status(sandbox)
    assert (code, report["state"], report["reason"]) == (1, "stale", "no such process")
    started = sandbox.hub("start")
    assert started.returncode == 0, started.stderr
    assert f"replacing stale PID file {sandbox.pid_file} (pid {dead_pid}" in started.stdout
    assert int(sandbox.pid_file.read_text()) not in (dead_pid, 0)
    assert "replaced stale PID file" in sandbox.log_file.read_text()
    assert sandbox.hub("stop").returncode == 0


def test_pid_reused_by_another_program_is_stale_and_never_signalled(
    sandbox: Sandbox, bystander: subprocess.Popen[str]
) -> None:
    """A PID now owned by another program: status says stale, stop and start leave it alone."""

    def claim() -> None:  # as a crashed hub would have left them, its PID since reused
        sandbox.pid_file.parent.mkdir(parents=True, exist_ok=True)
        sandbox.pid_file.write_text(f"{bystander.pid}\n")
        stale = {"pid": bystander.pid, "process_start": "1", "port": 1}
        (sandbox.pid_file.parent / "hub.pid.json").write_text(json.dumps(stale))

    claim()
    code, report = status(sandbox)
    assert (code, report["reason"]) == (1, "PID reused by another program")
    stopped = sandbox.hub("stop")
    assert stopped.returncode == 0 and "removed stale PID file" in stopped.stdout
    assert not sandbox.pid_file.exists()
    claim()
    started = sandbox.hub("start")
    assert started.returncode == 0, started.stderr
    assert int(sandbox.pid_file.read_text()) != bystander.pid
    assert sandbox.hub("stop").returncode == 0
    assert bystander.poll() is None  # never signalled (it would ignore SIGTERM, not SIGKILL)


def test_stop_kills_a_hub_that_ignores_sigterm(
    sandbox: Sandbox, bystander: subprocess.Popen[str]
) -> None:
    """stop sends SIGKILL after --timeout, says so, exits 1 and removes the PID file."""
    sandbox.pid_file.parent.mkdir(parents=True)
    sandbox.pid_file.write_text(f"{bystander.pid}\n")
    recorded = {"pid": bystander.pid, "process_start": process_start(bystander.pid)}
    (sandbox.pid_file.parent / "hub.pid.json").write_text(json.dumps(recorded))
    stopped = sandbox.hub("stop", "--timeout", "0.5")
    assert stopped.returncode == 1
    assert f"pid {bystander.pid} did not stop within 0.5 s after SIGTERM: killed" in stopped.stderr
    assert bystander.wait(timeout=10) == -signal.SIGKILL
    assert not sandbox.pid_file.exists()


def test_busy_port_moves_to_the_next_in_range(sandbox: Sandbox) -> None:
    """With the range's first port taken, start listens on a later one and reports it."""
    with listening_socket() as taken:
        ports = f"{taken}-{taken + 5}"
        started = sandbox.hub("start", "--port", ports)
        assert started.returncode == 0, started.stderr
        port = ready_port(started.stdout)
        assert taken < port <= taken + 5
        code, report = status(sandbox)
        assert (code, report["port"], report["ports"]) == (0, port, ports)
    assert sandbox.hub("stop").returncode == 0


def test_taken_port_outside_a_range_is_a_clear_error(sandbox: Sandbox) -> None:
    """start on a taken port fails in one line, exit 1, and leaves no PID file behind."""
    with listening_socket() as taken:
        started = sandbox.hub("start", "--port", str(taken))
    assert started.returncode == 1
    assert f"cannot listen on 127.0.0.1:{taken}" in started.stderr
    assert "Traceback" not in started.stderr
    assert not sandbox.pid_file.exists()


def test_restart_replaces_the_process(sandbox: Sandbox) -> None:
    """restart stops the running hub and starts a new one, which then answers."""
    assert sandbox.hub("start").returncode == 0
    old = int(sandbox.pid_file.read_text())
    restarted = sandbox.hub("restart")
    assert restarted.returncode == 0, restarted.stderr
    assert f"hub stopped (pid {old}" in restarted.stdout and READY in restarted.stdout
    code, report = status(sandbox)
    assert code == 0 and report["pid"] != old
    assert sandbox.hub("stop").returncode == 0


async def test_sighup_reloads_log_level_and_reopens_the_log_keeping_clients(
    sandbox: Sandbox,
) -> None:
    """SIGHUP: new log level and [hub] limits apply, the moved log is reopened, clients stay."""
    config = sandbox.config_file
    config.parent.mkdir(parents=True)
    config.write_text('log_level = "INFO"\n[hub]\nping_interval = 25\n')
    started = sandbox.hub("start")
    assert started.returncode == 0, started.stderr
    port, pid = ready_port(started.stdout), int(sandbox.pid_file.read_text())
    assert "level=DEBUG" not in sandbox.log_file.read_text()
    async with open_test_client(port) as client:
        assert await client.call("join", "before") == [{"ok": True, "room": "before"}]
        config.write_text('log_level = "DEBUG"\n[hub]\nping_interval = 5\n')
        rotated = sandbox.log_file.rename(sandbox.log_file.with_suffix(".log.1"))
        os.kill(pid, signal.SIGHUP)
        await wait_until(
            lambda: sandbox.log_file.exists() and "reloaded" in sandbox.log_file.read_text(),
            timeout=10,
        )
        log = sandbox.log_file.read_text()
        assert "log_level INFO -> DEBUG" in log and "hub.ping_interval 25.0 -> 5.0" in log
        assert "level=DEBUG" in log
        assert "reloaded" not in rotated.read_text()
        assert await client.call("join", "after") == [{"ok": True, "room": "after"}]
        assert client.pending_events() == 0  # no disconnect was queued
        async with open_test_client(port, connect=None) as newcomer:
            assert newcomer.handshake["pingInterval"] == 5000
    assert sandbox.hub("stop").returncode == 0


BAD_CONFIGS = [
    ({}, ["--port", "abc"], None, "invalid setting port = 'abc' (from --port): expected a port"),
    (
        {"HUB_PING_INTERVAL": "fast"},
        [],
        None,
        "invalid setting hub.ping_interval = 'fast' (from HUB_PING_INTERVAL): expected a number",
    ),
    (
        {"HUB_LOG_LEVEL": "loud"},
        [],
        None,
        "log_level = 'loud' (from HUB_LOG_LEVEL): expected one of DEBUG, INFO",
    ),
    ({}, [], "shutdown_grace = -1\n", "shutdown_grace = -1 (from {file}): expected a number > 0"),
    ({}, [], "[hub]\nmax_payload = 2.5\n", "hub.max_payload = 2.5 (from {file}): expected a whole"),
    ({}, ["--port", "9000-8000"], None, "port = '9000-8000' (from --port): expected a port"),
    ({}, [], "log_file = 7\n", "log_file = 7 (from {file}): expected a file path"),
    ({}, [], "prot = 1\n", "unknown setting 'prot' in {file}: expected one of host, port"),
    ({}, [], "[hub]\nping_intervall = 1\n", "unknown setting 'hub.ping_intervall' in {file}"),
    ({}, [], "port = \n", "config file {file} is not valid TOML"),
    ({"HUB_CONFIG": "/nonexistent/hub.toml"}, [], None, "/nonexistent/hub.toml (from HUB_CONFIG)"),
]


@pytest.mark.parametrize(("env", "flags", "toml", "message"), BAD_CONFIGS)
def test_bad_configuration_stops_start_up_with_its_message(
    sandbox: Sandbox, env: dict[str, str], flags: list[str], toml: str | None, message: str
) -> None:
    """Each bad key or value stops start-up (exit 2) with a message naming key, value, source."""
    if toml is not None:
        sandbox.config_file.parent.mkdir(parents=True)
        sandbox.config_file.write_text(toml)
    result = sandbox.hub("start", *flags, **env)
    assert result.returncode == 2
    assert message.format(file=sandbox.config_file) in result.stderr
    assert "Traceback" not in result.stderr
    assert not sandbox.pid_file.exists()


def test_start_that_is_not_ready_in_time_stops_its_child(sandbox: Sandbox) -> None:
    """start --wait 0 gives up at once: exit 1, says so, and leaves no hub or PID file."""
    result = sandbox.hub("start", "--wait", "0")
    assert result.returncode == 1
    assert "hub: not listening after 0 s, stopped it" in result.stderr
    assert not sandbox.pid_file.exists()
    assert status(sandbox)[0] == 3


def test_config_command_prints_effective_values_and_their_sources(sandbox: Sandbox) -> None:
    """`hub config`: file < env < flag, each value's source, and HUB_* names it ignored."""
    sandbox.config_file.parent.mkdir(parents=True)
    sandbox.config_file.write_text(
        'log_level = "ERROR"\nshutdown_grace = 3\n[hub]\nmax_payload = 10\n'
    )
    result = sandbox.hub("config", "--log-level", "debug", HUB_MAX_PAYLOAD="20", HUB_VERBOSE="1")
    assert result.returncode == 0, result.stderr
    lines = {line.split(" = ")[0]: line for line in result.stdout.splitlines() if " = " in line}
    assert lines["log_level"].startswith('log_level = "DEBUG"')
    assert lines["log_level"].endswith("# --log-level")
    assert lines["shutdown_grace"].endswith(f"# {sandbox.config_file}")
    assert lines["max_payload"].startswith("max_payload = 20") and lines["max_payload"].endswith(
        "# HUB_MAX_PAYLOAD"
    )
    assert lines["port"].endswith("# HUB_PORT")
    assert "# ignored (no such setting): HUB_VERBOSE" in result.stdout
