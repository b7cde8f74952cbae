"""`python -m hub` as users run it: a real subprocess, its default namespace, SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import trio

from hub import NotConnected
from hub.testing import open_test_client


def is_publish_ack(ack: Any, recipients: int) -> bool:
    """A publish ack: ok, the recipient count, and the event's history offset."""
    (reply,) = ack
    return reply == {"ok": True, "recipients": recipients, "offset": reply.get("offset")} and (
        isinstance(reply["offset"], str)
    )


@pytest.fixture
def hub_process() -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A standalone hub on an ephemeral loopback port, stopped by its PID afterwards."""
    local = ["--host", "127.0.0.1", "--port", "0", "--client-publish", "true"]
    command = [sys.executable, "-m", "hub", *local]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith("hub listening on http://127.0.0.1:"), line
            yield process, int(line.rsplit(":", 1)[1])
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


async def test_default_namespace_join_publish_leave(
    hub_process: tuple[subprocess.Popen[str], int],
) -> None:
    """join, publish and leave are acknowledged and route events to room members."""
    _, port = hub_process
    async with open_test_client(port) as member, open_test_client(port) as publisher:
        assert await member.call("join", "project:42") == [{"ok": True, "room": "project:42"}]
        message = {"room": "project:42", "event": "task_status", "data": {"done": 3}}
        assert is_publish_ack(await publisher.call("publish", message), 1)
        assert await member.next_event() == ("task_status", [{"done": 3}])
        everyone = {"room": None, "event": "hello", "data": b"\x00binary"}
        assert is_publish_ack(await publisher.call("publish", everyone), 2)
        assert await member.next_event() == ("hello", [b"\x00binary"])
        assert await member.call("leave", "project:42") == [{"ok": True, "room": "project:42"}]
        assert is_publish_ack(await publisher.call("publish", message), 0)
        bad = await publisher.call("publish", {"room": 5, "event": "x"})
        assert bad[0]["ok"] is False and "room" in bad[0]["error"]
        assert (await publisher.call("join"))[0]["ok"] is False


async def test_sigterm_tells_clients_and_exits_zero(
    hub_process: tuple[subprocess.Popen[str], int],
) -> None:
    """SIGTERM closes every client with 1001 'server shutting down' and exits 0."""
    process, port = hub_process
    async with open_test_client(port) as client:
        await client.call("join", "r")
        process.send_signal(signal.SIGTERM)
        with pytest.raises(NotConnected):
            await client.next_event(timeout=10)
        assert client.ws.closed is not None
        assert client.ws.closed.code == 1001
        assert client.ws.closed.reason == "server shutting down"
    with trio.fail_after(10):
        while process.poll() is None:  # noqa: ASYNC110
            await trio.sleep(0.05)
    assert process.returncode == 0


def test_port_in_use_is_a_clear_error() -> None:
    """A taken port is reported in one line, not a traceback, with a non-zero exit."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "hub", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=20,
        )
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
