"""Fixtures shared by the hub's tests: an in-process hub on an ephemeral loopback port, hub
and proxy processes stopped by PID, and headless Chromium."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from hub import Hub
from tests.recovery.harness import Browser, Processes

StartHub = Callable[..., Awaitable[tuple[Hub, int]]]


@pytest.fixture
def start_hub(nursery: trio.Nursery) -> StartHub:
    """Start a Hub built with the given settings; returns it and its port."""

    async def start(hub: Hub | None = None, **settings: Any) -> tuple[Hub, int]:
        hub = hub or Hub(**settings)
        port = await nursery.start(hub.serve, "127.0.0.1", 0)
        return hub, port

    return start


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
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """The session's Chromium (started by the first test that asks), stopped by its PID."""
    box = Browser(tmp_path_factory.mktemp("chromium"))
    try:
        yield box
    finally:
        box.close()
