"""`hub status`'s probe: GET /health, and the LSB exit code when nothing healthy answers."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from functools import partial

import pytest
import trio

from hub.cli.process import process_start
from hub.cli.status import probe
from hub.standalone import standalone_hub
from tests.cli.conftest import Sandbox
from tests.conftest import StartHub


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections (the kernel's backlog) and never answers: a hung hub."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def free_port() -> int:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        return int(taken.getsockname()[1])


async def run_probe(host: str, port: int, timeout: float = 5) -> tuple[bool, str]:
    # The probe blocks: in a thread, so the in-process hub goes on serving.
    return await trio.to_thread.run_sync(probe, host, port, timeout)


async def test_probe_of_a_serving_hub(start_hub: StartHub) -> None:
    _, port = await start_hub(standalone_hub())
    for host in ("127.0.0.1", "0.0.0.0"):  # a wildcard bind is probed on loopback
        ok, health = await run_probe(host, port)
        assert ok and health.startswith("GET /health answered in "), health


async def test_probe_of_a_port_that_does_not_answer(silent_port: int) -> None:
    ok, health = await run_probe("127.0.0.1", silent_port, timeout=0.3)
    assert not ok
    assert health.startswith(f"no answer to GET /health on port {silent_port}: TimeoutError")


async def test_probe_of_a_closed_port() -> None:
    port = free_port()
    ok, health = await run_probe("127.0.0.1", port)
    assert not ok and "ConnectionRefusedError" in health


async def test_probe_of_something_else_answering() -> None:
    """An HTTP server that is not the hub: its answer is not {"status": "ok"}."""

    async def other(stream: trio.SocketStream) -> None:
        await stream.receive_some()
        await stream.send_all(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"
        )

    async with trio.open_nursery() as nursery:
        (listener,) = await nursery.start(partial(trio.serve_tcp, other, 0, host="127.0.0.1"))
        port = listener.socket.getsockname()[1]
        ok, health = await run_probe("127.0.0.1", port)
        nursery.cancel_scope.cancel()
    assert (ok, health) == (False, f"port {port} answered GET /health with 200 b'hi'")


def test_status_of_a_live_process_that_does_not_answer_is_4(
    sandbox: Sandbox, bystander: subprocess.Popen[str], silent_port: int
) -> None:
    """The PID file's process lives, its port takes connections but never answers: exit 4."""
    sandbox.pid_file.parent.mkdir(parents=True)
    sandbox.pid_file.write_text(f"{bystander.pid}\n")
    state = {
        "pid": bystander.pid,
        "process_start": process_start(bystander.pid),
        "port": silent_port,
    }
    (sandbox.pid_file.parent / "hub.pid.json").write_text(json.dumps(state))
    result = sandbox.hub("status", "--json", "--timeout", "0.3")
    report = json.loads(result.stdout)
    assert (result.returncode, report["state"]) == (4, "not answering")
    assert report["health"].startswith("no answer to GET /health")
