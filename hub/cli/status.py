"""``hub status``: is the hub in the PID file alive, and does its port answer?

The answer comes from the PID file (the process lives and is the one that wrote it),
the state file beside it (port, start time, connections, refreshed every second by the
hub) and a probe: ``GET /health`` on the port, which the hub answers ``200
{"status": "ok"}`` while it serves. The exit status says which (see ``hub.cli.codes``).
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Mapping
from typing import Any

from hub.cli import codes
from hub.cli.daemon import daemon_settings
from hub.cli.pidfile import PidFile
from hub.cli.settings import Settings

# Where a wildcard bind is reachable from this host.
_LOOPBACK = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}
# A healthy answer is a few bytes; a longer one is not the hub's.
_MAX_ANSWER = 4096


def _get_health(host: str, port: int, timeout: float) -> tuple[int, bytes]:
    # http.client, not urllib: no proxy from the environment may stand in between.
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/health", headers={"Connection": "close"})
        response = connection.getresponse()
        return response.status, response.read(_MAX_ANSWER)
    finally:
        connection.close()


def probe(host: str, port: int, timeout: float) -> tuple[bool, str]:
    """Whether ``host:port`` answers ``GET /health`` within ``timeout``; and how."""
    began = time.monotonic()
    try:
        status, body = _get_health(_LOOPBACK.get(host, host), port, timeout)
    except Exception as error:  # any failure is the answer, not a crash of status
        return False, f"no answer to GET /health on port {port}: {type(error).__name__} {error}"
    if status != 200 or _json(body) != {"status": "ok"}:
        return False, f"port {port} answered GET /health with {status} {body[:200]!r}"
    return True, f"GET /health answered in {(time.monotonic() - began) * 1000:.1f} ms"


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}d"] * bool(days) + [f"{hours}h"] * bool(hours or days)
    return "".join([*parts, f"{minutes}m{secs:02d}s"])


def inspect(settings: Settings, env: Mapping[str, str], timeout: float) -> dict[str, Any]:
    """Everything ``status`` reports, with ``exit`` the status code."""
    settings = daemon_settings(settings, env)
    assert settings.pid_file is not None
    pid_file = PidFile(settings.pid_file)
    report: dict[str, Any] = {"pid_file": str(pid_file.path)}
    found = pid_file.inspect()
    if found is None:
        return report | {"state": "not running", "exit": codes.NOT_RUNNING}
    report["pid"] = found.pid
    if not found.alive:
        stale = {"state": "stale", "reason": found.liveness.value, "exit": codes.STALE}
        return report | stale
    state = found.state
    for key in ("url", "port", "ports", "log_file", "connections"):
        if state.get(key) is not None:
            report[key] = state[key]
    if "-" not in str(report.get("ports", "-")):
        del report["ports"]  # one port: nothing to add to "port"
    if isinstance(state.get("started_at"), int | float):
        report["uptime"] = round(time.time() - state["started_at"], 1)
    port = state.get("port")
    if not isinstance(port, int):
        return report | {
            "state": "starting",
            "health": "not listening yet",
            "exit": codes.UNHEALTHY,
        }
    ok, health = probe(str(state.get("host", "127.0.0.1")), port, timeout)
    report["health"] = health
    if not ok:
        return report | {"state": "not answering", "exit": codes.UNHEALTHY}
    return report | {"state": "running", "exit": codes.RUNNING}


def describe(report: dict[str, Any]) -> str:
    """``report`` for people: a headline, then one ``name: value`` per line."""
    headline = f"hub is {report['state']}"
    if report["state"] == "stale":
        headline += f": stale PID file (pid {report['pid']}: {report['reason']})"
    lines = [headline]
    labels = (
        ("pid", "pid"),
        ("url", "url"),
        ("port", "port"),
        ("ports", "port range"),
        ("uptime", "uptime"),
        ("connections", "connections"),
        ("health", "health"),
        ("pid_file", "PID file"),
        ("log_file", "log file"),
    )
    for key, label in labels:
        if key in report:
            value = _duration(report[key]) if key == "uptime" else report[key]
            lines.append(f"  {label}: {value}")
    return "\n".join(lines)


def status(settings: Settings, env: Mapping[str, str], timeout: float, as_json: bool) -> int:
    report = inspect(settings, env, timeout)
    print(json.dumps(report) if as_json else describe(report))
    return int(report["exit"])
