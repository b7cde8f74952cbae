"""Plumbing of the JavaScript client's end-to-end tests, over the interop and recovery kits.

Hubs and fault proxies are the recovery tests' ``Processes`` (``python -m hub`` on an
ephemeral port, stopped by PID); one-shot Node scenarios run with the interop kit's
``run_node``. What those kits lack is a scenario that talks while it runs, so that the test
can restart the hub under it: ``NodeDriver`` is that, a ``HubProcess`` (the same subprocess
plumbing, stopped by PID) whose stdout lines are JSON messages.
"""

from __future__ import annotations

import json
import queue
import time
from pathlib import Path
from typing import Any

from tests.interop.interop_harness import NODE_TIMEOUT, HubProcess, require_node, run_node

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "js"
REPO_ROOT = HERE.parents[1]
CLIENT_DIR = REPO_ROOT / "clients" / "js"
CLIENT_FILE = CLIENT_DIR / "hub-client.js"
API_KEY = "clients-js-test-key"
SCENARIO_TIMEOUT = 45.0  # each scenario's own watchdog (lib.mjs) fires at 30 s


def scenario(script: str, url: str, options: dict[str, Any]) -> dict[str, Any]:
    """Runs ``js/<script> URL OPTIONS_JSON`` to its end; its JSON result line."""
    result: dict[str, Any] = run_node(
        require_node(), str(SCENARIOS / script), url, json.dumps(options), timeout=SCENARIO_TIMEOUT
    )
    return result


class NodeDriver(HubProcess):
    """A Node scenario (``js/<script> URL OPTIONS_JSON``) read one JSON line at a time.

    It prints ``{"step": ...}`` lines when it wants the test to act, and its result line
    (``{"scenario": ...}``) last.
    """

    def __init__(self, script: str, url: str, options: dict[str, Any], stderr_path: Path) -> None:
        argv = [require_node(), str(SCENARIOS / script), url, json.dumps(options)]
        super().__init__(script, argv, stderr_path)

    def wait_ready(self, timeout: float = NODE_TIMEOUT) -> str:
        return ""

    def next_message(self, timeout: float = SCENARIO_TIMEOUT) -> dict[str, Any]:
        """The next JSON line; ``TimeoutError`` or ``RuntimeError`` (its end) otherwise."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"{self.name} ended ({self.proc.poll()=})\n{self.describe()}")
            self.stdout_lines.append(line)
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue  # a stray log line
            if isinstance(message, dict):
                return message
        raise TimeoutError(f"{self.name}: no message within {timeout:.0f}s\n{self.describe()}")

    def expect_step(self, step: str) -> dict[str, Any]:
        message = self.next_message()
        if message.get("step") != step:
            raise AssertionError(f"expected step {step!r}, got {message}\n{self.describe()}")
        return message

    def result(self) -> dict[str, Any]:
        """The result line; a failed scenario (``error``) fails the test with its output."""
        message = self.next_message()
        if "scenario" not in message or "error" in message:
            raise AssertionError(f"{self.name} failed: {message}\n{self.describe()}")
        return message
