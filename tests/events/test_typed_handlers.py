"""``Namespace.on(SomeEvent)`` over real sockets: structured objects in, bad input refused."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from hub import Hub, Session
from hub.events import InvalidEvent, TaskStatus, TrainingProgress, from_wire, to_wire
from hub.testing import open_test_client, wait_until
from tests.conftest import StartHub


def typed_hub() -> tuple[Hub, list[Any]]:
    hub = Hub()
    seen: list[Any] = []
    ns = hub.namespace("/")

    @ns.on(TrainingProgress)
    async def progress(session: Session, event: TrainingProgress) -> dict[str, Any]:
        seen.append(event)
        return {"ok": True, "percent": event.percent}

    @ns.on(TaskStatus)
    async def status(session: Session, event: TaskStatus) -> None:
        seen.append(event)
        # Typed on the way out too: any emit takes the (name, payload) pair.
        await session.emit(*to_wire(TaskStatus(task_id=event.task_id, state="succeeded")))

    return hub, seen


async def test_handler_gets_the_structured_object(start_hub: StartHub) -> None:
    hub, seen = typed_hub()
    _, port = await start_hub(hub)
    sent = TrainingProgress(run_id="r1", step=25, total=100, metrics={"loss": 0.5})
    async with open_test_client(port) as client:
        assert await client.call(*to_wire(sent)) == [{"ok": True, "percent": 25.0}]
        assert seen == [sent]
        assert type(seen[0]) is TrainingProgress
        await client.emit("task_status", {"task_id": "t1", "state": "running"})
        name, args = await client.next_event()
        done = from_wire(name, args[0])
        assert done == TaskStatus(task_id="t1", state="succeeded", ts=done.ts)
        assert seen[1] == TaskStatus(task_id="t1", state="running", ts=seen[1].ts)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ([{"run_id": "r", "step": "3"}], "expected a number, got '3' @ $.step"),
        ([{"run_id": "r", "step": 3, "loss": 1}], "unknown field(s) loss"),
        ([{"run_id": "r", "step": 30, "total": 10}], "step 30 is past total 10 @ $.step"),
        (["r1"], "expected an object, got 'r1' @ $"),
        ([], "expected one argument (the event's object), got 0"),
        ([{"run_id": "r", "step": 1}, "extra"], "got 2"),
    ],
)
async def test_invalid_payload_gets_an_error_ack(
    start_hub: StartHub, caplog: pytest.LogCaptureFixture, args: list[Any], problem: str
) -> None:
    """Refused with an error ack, counted, logged in one line; the client goes on."""
    hub, seen = typed_hub()
    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        with caplog.at_level(logging.WARNING, logger="hub"):
            (ack,) = await client.call("training_progress", *args)
        assert ack["error"] == "invalid_event"
        assert ack["message"].startswith("invalid training_progress event: ")
        assert problem in ack["message"]
        assert hub.stats().errors == {"invalid_event": 1}
        lines = [r.getMessage() for r in caplog.records if "invalid_event" in r.getMessage()]
        assert len(lines) == 1
        assert "\n" not in lines[0]
        assert f"sid={client.sids['/']}" in lines[0]
        assert problem in lines[0]
        assert seen == []
        # The same connection keeps being served.
        ok = await client.call("training_progress", {"run_id": "r", "step": 1, "total": 4})
        assert ok == [{"ok": True, "percent": 25.0}]
        assert hub.stats().sessions == {"/": 1}


async def test_invalid_payload_without_ack_is_counted_only(start_hub: StartHub) -> None:
    hub, seen = typed_hub()
    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        await client.emit("task_status", {"task_id": "t", "state": "exploded"})
        await client.emit("task_status", {"task_id": "t", "state": "running"})
        name, args = await client.next_event()  # only the valid one was answered
        assert (name, args[0]["state"]) == ("task_status", "succeeded")
        await wait_until(lambda: hub.stats().errors.get("invalid_event") == 1)
        assert [event.state for event in seen] == ["running"]
        assert client.pending_events() == 0


async def test_many_bad_clients_never_stop_the_hub(start_hub: StartHub) -> None:
    hub, _ = typed_hub()
    _, port = await start_hub(hub)
    async with open_test_client(port) as good:
        for index in range(20):
            async with open_test_client(port) as bad:
                await bad.call("training_progress", {"run_id": index})
        ok = await good.call("training_progress", {"run_id": "r", "step": 2})
        assert ok == [{"ok": True, "percent": None}]
        assert hub.stats().errors == {"invalid_event": 20}


def test_on_refuses_a_class_that_is_not_a_typed_event() -> None:
    namespace = Hub().namespace("/")
    with pytest.raises(TypeError, match="not a registered typed event"):
        namespace.on(dict)


def test_on_returns_the_handler_and_registers_under_the_wire_name() -> None:
    namespace = Hub().namespace("/")

    async def handler(session: Session, event: TrainingProgress) -> None:
        return None

    assert namespace.on(TrainingProgress)(handler) is handler
    assert set(namespace.handlers) == {"training_progress"}
    assert namespace.handlers["training_progress"] is not handler  # the structuring wrapper


async def test_handler_errors_are_not_confused_with_invalid_events(start_hub: StartHub) -> None:
    """An exception in the application's handler stays a handler error, as before."""
    hub = Hub()

    @hub.namespace("/").on(TrainingProgress)
    async def broken(session: Session, event: TrainingProgress) -> None:
        raise InvalidEvent("training_progress", ["the application's own check @ $"])

    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        await client.emit("training_progress", {"run_id": "r", "step": 1})
        await wait_until(lambda: hub.stats().errors.get("handler") == 1)
        assert "invalid_event" not in hub.stats().errors


async def test_user_emitter_takes_typed_events(start_hub: StartHub) -> None:
    """``hub.user(id).emit(obj)``: the emitter calls to_wire; the client gets the payload."""
    hub = Hub()

    @hub.namespace("/").on_connect
    async def connect(session: Session, auth: Any) -> None:
        session.user_id = auth["user"]

    _, port = await start_hub(hub)
    sent = TrainingProgress(run_id="r", step=3, total=6, metrics={"loss": 0.25})
    async with open_test_client(port, auth={"user": "u1"}) as client:
        await hub.user("u1").emit(sent, coalesce_key="r:progress")
        name, args = await client.next_event()
        assert from_wire(name, args[0]) == sent
        with pytest.raises(TypeError, match="typed event carries its own data"):
            await hub.user("u1").emit(sent, {"step": 4})
