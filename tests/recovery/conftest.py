"""Fixtures for the recovery tests: hubs, fault proxies and Chromium, each stopped by PID.

Whatever a test does, every process a fixture started is stopped at teardown (SIGTERM,
bounded wait, SIGKILL) and its output printed, so a failing test shows the server's side.
A missing ``node``, ``node_modules`` or Chromium fails the test that needs it (never skips).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.interop_harness import ScenarioFailed
from tests.recovery.harness import Scenario, run_scenario


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    """``scenario("x.mjs", url, *args)`` -> its JSON result; a failed run fails the test."""

    def run(script: str, url: str, *args: str | dict[str, Any]) -> dict[str, Any]:
        try:
            return run_scenario(script, url, *args)
        except ScenarioFailed as exc:
            pytest.fail(str(exc), pytrace=False)

    return run
