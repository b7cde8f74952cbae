"""Batching: batchable events leave together as one ``hub:batch`` frame."""

from __future__ import annotations

import trio

from hub.testing import open_test_client
from tests.emitter.conftest import StartUserHub, next_events


async def test_batching_reduces_frames_on_the_wire(start_user_hub: StartUserHub) -> None:
    """200 events: 200 frames unbatched; a handful batched, every item in order."""
    hub, port = await start_user_hub(emitter_batch_size=50, emitter_batch_window_ms=50)
    emitter = hub.user("alice")
    async with open_test_client(port, auth={"user": "alice"}) as client:
        plain = [await emitter.emit("row", i) for i in range(200)]
        await next_events(client, 200)
        frames_plain = sum(1 for packet in client.received if packet.is_event)
        client.received.clear()

        batched = [await emitter.emit("row", i, batch=True) for i in range(200)]
        items = []
        with trio.fail_after(10):
            while len(items) < 200:
                name, args = await client.next_event()
                if name == "hub:batch":
                    items.extend(args[0])
                else:  # a batch of one leaves as a plain event
                    items.append({"event": name, "data": args[0], "id": args[1]["id"]})
        frames_batched = sum(1 for packet in client.received if packet.is_event)
        assert frames_plain == 200
        assert frames_batched <= 10, frames_batched
        assert items == [{"event": "row", "data": i, "id": h.id} for i, h in enumerate(batched)]
        assert {h.id for h in plain}.isdisjoint(h.id for h in batched)
        for handle in batched:
            assert (await handle.wait(5)).state == "delivered"


async def test_a_lone_batchable_event_leaves_when_its_window_closes(
    start_user_hub: StartUserHub,
) -> None:
    hub, port = await start_user_hub(emitter_batch_window_ms=30)
    async with open_test_client(port, auth={"user": "bo"}) as client:
        handle = hub.user("bo").emit_nowait("tick", 1, batch=True)
        assert handle.state == "queued"  # waiting for company
        assert await client.next_event() == ("tick", [1, {"id": handle.id}])
        assert (await handle.wait(5)).state == "delivered"


async def test_batches_respect_priority(start_user_hub: StartUserHub) -> None:
    """A critical event does not wait for the low batch's window."""
    hub, port = await start_user_hub(emitter_batch_window_ms=200, emitter_batch_size=1000)
    emitter = hub.user("cy")
    async with open_test_client(port, auth={"user": "cy"}) as client:
        for i in range(10):
            emitter.emit_nowait("log", i, batch=True, priority="low")
        alarm = emitter.emit_nowait("alarm", priority="critical")
        assert await client.next_event() == ("alarm", [None, {"id": alarm.id}])
        name, args = await client.next_event()
        assert name == "hub:batch" and [item["data"] for item in args[0]] == list(range(10))
