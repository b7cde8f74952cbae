"""hub.publisher.Publisher against a real hub subprocess and a real Socket.IO subscriber.

Publishing happens in plain threads (the publisher is synchronous); the subscriber is
hub.testing's trio client. Blocking calls (flush, close, stopping a hub) run in a trio
worker thread, so the subscriber keeps reading meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import trio

from hub.publisher import (
    Publisher,
    PublisherClosed,
    PublisherFull,
    PublishFailure,
    Retry,
)
from hub.testing import TestClient, open_test_client
from tests.publisher.conftest import KEY, Hubs, free_port

THREADS = 8
PER_THREAD = 5_000
# Generous: 40,000 events take 15-22 s on 2 cores, subscriber and all.
LOAD_TIMEOUT = 120.0
# A call returns after encoding and queueing; this bound allows for a loaded machine.
CALL_BOUND = 0.25

Make = Callable[..., Publisher]


@pytest.fixture
def make(publishers: list[Publisher]) -> Make:
    def make(url: str, key: str = KEY, **options: Any) -> Publisher:
        publisher = Publisher(url, key, **options)
        publishers.append(publisher)
        return publisher

    return make


async def in_thread(function: Callable[..., Any], *args: Any) -> Any:
    return await trio.to_thread.run_sync(partial(function, *args))


async def receive(client: TestClient, count: int, timeout: float = 10) -> list[tuple[str, Any]]:
    """The next ``count`` events: (name, first argument)."""
    got = []
    with trio.fail_after(timeout):
        for _ in range(count):
            name, args = await client.next_event(timeout=timeout)
            got.append((name, args[0] if args else None))
    return got


async def nothing_more(client: TestClient, wait: float = 0.3) -> None:
    await trio.sleep(wait)
    assert client.pending_events() == 0


def publisher_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hub-publisher-")]


async def test_eight_threads_deliver_everything_in_order(hubs: Hubs, make: Make) -> None:
    server = hubs.start()
    # The producers outrun HTTP: they wait for room (at most `block` s a call) rather than
    # get PublisherFull, which is the default.
    publisher = make(server.url, block=LOAD_TIMEOUT)

    def produce(thread: int) -> None:
        for seq in range(PER_THREAD):
            publisher.publish("tick", [thread, seq], room="load")

    async with open_test_client(server.port) as client:
        assert (await client.call("join", "load"))[0]["ok"] is True
        started = time.perf_counter()
        seen: dict[int, list[int]] = {thread: [] for thread in range(THREADS)}
        async with trio.open_nursery() as nursery:
            for thread in range(THREADS):
                nursery.start_soon(in_thread, produce, thread)
            with trio.fail_after(LOAD_TIMEOUT):
                for _ in range(THREADS * PER_THREAD):
                    name, args = await client.next_event(timeout=LOAD_TIMEOUT)
                    assert name == "tick"
                    thread, seq = args[0]
                    seen[thread].append(seq)
        elapsed = time.perf_counter() - started
        assert await in_thread(publisher.flush, 5.0)
        await nothing_more(client)
    for thread in range(THREADS):
        assert seen[thread] == list(range(PER_THREAD)), f"thread {thread} out of order"
    stats = publisher.stats()
    assert (stats.sent, stats.failed, stats.queued) == (THREADS * PER_THREAD, 0, 0)
    assert stats.connects == 4  # one keep-alive connection per worker, reused throughout
    print(
        f"\n{THREADS * PER_THREAD} events from {THREADS} threads in {elapsed:.2f} s: "
        f"{THREADS * PER_THREAD / elapsed:,.0f} events/s"
    )


async def test_hub_restart_is_bridged(hubs: Hubs, make: Make) -> None:
    """Events published while the hub restarts wait in the publisher and arrive after,
    in order, once each (the user's emitter holds them until she connects again)."""
    port = free_port()
    server = hubs.start(port)
    publisher = make(server.url, pool=2, retry=Retry(max_age=30, backoff_max=0.3))
    async with open_test_client(port, auth={"user": "alice"}) as client:
        for seq in range(100):
            publisher.emit_to_user("alice", "step", seq)
        assert await in_thread(publisher.flush, 10.0)
        assert await receive(client, 100) == [("step", seq) for seq in range(100)]
    await in_thread(server.stop)

    slowest = 0.0
    for seq in range(100, 200):
        began = time.perf_counter()
        publisher.emit_to_user("alice", "step", seq)
        slowest = max(slowest, time.perf_counter() - began)
    assert slowest < CALL_BOUND
    assert not await in_thread(publisher.flush, 0.5)  # the hub is down: still queued
    assert publisher.failures.count == 0
    assert publisher.stats().queued == 100

    hubs.start(port)
    assert await in_thread(publisher.flush, 15.0)
    for seq in range(200, 210):
        publisher.emit_to_user("alice", "step", seq)
    assert await in_thread(publisher.flush, 10.0)
    async with open_test_client(port, auth={"user": "alice"}) as client:
        assert await receive(client, 110) == [("step", seq) for seq in range(100, 210)]
        await nothing_more(client)
    stats = publisher.stats()
    assert (stats.sent, stats.failed, stats.queued) == (210, 0, 0)
    assert stats.retries >= 1 and stats.connects >= 2
    assert publisher.failures.last is None


async def test_events_past_max_age_are_failures(hubs: Hubs, make: Make) -> None:
    """Nothing listens: calls return at once; each event fails as expired after max_age."""
    port = free_port()
    errors: list[PublishFailure] = []
    publisher = make(
        f"http://127.0.0.1:{port}",
        retry=Retry(max_age=0.5, backoff=0.05, backoff_max=0.2),
        on_error=errors.append,
    )
    began = time.monotonic()
    slowest = 0.0
    for seq in range(20):
        call = time.perf_counter()
        publisher.publish("lost", seq)
        slowest = max(slowest, time.perf_counter() - call)
    assert slowest < CALL_BOUND
    assert await in_thread(publisher.flush, 10.0)
    assert time.monotonic() - began >= 0.5
    failures = publisher.failures
    assert failures.count == 20 == len(errors)
    assert {error.kind for error in errors} == {"expired"}
    assert {error.path for error in errors} == {"/api/publish"}
    assert sorted(error.event for error in errors) == ["lost"] * 20
    assert failures.last is not None and "ConnectionRefusedError" in failures.last.message

    # The hub comes up: what is published now arrives; the expired events never do.
    server = hubs.start(port)
    async with open_test_client(server.port) as client:
        publisher.publish("found", 1)
        assert await receive(client, 1) == [("found", 1)]
        await nothing_more(client)
    assert publisher.failures.count == 20
    assert publisher.stats().sent == 1


async def test_full_queue_raises_at_once_or_after_block(make: Make) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens: the queue only fills
    publisher = make(url, pool=1, queue=5)
    for seq in range(5):
        publisher.publish("e", seq)
    began = time.perf_counter()
    with pytest.raises(PublisherFull):
        publisher.publish("e", 5)
    assert time.perf_counter() - began < CALL_BOUND

    waiting = make(url, pool=1, queue=1, block=0.3)
    waiting.publish("e", 0)
    began = time.perf_counter()
    with pytest.raises(PublisherFull):
        waiting.publish("e", 1)
    assert 0.25 <= time.perf_counter() - began < 0.3 + 1.0
    assert waiting.failures.count == 0  # refused at the call: not a failure of delivery
    assert not await in_thread(waiting.close, 0.05)

    # close: the queued events could not be sent in time; they are failures ("closed").
    assert not await in_thread(publisher.close, 0.2)
    failures = publisher.failures
    assert failures.count == 5
    assert failures.last is not None and failures.last.kind == "closed"
    assert "ConnectionRefusedError" in failures.last.message
    with pytest.raises(PublisherClosed):
        publisher.publish("e", 6)
    assert not publisher.close()  # again: the same answer, at once


async def test_refusals_are_failures_not_exceptions(hubs: Hubs, make: Make) -> None:
    server = hubs.start()
    errors: list[PublishFailure] = []

    refused: list[RuntimeError] = []

    def on_error(failure: PublishFailure) -> None:
        errors.append(failure)
        if len(errors) == 1:
            raise RuntimeError("a broken callback is logged, and the worker goes on")
        try:
            wrong.flush(1.0)  # would wait for this very worker
        except RuntimeError as error:
            refused.append(error)

    wrong = make(server.url, "not-the-key", on_error=on_error)
    publisher = make(server.url, on_error=errors.append)
    async with open_test_client(server.port) as client:
        assert (await client.call("join", "r"))[0]["ok"] is True
        for seq in range(3):
            wrong.publish("secret", seq, room="r")
        wrong.emit_to_user("alice", "secret")
        assert await in_thread(wrong.flush, 10.0)
        failures = wrong.failures
        assert failures.count == 4 == len(errors)
        assert {(error.kind, error.status, error.attempts) for error in errors} == {
            ("unauthorized", 401, 1)
        }
        assert errors[-1].path == "/api/users/alice/emit"
        assert len(refused) == 3

        errors.clear()
        publisher.publish("connect", room="r")  # reserved
        publisher.publish("e", 1, namespace="/nope")
        publisher.emit_to_user("a/b", "e", priority="urgent")
        publisher.publish("ok", 1, room="r")
        assert await in_thread(publisher.flush, 10.0)
        assert [(error.kind, error.status) for error in errors] == [
            ("reserved_event", 400),
            ("unknown_namespace", 404),
            ("invalid_body", 400),
        ]
        assert errors[-1].path == "/api/users/a%2Fb/emit"
        assert publisher.failures.count == 3 and publisher.failures.last == errors[-1]
        assert await receive(client, 1) == [("ok", 1)]  # only the one that was valid
        await nothing_more(client)
    assert publisher.stats().sent == 1


def test_bad_arguments_raise_at_the_call(publishers: list[Publisher]) -> None:
    publisher = Publisher(f"http://127.0.0.1:{free_port()}", KEY)
    publishers.append(publisher)
    with pytest.raises(TypeError):
        publisher.publish("e", object())  # JSON cannot carry it
    with pytest.raises(ValueError, match="room or rooms"):
        publisher.publish("e", room="a", rooms=["b"])
    with pytest.raises(ValueError, match="event"):
        publisher.publish("")
    with pytest.raises(ValueError, match="user_id"):
        publisher.emit_to_user("", "e")
    assert publisher.stats().queued == 0
    with pytest.raises(ValueError, match="url"):
        Publisher("ftp://example.org", KEY)


async def test_retry_after_429(hubs: Hubs, make: Make) -> None:
    """bob's emitter holds 3 events while he is offline; the 4th gets 429 (Retry-After: 1)
    and is sent again, after the wait, until his connect makes room: all arrive in order."""
    server = hubs.start(None, "--emitter-queue", "3")
    publisher = make(server.url, pool=1)
    for seq in range(6):
        publisher.emit_to_user("bob", "n", seq)
    assert not await in_thread(publisher.flush, 0.5)
    assert publisher.stats().sent == 3 and publisher.stats().retries >= 1
    async with open_test_client(server.port, auth={"user": "bob"}) as client:
        assert await receive(client, 6) == [("n", seq) for seq in range(6)]
        assert await in_thread(publisher.flush, 10.0)
        await nothing_more(client)
    assert publisher.failures.count == 0


async def test_flush_and_close(hubs: Hubs, make: Make) -> None:
    server = hubs.start()
    async with open_test_client(server.port) as client:
        with Publisher(server.url, KEY, pool=2) as publisher:
            assert publisher.flush(0.1)  # nothing pending
            for seq in range(300):
                publisher.publish("e", seq, rooms=["a", "b"], except_="nobody")
                publisher.publish("e", seq)
        # Leaving the block closed it: everything was sent first.
        assert publisher.closed and publisher.stats().sent == 600
        assert publisher_threads() == []
        got = await receive(client, 300)
        assert got == [("e", seq) for seq in range(300)]
        await nothing_more(client)
        with pytest.raises(PublisherClosed):
            publisher.publish("e", 0)
        assert publisher.close()  # closed cleanly, and says so again

        # Several threads flushing and publishing at once: flush waits for what came
        # before it, from every thread.
        publisher = make(server.url)

        def burst(thread: int) -> bool:
            for seq in range(50):
                publisher.publish("b", [thread, seq])
            return publisher.flush(10.0)

        results = []
        async with trio.open_nursery() as nursery:
            for thread in range(4):

                async def run(thread: int = thread) -> None:
                    results.append(await in_thread(burst, thread))

                nursery.start_soon(run)
        assert results == [True] * 4
        got = await receive(client, 200)
        for thread in range(4):
            assert [args[1] for _, args in got if args[0] == thread] == list(range(50))
        assert await in_thread(publisher.close, 5.0)
    assert publisher_threads() == []
