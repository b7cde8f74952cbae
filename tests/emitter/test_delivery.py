"""Delivery over real sockets: priorities, coalescing behind a slow consumer, offline
users, several sessions, many users at once, and backpressure."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from hub.errors import QueueFull
from hub.protocol.socketio import SioType
from hub.testing import open_test_client, wait_until
from tests.emitter.conftest import StartUserHub, events, next_events, stalled

BIG_OUTBOX = {"outbox_bytes": 256 * 1024 * 1024}


async def test_an_error_overtakes_1000_queued_low_events(start_user_hub: StartUserHub) -> None:
    """Behind a slow consumer, an error emitted after 1,000 low events arrives first."""
    hub, port = await start_user_hub(**BIG_OUTBOX)
    emitter = hub.user("alice")
    async with open_test_client(port, auth={"user": "alice"}) as client:
        async with stalled(hub, client, "alice"):
            lows = [emitter.emit_nowait("log", i, priority="low") for i in range(1000)]
            # The backlog is the emitter's, not the connection's: nothing has left.
            assert all(handle.state == "queued" for handle in lows)
            error = emitter.emit_nowait("job_error", {"job": 7})
            assert emitter.queue.queued == 1001  # (the "stall" event waits for its ack too)
        received = await next_events(client, 1001, skip=("filler", "stall"))
        assert received[0][0] == "job_error"
        assert [args[0] for _, args in received[1:]] == list(range(1000))
        assert (await error.wait(5)).state == "delivered"
        assert (await lows[-1].wait(5)).state == "delivered"


async def test_coalescing_behind_a_slow_consumer_keeps_only_the_latest(
    start_user_hub: StartUserHub,
) -> None:
    """1,000 progress updates queued behind a slow reader: only the last one is sent."""
    hub, port = await start_user_hub(**BIG_OUTBOX)
    emitter = hub.user("alice")
    async with open_test_client(port, auth={"user": "alice"}) as client:
        async with stalled(hub, client, "alice"):
            updates = [
                emitter.emit_nowait("progress", {"pct": i / 10}, coalesce_key="job-1")
                for i in range(1000)
            ]
            assert emitter.queue.queued == 1
        done = emitter.emit_nowait("done")
        await next_events(client, 1, skip=("filler", "stall", "progress"))
        progress = events(client, "progress")
        assert [args[0] for _, args in progress] == [{"pct": 99.9}]
        assert progress[0][1][1] == {"id": updates[-1].id}
        for handle in updates[:-1]:
            outcome = handle.outcome
            assert outcome is not None and (outcome.state, outcome.reason) == (
                "dropped",
                "coalesced",
            )
        assert (await done.wait(5)).state == "delivered"
        assert hub.stats().emitter.dropped == {"coalesced": 999}
        assert hub.stats().emitter.users["alice"].dropped == {"coalesced": 999}


async def test_offline_events_wait_and_arrive_in_order_after_connect(
    start_user_hub: StartUserHub,
) -> None:
    """Events for a user with no session wait; the next connect gets them, in order,
    after its CONNECT reply."""
    hub, port = await start_user_hub()
    emitter = hub.user("bob")
    handles = [emitter.emit_nowait("note", i) for i in range(50)]
    handles.append(emitter.emit_nowait("alert", "x", priority="critical"))
    assert {handle.state for handle in handles} == {"queued"}
    async with open_test_client(port, auth={"user": "bob"}) as client:
        received = await next_events(client, 51)
        assert received[0] == ("alert", ["x", {"id": handles[-1].id}])
        assert [args[0] for _, args in received[1:]] == list(range(50))
        assert client.received[0].type is SioType.CONNECT
        for handle in handles:
            assert (await handle.wait(5)).state == "delivered"


async def test_events_wait_for_the_namespace_they_name(start_user_hub: StartUserHub) -> None:
    """An event for /dash waits while the user is only on /, then goes when /dash joins."""
    hub, port = await start_user_hub()
    emitter = hub.user("dan")
    async with open_test_client(port, auth={"user": "dan"}) as client:
        board = emitter.emit_nowait("board", 1, namespace="/dash")
        plain = emitter.emit_nowait("plain", 2)
        assert await client.next_event() == ("plain", [2, {"id": plain.id}])
        assert board.state == "queued"
        await client.connect("/dash", {"user": "dan"})
        assert await client.next_event("/dash") == ("board", [1, {"id": board.id}])
    with pytest.raises(KeyError):
        emitter.emit_nowait("x", namespace="/nowhere")


async def test_three_sessions_of_one_user_all_receive(start_user_hub: StartUserHub) -> None:
    """Two tabs on / and one on /dash get every event; another user gets none."""
    hub, port = await start_user_hub()
    emitter = hub.user("carol")
    async with (
        open_test_client(port, auth={"user": "carol"}) as tab1,
        open_test_client(port, auth={"user": "carol"}) as tab2,
        open_test_client(port, connect="/dash", auth={"user": "carol"}) as board,
        open_test_client(port, auth={"user": "dave"}) as other,
    ):
        handles = [await emitter.emit("tick", i) for i in range(20)]
        only_root = await emitter.emit("root", namespace="/")
        for client, namespace in ((tab1, "/"), (tab2, "/"), (board, "/dash")):
            got = await next_events(client, 20, namespace)
            assert [(name, args[0]) for name, args in got] == [("tick", i) for i in range(20)]
            assert [args[1]["id"] for _, args in got] == [handle.id for handle in handles]
        for tab in (tab1, tab2):
            assert await tab.next_event() == ("root", [None, {"id": only_root.id}])
        hub.emit_to_user("dave", "end")
        assert await other.next_event() == ("end", [])
        assert events(board, "root", "/dash") == []


async def test_100_users_x_100_events_concurrently_never_cross(
    start_user_hub: StartUserHub,
) -> None:
    """100 producers, one per user, emit at once; each user gets exactly its 100, in order."""
    hub, port = await start_user_hub()
    users = [f"user-{n}" for n in range(100)]
    results: dict[str, list[Any]] = {}

    async def consume(user: str, ready: trio.Event, go: trio.Event) -> None:
        async with open_test_client(port, auth={"user": user}) as client:
            ready.set()
            await go.wait()
            got = await next_events(client, 100)
            results[user] = [args[0] for _, args in got]
            await trio.sleep(0.05)  # a stray event for someone else would land here
            assert client.pending_events() == 0

    async def produce(user: str) -> None:
        emitter = hub.user(user)
        for i in range(100):
            await emitter.emit("item", {"user": user, "i": i})

    go = trio.Event()
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for user in users:
                ready = trio.Event()
                nursery.start_soon(consume, user, ready, go)
                await ready.wait()
            go.set()
            for user in users:
                nursery.start_soon(produce, user)
    for user in users:
        assert results[user] == [{"user": user, "i": i} for i in range(100)]
    stats = hub.stats().emitter
    assert stats.delivered == 100 * 100 and stats.pending == 0


async def test_backpressure_blocks_the_producer(start_user_hub: StartUserHub) -> None:
    """With the queue full, ``await emit`` waits (the queue stays at its bound) and
    ``emit_nowait`` raises; once the user connects, the producer finishes."""
    hub, port = await start_user_hub(emitter_queue=50)
    emitter = hub.user("erin")
    sent = 0

    async def producer() -> None:
        nonlocal sent
        for i in range(300):
            await emitter.emit("row", i)
            sent += 1

    async with trio.open_nursery() as nursery:
        nursery.start_soon(producer)
        await wait_until(lambda: sent == 50)
        await trio.sleep(0.1)
        assert sent == 50 and len(emitter.queue) == 50  # blocked, not growing
        with pytest.raises(QueueFull):
            emitter.emit_nowait("row", -1)
        with trio.fail_after(20):
            async with open_test_client(port, auth={"user": "erin"}) as client:
                got = await next_events(client, 300)
                assert [args[0] for _, args in got] == list(range(300))
    assert sent == 300


async def test_overflow_drops_only_unacked_lower_priority_events(
    start_user_hub: StartUserHub,
) -> None:
    """A full queue makes room for a more urgent event by dropping an older low one
    (reported), never an acked or critical one."""
    hub, _ = await start_user_hub(emitter_queue=3)
    emitter = hub.user("fay")
    low = emitter.emit_nowait("a", priority="low")
    acked = emitter.emit_nowait("b", priority="low", ack=True)
    critical = emitter.emit_nowait("c", priority="critical")
    urgent = emitter.emit_nowait("d", priority="high")
    assert low.outcome is not None and (low.outcome.state, low.outcome.reason) == (
        "dropped",
        "overflow",
    )
    assert acked.outcome is None and critical.outcome is None and urgent.outcome is None
    emitter.emit_nowait("e", priority="critical")  # the high one makes room this time
    assert urgent.outcome is not None and urgent.outcome.reason == "overflow"
    with pytest.raises(QueueFull):  # left: an acked low and two critical events
        emitter.emit_nowait("f", priority="critical")
    assert acked.outcome is None and critical.outcome is None
    assert hub.stats().emitter.dropped == {"overflow": 2}
