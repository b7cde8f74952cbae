"""Redaction and the depth limit over real sockets: what a client receives, and what a
client may send."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from hub import Hub
from hub.core.session import Session
from hub.testing import open_test_client, wait_until
from tests.conftest import StartHub

SECRET_PAYLOAD = {
    "run": "r-7",
    "password": "hunter2",
    "nested": [{"apiKey": "k-123", "tokens_per_second": 512}],
    "config": {"db": {"DB_PASSWORD": "pw", "host": "db"}},
}
REDACTED = {
    "run": "r-7",
    "password": "[redacted]",
    "nested": [{"apiKey": "[redacted]", "tokens_per_second": 512}],
    "config": {"db": {"DB_PASSWORD": "[redacted]", "host": "db"}},
}


async def test_broadcasts_acks_and_user_events_are_redacted(start_hub: StartHub) -> None:
    hub = Hub(emitter_batch_window_ms=0)

    @hub.namespace("/").on_connect
    async def connect(session: Session, auth: Any) -> None:
        session.user_id = "ana"

    @hub.namespace("/").on("settings")
    async def settings(session: Session) -> dict[str, Any]:
        return SECRET_PAYLOAD

    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        hub.publish("status", SECRET_PAYLOAD)
        assert await client.next_event() == ("status", [REDACTED])
        assert await client.call("settings") == [REDACTED]
        await hub.user("ana").emit("private", SECRET_PAYLOAD)
        event, args = await client.next_event()
        assert (event, args[0]) == ("private", REDACTED)
    # The publisher's own object is never changed.
    assert SECRET_PAYLOAD["password"] == "hunter2"


async def test_redaction_can_be_switched_off(start_hub: StartHub) -> None:
    hub, port = await start_hub(redact_keys=())
    async with open_test_client(port) as client:
        hub.publish("status", SECRET_PAYLOAD)
        assert await client.next_event() == ("status", [SECRET_PAYLOAD])


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


async def test_too_deep_arguments_are_refused_and_the_connection_goes_on(
    start_hub: StartHub, caplog: pytest.LogCaptureFixture
) -> None:
    hub = Hub(max_depth=8)
    seen: list[Any] = []

    @hub.namespace("/").on("echo")
    async def echo(session: Session, value: Any) -> Any:
        seen.append(value)
        return value

    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        assert await client.call("echo", nested(8)) == [nested(8)]  # at the limit
        with caplog.at_level(logging.INFO, logger="hub"):
            (refused,) = await client.call("echo", nested(9))
        assert refused["ok"] is False and refused["error"] == "payload_too_deep"
        await client.emit("echo", nested(50))  # no ack asked: a hub:error event instead
        event, (error,) = await client.next_event()
        assert event == "hub:error" and error["reason"] == "payload_too_deep"
        assert await client.call("echo", "still here") == ["still here"]
    assert seen == [nested(8), "still here"]
    assert hub.stats().errors["payload_too_deep"] == 2
    assert sum("payload_too_deep" in record.getMessage() for record in caplog.records) == 1


async def test_log_lines_of_the_hub_are_redacted(
    start_hub: StartHub, caplog: pytest.LogCaptureFixture
) -> None:
    """A refusal line quoting a client's auth keeps its secrets out of the log."""
    hub = Hub()

    @hub.namespace("/").on("boom")
    async def boom(session: Session, value: Any) -> None:
        raise RuntimeError(f"could not use {value}")

    _, port = await start_hub(hub)
    async with open_test_client(port) as client:
        with caplog.at_level(logging.INFO, logger="hub"):
            await client.emit("boom", {"user": "ana", "password": "hunter2"})
            await wait_until(lambda: hub.stats().errors.get("handler") == 1)
    text = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert "could not use" in text and "hunter2" not in text
