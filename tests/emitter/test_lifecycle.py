"""Emitters made on demand and reaped; across a shutdown; typed events; bad arguments."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import trio

from hub import Hub, events
from hub.core.emitter import UserEmitter
from hub.testing import open_test_client, wait_until
from tests.emitter.conftest import StartUserHub, user_hub


def test_the_core_still_imports_no_trio() -> None:
    code = (
        "import sys, hub.core.emitter, hub.core.user_queue, hub.core.hub;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'trio'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_emitters_are_made_on_demand_and_reaped_when_idle(
    start_user_hub: StartUserHub,
) -> None:
    hub, port = await start_user_hub(emitter_idle_reap=0.1)
    emitter = hub.user("alice")
    assert hub.user("alice") is emitter and isinstance(emitter, UserEmitter)
    await wait_until(lambda: "alice" not in hub.emitters)
    assert emitter.reaped
    # An old reference still works: it goes to the user's current emitter.
    async with open_test_client(port, auth={"user": "alice"}) as client:
        handle = emitter.emit_nowait("hi")
        assert hub.emitters["alice"] is not emitter
        assert await client.next_event() == ("hi", [None, {"id": handle.id}])


async def test_pending_events_survive_a_shutdown(nursery: trio.Nursery) -> None:
    """Queued events stay in the hub; they go out when it serves again."""
    hub = user_hub()
    port = await nursery.start(hub.serve, "127.0.0.1", 0)
    handle = hub.user("bob").emit_nowait("later", 1)
    await hub.shutdown(grace=1)
    assert handle.state == "queued"
    port = await nursery.start(hub.serve, "127.0.0.1", 0)
    async with open_test_client(port, auth={"user": "bob"}) as client:
        assert await client.next_event() == ("later", [1, {"id": handle.id}])
    await hub.shutdown(grace=1)


async def test_events_queue_before_the_hub_serves(nursery: trio.Nursery) -> None:
    hub = user_hub()
    handle = await hub.user("cy").emit("early")
    port = await nursery.start(hub.serve, "127.0.0.1", 0)
    async with open_test_client(port, auth={"user": "cy"}) as client:
        assert await client.next_event() == ("early", [None, {"id": handle.id}])
    await hub.shutdown(grace=1)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"event": ""}, ValueError),
        ({"event": "connect"}, ValueError),
        ({"event": "hub:batch"}, ValueError),
        ({"event": "e", "priority": "urgent"}, ValueError),
        ({"event": "e", "ack": True, "batch": True}, ValueError),
        ({"event": "e", "ttl": 0}, ValueError),
        ({"event": "e", "max_attempts": 0}, ValueError),
        ({"event": "e", "namespace": "/nowhere"}, KeyError),
        ({"event": "e", "namespace": []}, ValueError),
        ({"event": "e", "data": object()}, TypeError),
        ({"event": "e", "coalesce_key": 5}, TypeError),
    ],
)
def test_bad_arguments_raise_before_anything_is_queued(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    hub = Hub()
    emitter = hub.user("eve")
    event = kwargs.pop("event")
    with pytest.raises(error):
        emitter.emit_nowait(event, **kwargs)
    assert len(emitter.queue) == 0


def test_error_names_default_to_high_priority() -> None:
    hub = Hub()
    emitter = hub.user("fay")
    assert emitter.emit_nowait("upload_error").priority == "high"
    assert emitter.emit_nowait("upload_error", priority="low").priority == "low"
    assert emitter.emit_nowait("upload").priority == "normal"


@pytest.mark.parametrize(
    "settings",
    [
        {"emitter_queue": 0},
        {"emitter_ack_timeout": 0},
        {"emitter_backoff_base": 2.0, "emitter_backoff_max": 1.0},
        {"emitter_max_attempts": 1.5},
        {"emitter_batch_window_ms": -1},
        {"emitter_batch_size": "10"},
    ],
)
def test_emitter_settings_are_validated(settings: dict[str, Any]) -> None:
    from hub.errors import ConfigError

    with pytest.raises(ConfigError, match="emitter_"):
        Hub(**settings)


async def test_a_real_typed_event(start_user_hub: StartUserHub) -> None:
    """A typed event goes by ``to_wire``'s name and payload; data beside it is refused."""
    status = events.TaskStatus(task_id="t1", state="running", percent=40.0)
    hub, port = await start_user_hub()
    async with open_test_client(port, auth={"user": "gus"}) as client:
        handle = hub.user("gus").emit_nowait(status, coalesce_key="t1")
        name, payload = events.to_wire(status)
        assert await client.next_event() == (name, [payload, {"id": handle.id}])
        assert name == "task_status"
        with pytest.raises(TypeError):
            hub.user("gus").emit_nowait(status, {"extra": 1})
        with pytest.raises(TypeError):
            hub.user("gus").emit_nowait(object())
