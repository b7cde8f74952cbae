"""Embedded lifecycle: graceful shutdown, serving again, port ranges, settings, threads."""

from __future__ import annotations

import errno
import socket
import threading
from typing import Any

import pytest
import trio

from hub import Hub, NotConnected, NotRunning, Session, get_hub
from hub.testing import open_test_client, wait_until


def feed_hub(**settings: Any) -> Hub:
    hub = Hub(**settings)

    @hub.namespace("/").on("join")
    async def join(session: Session, room: str) -> None:
        await session.enter(room)

    return hub


async def test_shutdown_flushes_then_tells_clients_and_serve_returns() -> None:
    """Queued events arrive, then a 1001 'server shutting down' close; serve returns."""
    hub = feed_hub()
    reasons: list[str] = []

    @hub.namespace("/").on_disconnect
    async def gone(session: Session, reason: str) -> None:
        reasons.append(reason)

    async with trio.open_nursery() as nursery:
        port = await nursery.start(hub.serve, "127.0.0.1", 0)
        assert hub.running and hub.started_at is not None
        async with open_test_client(port) as client:
            await client.call("join", "r")
            for seq in range(50):
                hub.emit_nowait("e", seq, "x" * 10_000, to="r")
            await hub.shutdown(grace=5)
            received = [(await client.next_event())[1][0] for _ in range(50)]
            assert received == list(range(50))
            with pytest.raises(NotConnected):
                await client.next_event()
            assert client.ws.closed is not None
            assert (client.ws.closed.code, client.ws.closed.reason) == (
                1001,
                "server shutting down",
            )
    # The nursery exited by itself: serve returned after the shutdown.
    assert not hub.running
    assert reasons == ["server shutting down"]


async def test_shutdown_forces_connections_that_outlast_the_grace() -> None:
    """A connection whose teardown hangs is cancelled once the grace period ends."""
    hub = Hub()
    release = trio.Event()

    @hub.namespace("/").on_disconnect
    async def slow(session: Session, reason: str) -> None:
        await release.wait()  # never set: the teardown would wait its own 5 s bound

    async with trio.open_nursery() as nursery:
        port = await nursery.start(hub.serve, "127.0.0.1", 0)
        async with open_test_client(port):
            started = trio.current_time()
            await hub.shutdown(grace=0.2)
            assert trio.current_time() - started < 4
    assert not hub.running


async def test_a_stopped_hub_serves_again_with_its_handlers() -> None:
    """After shutdown the same hub can serve again; namespaces and handlers remain."""
    hub = feed_hub()
    async with trio.open_nursery() as nursery:
        port = await nursery.start(hub.serve, "127.0.0.1", 0)
        await hub.shutdown()
    async with trio.open_nursery() as nursery:
        port = await nursery.start(hub.serve, "127.0.0.1", 0)
        async with open_test_client(port) as client:
            await client.call("join", "r")
            assert await hub.emit("again", to="r") == 1
            assert await client.next_event() == ("again", [])
        await hub.shutdown()


async def test_serving_twice_at_once_is_refused() -> None:
    """A hub serves one listener set at a time."""
    hub = Hub()
    async with trio.open_nursery() as nursery:
        await nursery.start(hub.serve, "127.0.0.1", 0)
        with pytest.raises(RuntimeError, match="already serving"):
            await hub.serve("127.0.0.1", 0)
        await hub.shutdown()


async def test_port_range_skips_taken_ports() -> None:
    """With several ports, a taken one is skipped; when all are taken it is an OSError."""
    with socket.socket() as taken, socket.socket() as spare:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        spare.bind(("127.0.0.1", 0))
        busy, free = taken.getsockname()[1], spare.getsockname()[1]
        spare.close()
        hub = Hub()
        async with trio.open_nursery() as nursery:
            assert await nursery.start(hub.serve, "127.0.0.1", [busy, free]) == free
            assert hub.port == free
            await hub.shutdown()
        with pytest.raises(OSError) as refused:
            await hub.serve("127.0.0.1", [busy])
        assert refused.value.errno == errno.EADDRINUSE


async def test_reconfigure_applies_to_new_connections() -> None:
    """New settings are validated and used by connections opened afterwards."""
    hub = Hub(ping_interval=25)
    async with trio.open_nursery() as nursery:
        port = await nursery.start(hub.serve, "127.0.0.1", 0)
        async with open_test_client(port) as before:
            hub.reconfigure(ping_interval=7)
            async with open_test_client(port) as after:
                assert before.handshake["pingInterval"] == 25000
                assert after.handshake["pingInterval"] == 7000
        await hub.shutdown()


async def test_eight_threads_publish_10000_events_each_in_order() -> None:
    """Events published from 8 threads arrive once each, in per-thread order."""
    threads, per_thread = 8, 10_000
    hub = feed_hub(outbox_messages=threads * per_thread, outbox_bytes=64 * 1024 * 1024)
    async with trio.open_nursery() as nursery:
        port = await nursery.start(hub.serve, "127.0.0.1", 0)
        async with open_test_client(port) as client:
            await client.call("join", "feed")

            def publish(thread: int) -> None:
                for seq in range(per_thread):
                    hub.publish_threadsafe("tick", thread, seq, to="feed")

            workers = [threading.Thread(target=publish, args=(t,)) for t in range(threads)]
            for worker in workers:
                worker.start()
            seen: dict[int, list[int]] = {t: [] for t in range(threads)}
            with trio.fail_after(120):
                for _ in range(threads * per_thread):
                    _, (thread, seq) = await client.next_event(timeout=30)
                    seen[thread].append(seq)
            await trio.to_thread.run_sync(lambda: [w.join() for w in workers])
        await hub.shutdown()
    assert all(seqs == list(range(per_thread)) for seqs in seen.values())
    assert hub.stats().errors == {}


async def test_publish_threadsafe_reports_a_hub_that_is_not_running() -> None:
    """Before serving and after shutdown, publishing from a thread raises NotRunning."""
    hub = Hub()
    with pytest.raises(NotRunning):
        await trio.to_thread.run_sync(lambda: hub.publish_threadsafe("e"))
    async with trio.open_nursery() as nursery:
        await nursery.start(hub.serve, "127.0.0.1", 0)
        await trio.to_thread.run_sync(lambda: hub.publish_threadsafe("e", 1))
        with pytest.raises(TypeError):
            await trio.to_thread.run_sync(lambda: hub.publish_threadsafe("e", object()))
        with pytest.raises(KeyError):
            await trio.to_thread.run_sync(lambda: hub.publish_threadsafe("e", namespace="/x"))
        await hub.shutdown()
    with pytest.raises(NotRunning):
        await trio.to_thread.run_sync(lambda: hub.publish_threadsafe("e"))


def test_get_hub_is_one_instance_across_threads() -> None:
    """get_hub() returns the same Hub from every thread."""
    found: list[Hub] = []
    workers = [threading.Thread(target=lambda: found.append(get_hub())) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(found) == 8
    assert all(hub is get_hub() for hub in found)


async def test_wait_until_helper_times_out() -> None:
    """The test kit's wait_until raises TooSlowError when the state never comes."""
    with pytest.raises(trio.TooSlowError):
        await wait_until(lambda: False, timeout=0.05)
