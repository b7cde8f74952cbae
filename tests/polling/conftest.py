"""Raw HTTP connections and polling sessions, each closed when its test ends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.polling.wire import Http, Poller

OpenHttp = Callable[[int], Awaitable[Http]]
OpenPoller = Callable[[int], Awaitable[Poller]]


@pytest.fixture
async def open_http() -> AsyncIterator[OpenHttp]:
    opened: list[Http] = []

    async def open_(port: int) -> Http:
        opened.append(await Http.open(port))
        return opened[-1]

    yield open_
    for http in opened:
        await http.aclose()


@pytest.fixture
async def open_poller() -> AsyncIterator[OpenPoller]:
    opened: list[Poller] = []

    async def open_(port: int) -> Poller:
        opened.append(await Poller.open(port))
        return opened[-1]

    yield open_
    for poller in opened:
        await poller.aclose()
