"""Fixtures for the interop tests: hub servers in subprocesses and the Node client runner.

Every server a test starts is stopped by its PID (SIGTERM, then SIGKILL) at teardown,
whatever the test did, and its stdout/stderr are printed then, so a failing test shows
the server's side too.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.interop.interop_harness import (
    HubProcess,
    NodeScenario,
    ScenarioFailed,
    SpawnHub,
    hub_argv,
    require_node,
    run_node,
)


@pytest.fixture
def spawn_hub(tmp_path: Path) -> Iterator[SpawnHub]:
    """A factory: ``spawn_hub("app" | "standalone", *extra_args)`` -> a ready HubProcess."""

    def stop(server: HubProcess) -> None:
        server.stop()
        print(server.describe())

    numbers = itertools.count()
    with contextlib.ExitStack() as stops:  # every server is stopped, even if one stop fails

        def start(kind: str = "app", *extra: str) -> HubProcess:
            name = f"{kind}-{next(numbers)}"
            server = HubProcess(name, hub_argv(kind, *extra), tmp_path / f"{name}.stderr")
            stops.callback(stop, server)
            try:
                server.wait_ready()
            except (TimeoutError, RuntimeError) as exc:
                problem = str(exc)
            else:
                return server
            server.stop()
            pytest.fail(f"hub server did not start: {problem}\n{server.describe()}", pytrace=False)

        yield start


@pytest.fixture
def app_hub(spawn_hub: SpawnHub) -> HubProcess:
    """``tests/interop/app.py`` serving on an ephemeral port."""
    return spawn_hub("app")


@pytest.fixture
def app_url(app_hub: HubProcess) -> str:
    return app_hub.url


@pytest.fixture
def standalone_hub(spawn_hub: SpawnHub) -> HubProcess:
    """``python -m hub`` serving on an ephemeral port."""
    return spawn_hub("standalone")


@pytest.fixture
def standalone_url(standalone_hub: HubProcess) -> str:
    return standalone_hub.url


@pytest.fixture(scope="session")
def node_scenario() -> NodeScenario:
    """``node_scenario("name.mjs", url, *args)`` -> the scenario's JSON result (binary decoded).

    A missing ``node`` or missing npm dependencies fail the calling test (never skip it).
    """

    def run(script: str, url: str, *args: str) -> dict[str, Any]:
        try:
            result: dict[str, Any] = run_node(require_node(), script, url, *args)
        except ScenarioFailed as exc:
            pytest.fail(str(exc), pytrace=False)
        return result

    return run
