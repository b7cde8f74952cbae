"""Fixtures for the recovery tests: hubs, fault proxies and Chromium, each stopped by PID.

Whatever a test does, every process a fixture started is stopped at teardown (SIGTERM,
bounded wait, SIGKILL) and its output printed, so a failing test shows the server's side.
A missing ``node``, ``node_modules`` or Chromium fails the test that needs it (never skips).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.interop.interop_harness import ScenarioFailed
from tests.recovery.harness import Processes, Scenario, run_scenario


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    """This test's hubs and proxies, all stopped at its end."""
    processes = Processes(tmp_path)
    try:
        yield processes
    finally:
        processes.close()


@pytest.fixture(scope="module")
def module_procs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    """Hubs shared by one module's tests, all stopped at its end."""
    processes = Processes(tmp_path_factory.mktemp("procs"))
    try:
        yield processes
    finally:
        processes.close()


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    """``scenario("x.mjs", url, *args)`` -> its JSON result; a failed run fails the test."""

    def run(script: str, url: str, *args: str | dict[str, Any]) -> dict[str, Any]:
        try:
            return run_scenario(script, url, *args)
        except ScenarioFailed as exc:
            pytest.fail(str(exc), pytrace=False)

    return run
