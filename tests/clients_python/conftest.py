"""Fixtures of the Python client's tests: the anyio backend each test runs under, and real
servers (hub processes, python-socketio, fault proxies), each stopped by its PID.

The hub is trio-only, so for scenarios that run under both backends it runs as a
subprocess; the embedded-hub tests (pytest-trio) use ``start_hub`` from ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clients_python.harness import API_KEY, Servers
from tests.interop.interop_harness import HubProcess

# The standalone hub: recovery on, the HTTP API on, quick emitter resends, batches that
# wait long enough for three HTTP requests to join them.
STANDALONE_FLAGS = (
    "--api-keys",
    API_KEY,
    "--recovery",
    "60",
    "--emitter-ack-timeout",
    "0.5",
    "--emitter-backoff-base",
    "0.1",
    "--emitter-backoff-max",
    "0.5",  # not below the default base: the CLI checks each flag against the defaults
    "--emitter-batch-window-ms",
    "400",
)


@pytest.fixture(params=["trio", "asyncio"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each scenario runs under trio, then under asyncio."""
    chosen: str = request.param
    return chosen


@pytest.fixture(scope="package")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Servers shared by this folder's tests, all stopped at its end."""
    keeper = Servers(tmp_path_factory.mktemp("servers"))
    try:
        yield keeper
    finally:
        keeper.close()


@pytest.fixture
def own_servers(tmp_path: Path) -> Iterator[Servers]:
    """Servers of one test (restarted, cut, stopped by it), all stopped at its end."""
    keeper = Servers(tmp_path)
    try:
        yield keeper
    finally:
        keeper.close()


@pytest.fixture(scope="package")
def standalone(servers: Servers) -> HubProcess:
    """``python -m hub`` with ``STANDALONE_FLAGS``."""
    return servers.standalone(*STANDALONE_FLAGS)


@pytest.fixture(scope="package")
def app_hub(servers: Servers) -> HubProcess:
    """``tests/interop/app.py``: namespaces ``/`` (ping) and ``/test`` (auth, echo, ...)."""
    return servers.interop_app()
