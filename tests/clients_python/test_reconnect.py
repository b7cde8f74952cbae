"""Reconnecting: a hub restarted on its port (backoff delays, the offline queue flushed in
order), a connection cut by a fault proxy (connection state recovery, nothing missed),
and a client that runs out of attempts. Under trio and under asyncio."""

from __future__ import annotations

import os
import signal
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from hub_client import (
    Backoff,
    ConnectError,
    ConnectRefused,
    NotConnected,
    OfflineQueueFull,
    ReconnectFailed,
    connect,
)

from tests.clients_python.harness import AUTH, Recorder, Servers, api, publish, run


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_reconnect_after_restart_flushes_offline_queue(
    backend: str, transport: str, own_servers: Servers
) -> None:
    first = own_servers.interop_app()
    port = first.port

    async def scenario() -> None:
        seq, lifecycle = Recorder(), Recorder()
        client = connect(
            first.url,
            namespaces="/test",
            auth=AUTH,
            reconnect_delay=0.2,
            reconnect_delay_max=0.8,
            offline_queue=12,
            transports=transport,
        )
        client.on("seq", seq)
        client.on("connect", lambda: lifecycle("connect"))
        client.on("disconnect", lambda reason: lifecycle(("disconnect", reason)))
        async with client:
            old_sid = client.sid
            await lifecycle.wait(1)
            await anyio.to_thread.run_sync(first.stop)
            await lifecycle.wait(2)
            assert lifecycle.calls[1] == ("disconnect", "transport close")
            assert client.state == "reconnecting" and not client.connected

            # Emitted while the hub is down: kept, in order, and sent once it is back.
            await client.emit("join", "me")
            for n in range(10):
                await client.emit("broadcast", {"room": "me", "event": "seq", "args": [n]})
            echoed: list[Any] = []

            async def ask() -> None:
                echoed.append(await client.emit_with_ack("echo", "late", timeout=30))

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(ask)
                await anyio.sleep(0.05)
                assert client.stats().queued == 12
                with pytest.raises(OfflineQueueFull):
                    await client.emit("echo", "one too many")
                await anyio.sleep(0.3)  # attempts fail while nothing listens (and it starts)
                await anyio.to_thread.run_sync(own_servers.interop_app, "--port", str(port))
                assert await seq.wait(10, timeout=20) == list(range(10))
            assert echoed == ["late"]
            assert client.connected and client.sid != old_sid and not client.recovered
            assert client.transport == transport
            assert lifecycle.calls[2] == "connect"

        delays = client.reconnect_delays
        assert len(delays) >= 2, delays  # at least one attempt failed while the hub was down
        backoff = Backoff(0.2, 0.8, jitter=0.5)
        for attempt, delay in enumerate(delays, start=1):
            low, high = backoff.bounds(attempt)
            assert low - 1e-9 <= delay <= high + 1e-9, (attempt, delay, delays)
        stats = client.stats()
        assert stats.connects == 2 and stats.queued == 0

    run(backend, scenario)


def test_recovery_after_forced_disconnect(backend: str, own_servers: Servers) -> None:
    """Cut mid-stream by the fault proxy: the client comes back with its pid and offset,
    gets the same sid, and the events published while it was away, in order, once."""
    hub = own_servers.standalone("--api-keys", "client-tests-key", "--recovery", "60")
    proxy = own_servers.proxy(hub)
    room = f"recover-{backend}"

    async def scenario() -> None:
        steps = Recorder()
        client = connect(
            proxy.url,
            transports="websocket",
            reconnect_delay=1.5,  # the cut is well over before the client is back
            reconnect_jitter=0,
        )
        client.on("step", steps)
        async with client:
            await client.join(room)
            sent = [await publish(hub.url, "step", {"n": n}, room) for n in (1, 2)]
            await steps.wait(2)
            assert client.offset == sent[-1]
            sid = client.sid

            cut = await anyio.to_thread.run_sync(proxy.command, "cut")
            assert cut["cut"] >= 1
            for n in (3, 4, 5):
                await publish(hub.url, "step", {"n": n}, room)
            assert await steps.wait(5, timeout=20) == [{"n": n} for n in (1, 2, 3, 4, 5)]
            assert client.recovered and client.sid == sid
            await publish(hub.url, "step", {"n": 6}, room)  # the room came back with it
            assert (await steps.wait(6))[5] == {"n": 6}
            assert steps.calls == [{"n": n} for n in range(1, 7)]
        assert client.reconnect_delays == [1.5]
        assert client.stats().recoveries == 1
        assert (await api(hub.url, "/api/stats"))["recovered"] >= 1

    run(backend, scenario)


def test_gives_up_after_bounded_attempts(backend: str, own_servers: Servers) -> None:
    hub = own_servers.interop_app()

    async def scenario() -> None:
        gone = Recorder()
        client = connect(
            hub.url,
            namespaces="/test",
            auth=AUTH,
            reconnect_delay=0.1,
            reconnect_delay_max=0.2,
            reconnect_attempts=2,
            transports=["websocket"],
        )
        client.on("connect_error", gone)
        async with client:
            waiting = client.wait_for("never")
            first_error = client.wait_for("connect_error")
            await anyio.to_thread.run_sync(hub.stop)
            assert isinstance(await first_error, ConnectError)
            with pytest.raises(ReconnectFailed) as failed:
                await waiting
            assert isinstance(failed.value, NotConnected)
            assert failed.value.__cause__ is not None
            assert client.state == "closed" and client.failure is failed.value
            with pytest.raises(ReconnectFailed):
                await client.emit("echo", 1)
            assert len(client.reconnect_delays) == 2
            assert len(await gone.wait(2)) == 2

    run(backend, scenario)


def test_refused_reconnect_stops(backend: str, own_servers: Servers) -> None:
    """``auth`` may be a callable (here async), called for each attempt; a reconnect the
    server refuses stops the client with ``ReconnectFailed`` (cause: ``ConnectRefused``)."""
    hub = own_servers.interop_app()
    proxy = own_servers.proxy(hub)

    async def scenario() -> None:
        tokens = iter(["secret", "expired"])

        async def auth() -> dict[str, str]:
            await anyio.lowlevel.checkpoint()
            return {"token": next(tokens)}

        client = connect(proxy.url, namespaces="/test", auth=auth, reconnect_delay=0.1)
        async with client:
            assert await client.emit_with_ack("whoami") == {"token": "[redacted]"}
            gone = client.wait_for("disconnect")
            await anyio.to_thread.run_sync(proxy.command, "cut")
            assert await gone == "transport close"
            with pytest.raises(ReconnectFailed) as failed:
                await client.wait_for("never", timeout=10)
            assert isinstance(failed.value.__cause__, ConnectRefused)
            assert failed.value.__cause__.message == "bad token"
            assert client.state == "closed"

    run(backend, scenario)


def test_silent_server_is_a_ping_timeout(backend: str, own_servers: Servers) -> None:
    """A hub that stops answering (SIGSTOP) is given up after its ping interval plus
    timeout; once it runs again (SIGCONT) the client reconnects."""
    hub = own_servers.interop_app("--ping-interval", "0.5", "--ping-timeout", "1")

    async def scenario() -> None:
        client = connect(
            hub.url,
            namespaces="/test",
            auth=AUTH,
            connect_timeout=1,
            reconnect_delay=0.2,
            reconnect_delay_max=0.4,
        )
        async with client:
            await anyio.sleep(2)  # longer than 1.5 s, but pings come: nothing happens
            assert client.connected and client.stats().connects == 1
            gone, back = client.wait_for("disconnect", timeout=10), client.wait_for("connect")
            os.kill(hub.proc.pid, signal.SIGSTOP)
            try:
                assert await gone == "ping timeout"
            finally:
                os.kill(hub.proc.pid, signal.SIGCONT)
            with anyio.fail_after(15):
                await back
            assert await client.emit_with_ack("echo", "awake") == "awake"

    run(backend, scenario)
