"""The examples end to end: real processes, a real hub on an ephemeral port, a real client.

Each example embeds a hub (port 0) and waits for a client of its user; ``watch.py``
(python-socketio) is that client and prints, one JSON object a line, what the user got.
The HTTP variant runs ``python -m hub`` and sends through ``POST /api/users/{id}/emit``.
Every process is bounded in time and stopped by its PID at teardown.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DEADLINE = 30.0  # seconds any one process may take
KEY = "examples-test-key"


class Child:
    """A subprocess whose stdout and stderr lines are read as they come."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.out: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.readers = [
            threading.Thread(target=self._read, args=(stream, lines, feed), daemon=True)
            for stream, lines, feed in (
                (self.process.stdout, self.stdout, self.out),
                (self.process.stderr, self.stderr, None),
            )
        ]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _read(stream: Any, lines: list[str], feed: queue.Queue[str] | None) -> None:
        for text in stream:
            lines.append(text.rstrip("\n"))
            if feed is not None:
                feed.put(text.rstrip("\n"))

    def expect(self, pattern: str, timeout: float = DEADLINE) -> re.Match[str]:
        """The next stdout line matching ``pattern`` (others are skipped)."""
        until = time.monotonic() + timeout
        while True:
            try:
                text = self.out.get(timeout=max(0.0, until - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}; {self.report()}") from None
            found = re.search(pattern, text)
            if found:
                return found

    def wait(self, timeout: float = DEADLINE) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after {timeout} s; {self.report()}") from None

    def wait_for_stderr(self, text: str, timeout: float = DEADLINE) -> None:
        until = time.monotonic() + timeout
        while not any(text in line for line in self.stderr):
            if time.monotonic() > until or self.process.poll() is not None:
                raise AssertionError(f"no {text!r} on stderr; {self.report()}")
            time.sleep(0.02)

    def stop(self) -> None:
        """By PID: SIGTERM, then SIGKILL if it does not go; then close the pipes."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        for reader in self.readers:
            reader.join(5)  # the pipes end with the process
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def report(self) -> str:
        time.sleep(0.1)  # let the readers catch up
        return f"stdout={self.stdout[-20:]!r} stderr={self.stderr[-20:]!r}"


@pytest.fixture
def spawn() -> Iterator[Any]:
    children: list[Child] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Child:
        child = Child(list(args), env)
        children.append(child)
        return child

    yield start
    for child in children:
        child.stop()


def run_example(spawn: Any, script: str, until: str, *options: str) -> tuple[Child, list[Any]]:
    """Run an example with an embedded hub and a watcher; the watcher's events."""
    example = spawn(str(EXAMPLES / script), "--port", "0", "--user", "ana", *options)
    url = example.expect(r"hub listening on (http://\S+)").group(1)
    watcher = spawn(
        str(EXAMPLES / "watch.py"),
        *("--url", url, "--user", "ana", "--json", "--until", until, "--timeout", "20"),
    )
    assert watcher.wait() == 0, watcher.report()
    events = [json.loads(line) for line in watcher.stdout]
    assert events, watcher.report()
    assert all(event["typed"] and "invalid" not in event for event in events), events
    assert len({event["id"] for event in events}) == len(events)  # each once
    return example, events


def names(events: list[Any]) -> list[str]:
    return [event["event"] for event in events]


def test_training_reports_its_lifecycle(spawn: Any) -> None:
    example, events = run_example(
        spawn, "training.py", "training_completed", "--steps", "40", "--delay", "0.005",
        "--run-id", "run-t",
    )  # fmt: skip
    assert names(events)[0] == "training_started"
    assert names(events)[-1] == "training_completed"
    assert all(event["data"]["run_id"] == "run-t" for event in events)
    steps = [event["data"]["step"] for event in events if event["event"] == "training_progress"]
    assert steps == sorted(steps) and steps[-1] == 40  # coalescing may only skip, never reorder
    assert events[-1]["data"]["steps"] == 40
    assert example.wait() == 0, example.report()
    assert "run-t completed 40 steps" in "\n".join(example.stdout)
    assert "training_completed: acked" in example.stderr


def test_training_error_is_reported(spawn: Any) -> None:
    example, events = run_example(
        spawn, "training.py", "training_error", "--steps", "40", "--delay", "0.005",
        "--fail-at", "12",
    )  # fmt: skip
    assert names(events)[0] == "training_started"
    error = events[-1]
    assert error["event"] == "training_error"
    assert error["data"]["step"] == 12
    assert error["data"]["error_type"] == "Diverged"
    assert "Traceback" in error["data"]["traceback"]
    assert example.wait() == 1
    assert "training_error: acked" in example.stderr


def test_training_stopped_early(spawn: Any) -> None:
    example, events = run_example(
        spawn, "training.py", "training_stopped", "--steps", "40", "--delay", "0.005",
        "--stop-at", "20",
    )  # fmt: skip
    assert events[-1]["event"] == "training_stopped"
    assert events[-1]["data"]["step"] == 20
    assert "training_completed" not in names(events)
    assert example.wait() == 0


AGENT_STEPS = [
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
]


def test_agent_streams_its_steps(spawn: Any) -> None:
    example, events = run_example(spawn, "agent.py", "agent_completed", "--delay", "0.01")
    assert names(events) == AGENT_STEPS
    calls = [event["data"]["call_id"] for event in events if event["event"].startswith("tool_")]
    assert calls[0] == calls[1] and calls[2] == calls[3] and calls[0] != calls[2]
    assert events[3]["data"]["result"] == {"population": 522250, "area_km2": 47.87}
    assert events[-1]["data"]["output"] == "Lyon has about 10,909.8 inhabitants per km2."
    assert example.wait() == 0
    assert "agent_completed: acked" in example.stderr


def test_agent_error_is_reported(spawn: Any) -> None:
    example, events = run_example(spawn, "agent.py", "agent_error", "--delay", "0.01", "--fail")
    assert names(events) == [*AGENT_STEPS[:4], "agent_error"]
    assert events[3]["data"]["ok"] is False
    assert "Atlantis" in events[-1]["data"]["message"]
    assert example.wait() == 1


@pytest.fixture
def hub_env(tmp_path: Path) -> dict[str, str]:
    """An environment without HUB_* settings or a user's config file."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HUB_")}
    for folder in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
        (tmp_path / folder).mkdir()
        env[folder] = str(tmp_path / folder)
    return env


@pytest.mark.parametrize(
    ("script", "until", "options"),
    [
        ("training.py", "training_completed", ("--steps", "30", "--delay", "0.005")),
        ("agent.py", "agent_completed", ("--delay", "0.01")),
    ],
)
def test_examples_through_the_http_api(
    spawn: Any, hub_env: dict[str, str], script: str, until: str, options: tuple[str, ...]
) -> None:
    """Against ``python -m hub``: the same events, sent with POST /api/users/{id}/emit."""
    hub = spawn("-m", "hub", "run", "--port", "0", "--api-keys", KEY, env=hub_env)
    url = hub.expect(r"hub listening on (http://\S+)").group(1)
    watcher = spawn(
        str(EXAMPLES / "watch.py"),
        *("--url", url, "--user", "bo", "--json", "--until", until, "--timeout", "20"),
    )
    watcher.wait_for_stderr("watching user 'bo'")
    example = spawn(
        str(EXAMPLES / script), "--url", url, "--api-key", KEY, "--user", "bo", *options
    )
    assert example.wait() == 0, example.report()
    assert watcher.wait() == 0, watcher.report()
    events = [json.loads(line) for line in watcher.stdout]
    assert all(event["typed"] for event in events), events
    assert names(events)[-1] == until
    if script == "agent.py":
        assert names(events) == AGENT_STEPS
