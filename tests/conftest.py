"""Fixtures shared by the hub's tests: an in-process hub on an ephemeral loopback port."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio

from hub import Hub

StartHub = Callable[..., Awaitable[tuple[Hub, int]]]


@pytest.fixture
def start_hub(nursery: trio.Nursery) -> StartHub:
    """Start a Hub built with the given settings; returns it and its port."""

    async def start(hub: Hub | None = None, **settings: Any) -> tuple[Hub, int]:
        hub = hub or Hub(**settings)
        port = await nursery.start(hub.serve, "127.0.0.1", 0)
        return hub, port

    return start
