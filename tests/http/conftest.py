"""Fixtures for the HTTP API tests: a standalone hub with API keys, and an httpx client.

Both speak over real loopback sockets; the client keeps its connection alive between
requests, as a service publishing through the API would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import attrs
import httpx
import pytest

from hub import Hub
from hub.standalone import standalone_hub
from hub.testing import TestClient
from tests.conftest import StartHub

KEY = "test-key-0123456789"
OTHER_KEY = "second-key-abcdef"


@asynccontextmanager
async def api_client(port: int, key: str | None = KEY) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client of the hub on ``port``, sending ``key`` as a bearer token."""
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers=headers,
        timeout=10,
        trust_env=False,  # never through a proxy from the environment
    ) as client:
        yield client


@attrs.define
class ApiHub:
    hub: Hub
    port: int
    http: httpx.AsyncClient

    async def publish(self, status: int = 200, **body: Any) -> Any:
        """POST /api/publish; checks the status and returns the JSON answer."""
        response = await self.http.post("/api/publish", json=body)
        assert response.status_code == status, response.text
        return response.json()


StartApi = Callable[..., Awaitable[ApiHub]]


@pytest.fixture
async def start_api(start_hub: StartHub) -> AsyncIterator[StartApi]:
    """Start a standalone hub (default namespace: join, leave, publish...) with API keys."""
    async with AsyncExitStack() as stack:

        async def start(hub: Hub | None = None, **settings: Any) -> ApiHub:
            settings.setdefault("api_keys", (KEY, OTHER_KEY))
            hub, port = await start_hub(hub or standalone_hub(**settings))
            http = await stack.enter_async_context(api_client(port))
            return ApiHub(hub, port, http)

        yield start


async def events_until(client: TestClient, marker: str, namespace: str = "/") -> list[Any]:
    """The events ``client`` gets before ``marker``: (name, args) pairs, in order."""
    seen = []
    for _ in range(10_000):  # bounded: a test never sends this many before its marker
        event = await client.next_event(namespace)
        if event[0] == marker:
            return seen
        seen.append(event)
    raise AssertionError(f"no {marker!r} event")
