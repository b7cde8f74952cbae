"""The client against a real python-socketio server (``psio_app.py``, built on the
benchmarks' server): connect, events both ways, acks both ways, namespaces, refusals,
typed events, and the fallback to long-polling. Under trio and under asyncio."""

from __future__ import annotations

import pytest
from hub_client import ConnectRefused, connect

from hub.events import TaskStatus
from tests.clients_python.harness import AUTH, PsioProcess, Recorder, Servers, run


@pytest.fixture(scope="package")
def psio(servers: Servers) -> PsioProcess:
    return servers.psio()


@pytest.fixture(scope="package")
def psio_polling_only(servers: Servers) -> PsioProcess:
    return servers.psio("--polling-only")


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_interop(backend: str, transport: str, psio: PsioProcess) -> None:
    async def scenario() -> None:
        hello = Recorder()
        client = connect(psio.url, namespaces=["/", "/chat"], auth=AUTH, transports=transport)
        client.on("hello", hello)
        chat = client.of("/chat")
        chat.on("question", lambda asked: f"{asked} 42")
        statuses = Recorder()
        chat.on(TaskStatus, statuses)
        async with client:
            assert client.transport == transport and chat.connected
            assert client.sid and chat.sid and client.sid != chat.sid

            assert await client.emit_with_ack("join", "r") == {"ok": True}
            reply = await client.emit_with_ack(
                "publish", {"room": "r", "event": "hello", "data": {"a": 1}}
            )
            assert reply == {"ok": True, "recipients": 1}
            assert await hello.wait(1) == [{"a": 1}]

            assert await chat.emit_with_ack("echo", 1, "x", [True, None]) == (1, "x", [True, None])
            assert await chat.emit_with_ack("echo", b"\x00\x01binary") == b"\x00\x01binary"
            answer = chat.wait_for("answer")
            assert await chat.emit_with_ack("ask", "life?") is True
            assert await answer == "life? 42"

            status = TaskStatus(task_id="t7", state="succeeded", percent=100.0, ts=5.0)
            await chat.emit(status)  # mirrored back by the server
            assert await statuses.wait(1) == [status]

    run(backend, scenario)


def test_refusals(backend: str, psio: PsioProcess) -> None:
    async def scenario() -> None:
        with pytest.raises(ConnectRefused) as refused:
            async with connect(psio.url, namespaces="/chat", auth={"token": "no"}):
                pass
        assert (refused.value.message, refused.value.data) == (
            "bad token",
            {"reason": "invalid_token"},
        )
        with pytest.raises(ConnectRefused):
            async with connect(psio.url, namespaces="/unknown"):
                pass

    run(backend, scenario)


def test_falls_back_to_polling(backend: str, psio_polling_only: PsioProcess) -> None:
    """WebSocket first; the server refuses it, so the client connects over long-polling."""

    async def scenario() -> None:
        async with connect(psio_polling_only.url, namespaces="/chat", auth=AUTH) as client:
            assert client.transport == "polling"
            assert await client.emit_with_ack("echo", "over polling") == "over polling"

    run(backend, scenario)
