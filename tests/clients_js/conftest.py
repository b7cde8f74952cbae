"""Fixtures of the JavaScript client's tests: hubs and proxies stopped by PID, Node drivers.

A missing ``node``, npm packages or Chromium fails the tests that need them (never skips).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clients_js.harness import NodeDriver, scenario
from tests.interop.interop_harness import ScenarioFailed

StartDriver = Callable[[str, str, dict[str, Any]], NodeDriver]
Scenario = Callable[[str, str, dict[str, Any]], dict[str, Any]]


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[StartDriver]:
    """``driver(script, url, options)``: a running NodeDriver, stopped by PID at the end."""
    numbers = itertools.count()
    with contextlib.ExitStack() as stops:

        def start(script: str, url: str, options: dict[str, Any]) -> NodeDriver:
            name = f"driver-{next(numbers)}"
            try:
                node = NodeDriver(script, url, options, tmp_path / f"{name}.stderr")
            except ScenarioFailed as exc:
                pytest.fail(str(exc), pytrace=False)
            stops.callback(node.stop)
            return node

        yield start


@pytest.fixture(scope="session")
def run_scenario() -> Scenario:
    """``run_scenario(script, url, options)`` -> its JSON result; a failed run fails the test."""

    def run(script: str, url: str, options: dict[str, Any]) -> dict[str, Any]:
        try:
            return scenario(script, url, options)
        except ScenarioFailed as exc:
            pytest.fail(str(exc), pytrace=False)

    return run
