"""Fixtures of the user emitter tests: a hub whose clients name their user in ``auth``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio

from hub import Hub, Session
from hub.core.emitter import PACE_BYTES
from hub.testing import TestClient, open_test_client, wait_until
from tests.conftest import StartHub
from tests.http.conftest import start_api as start_api  # the HTTP API tests' fixture

StartUserHub = Callable[..., Awaitable[tuple[Hub, int]]]


def user_hub(**settings: Any) -> Hub:
    """A hub whose namespaces "/" and "/dash" take the user from ``auth={"user": id}``."""
    hub = Hub(**settings)

    async def connect(session: Session, auth: Any) -> None:
        if isinstance(auth, dict):
            session.user_id = auth.get("user")

    hub.namespace("/").on_connect(connect)
    hub.namespace("/dash").on_connect(connect)
    return hub


@pytest.fixture
def start_user_hub(start_hub: StartHub) -> StartUserHub:
    async def start(**settings: Any) -> tuple[Hub, int]:
        return await start_hub(user_hub(**settings))

    return start


def events(client: TestClient, name: str | None = None, namespace: str = "/") -> list[Any]:
    """(event, args) of every EVENT packet ``client`` received so far, in order."""
    found = []
    for packet in client.received:
        if packet.is_event and packet.namespace == namespace:
            event, *args = packet.data
            if name is None or event == name:
                found.append((event, args))
    return found


async def next_events(
    client: TestClient, count: int, namespace: str = "/", skip: tuple[str, ...] = ()
) -> list[tuple[str, list[Any]]]:
    """The next ``count`` events (names in ``skip`` left out), bounded in time."""
    found: list[tuple[str, list[Any]]] = []
    with trio.fail_after(20):
        while len(found) < count:
            event = await client.next_event(namespace, timeout=20)
            if event[0] not in skip:
                found.append(event)
    return found


@asynccontextmanager
async def stalled(hub: Hub, client: TestClient, user: str) -> AsyncIterator[trio.Event]:
    """Make ``client`` a slow consumer: it stops reading, and its link backs up.

    The client blocks in the responder of an acked "stall" event (the test client reads
    in the task that answers), then direct sends fill the kernel's buffers until the
    hub's outbox holds more than the emitter's pace. Set the yielded event to resume.
    """
    release, entered = trio.Event(), trio.Event()

    async def hold(*args: Any) -> str:
        entered.set()
        await release.wait()
        return "ok"

    client.responders["stall"] = hold
    hub.user(user).emit_nowait("stall", ack=True)
    with trio.fail_after(10):
        await entered.wait()
    session = next(iter(hub.users.members(user)))
    filler = "x" * 400_000
    for _ in range(400):
        if getattr(session.link, "queued_bytes", 0) > PACE_BYTES:
            break
        hub.emit_to_user(user, "filler", filler)
        await trio.sleep(0.005)
    assert getattr(session.link, "queued_bytes", 0) > PACE_BYTES
    try:
        yield release
    finally:
        release.set()


__all__ = ["events", "next_events", "open_test_client", "stalled", "wait_until"]
