"""The client against the real hub (a ``python -m hub`` or interop app process), under trio
and under asyncio: events both ways, acks, namespaces, transports, refusals, timeouts,
and the standalone hub's replay API."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from hub_client import (
    AckTimeout,
    ConnectError,
    ConnectRefused,
    NotConnected,
    WaitTimeout,
    connect,
)

from tests.clients_python.harness import AUTH, ECHOED, Recorder, free_port, publish, run
from tests.interop.interop_harness import HubProcess


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_events_acks_and_namespaces(backend: str, transport: str, app_hub: HubProcess) -> None:
    """Acks both ways (binary included), rooms, broadcasts, two namespaces on one link."""

    async def scenario() -> None:
        news = Recorder()
        client = connect(app_hub.url, namespaces=["/test", "/"], auth=AUTH, transports=[transport])
        client.on("news", news)

        @client.on("question")
        async def question(asked: str) -> tuple[str, str]:
            await anyio.lowlevel.checkpoint()
            return "answer to", asked

        async with client:
            assert client.transport == transport
            assert client.connected and client.namespace == "/test"
            echoed = await client.emit_with_ack("echo", 1, "two", {"three": [3]}, b"\x00\xff")
            assert echoed == (1, "two", {"three": [3]}, b"\x00\xff")
            assert await client.emit_with_ack("echo") is None
            assert await client.emit_with_ack("whoami") == ECHOED
            info = await client.emit_with_ack("info")
            assert info["sid"] == client.sid and info["namespace"] == "/test"

            root = client.of("/")
            assert await root.emit_with_ack("ping", 5) == ("pong", 5)
            assert root.sid is not None and root.sid != client.sid

            assert await client.emit_with_ack("join", "room1") is True
            spec = {"room": "room1", "event": "news", "args": [{"n": 1}]}
            assert await client.emit_with_ack("broadcast", spec) == 1
            assert await news.wait(1) == [{"n": 1}]
            assert not client.recovered and client.offset is None  # recovery is off here

            # The server calls the client; the handler's return value is the ack.
            answer = client.wait_for("answer")
            assert await client.emit_with_ack("ask", "why?") is True
            assert await answer == {"ok": True, "answer": ["answer to", "why?"]}
        assert client.state == "closed" and not client.connected

    run(backend, scenario)


def test_refusals(backend: str, app_hub: HubProcess) -> None:
    """The server's CONNECT_ERROR message and data; nothing listening; an unknown namespace."""

    async def scenario() -> None:
        with pytest.raises(ConnectRefused) as refused:
            async with connect(app_hub.url, namespaces="/test", auth={"token": "wrong"}):
                pass
        assert refused.value.namespace == "/test"
        assert refused.value.message == "bad token"
        assert refused.value.data == {"reason": "invalid_token"}

        with pytest.raises(ConnectRefused) as unknown:
            async with connect(app_hub.url, namespaces="/nope"):
                pass
        assert unknown.value.message == "Invalid namespace"

        nowhere = f"http://127.0.0.1:{free_port()}"
        with pytest.raises(ConnectError) as failed:
            async with connect(nowhere, connect_timeout=5):
                pass
        assert not isinstance(failed.value, ConnectRefused)
        assert "websocket" in str(failed.value) and "polling" in str(failed.value)

    run(backend, scenario)


def test_timeouts_and_handler_errors(
    backend: str, app_hub: HubProcess, caplog: pytest.LogCaptureFixture
) -> None:
    """An ack that never comes, an event that never comes, a predicate, a failing handler."""

    async def scenario() -> None:
        news = Recorder()
        async with connect(app_hub.url, namespaces="/test", auth=AUTH) as client:

            @client.on("boom")
            def boom(data: Any) -> None:
                raise RuntimeError(f"handler failed on {data}")

            client.on("news", news)
            with pytest.raises(AckTimeout) as no_ack:
                await client.emit_with_ack("no_such_event", timeout=0.3)
            with pytest.raises(WaitTimeout) as no_event:
                await client.wait_for("never", timeout=0.3)
            assert isinstance(no_ack.value, TimeoutError)
            assert isinstance(no_event.value, TimeoutError)

            assert await client.emit_with_ack("join", "r") is True
            third = client.wait_for("news", lambda data: data["n"] == 3, timeout=10)
            failing = client.wait_for("news", lambda data: data["n"] / 0, timeout=10)
            for n in (1, 2, 3):
                spec = {"room": "r", "event": "news", "args": [{"n": n}]}
                await client.emit("broadcast", spec)
            assert await third == {"n": 3}
            with pytest.raises(ZeroDivisionError):
                await failing

            spec = {"room": "r", "event": "boom", "args": ["x"]}
            assert await client.emit_with_ack("broadcast", spec) == 1
            await news.wait(3)
            assert await client.emit_with_ack("echo", "still here") == "still here"
            assert client.stats().handler_errors == 1
            late = client.wait_for("never")
        with pytest.raises(NotConnected):
            await late  # the client closed while it waited
        with pytest.raises(NotConnected):
            await client.emit("echo", 1)
        with pytest.raises(NotConnected):
            await client.wait_for("never", timeout=10)

    with caplog.at_level(logging.ERROR, logger="hub_client"):
        run(backend, scenario)
    failures = [r for r in caplog.records if r.exc_info and "boom" in r.getMessage()]
    assert len(failures) == 1, caplog.records


def test_replay_api(backend: str, standalone: HubProcess) -> None:
    """``replay`` and ``join(room, since)`` of the standalone hub's default namespace."""
    room = f"history-{backend}"

    async def scenario() -> None:
        offsets = [await publish(standalone.url, "step", {"n": n}, room) for n in (1, 2, 3)]
        steps = Recorder()
        client = connect(standalone.url)
        client.on("step", steps)
        async with client:
            everything = await client.replay(room)
            assert everything.complete
            assert [e.args for e in everything.events] == [({"n": 1},), ({"n": 2},), ({"n": 3},)]
            assert [e.offset for e in everything.events] == offsets
            later = await client.replay(room, since=offsets[0], limit=1)
            assert [e.offset for e in later.events] == offsets[1:2]

            joined = await client.join(room, offsets[0])
            assert joined == {"ok": True, "room": room, "replayed": 2, "complete": True}
            # Recovery is on in this hub: the trailing offsets are taken off the arguments.
            assert await steps.wait(2) == [{"n": 2}, {"n": 3}]
            assert client.offset == offsets[2]
            await publish(standalone.url, "step", {"n": 4}, room)
            assert (await steps.wait(3))[2] == {"n": 4}
            assert (await client.leave(room))["ok"] is True

    run(backend, scenario)
