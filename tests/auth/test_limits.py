"""Per-session limits over real sockets: rooms per session, the event rate (refusal,
then the disconnect of a client that keeps going) and acks pending per session (a
``session.call`` refused, a user emitter holding events back until the client acks)."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from hub import Hub, Session
from hub.errors import LimitExceeded, NotConnected
from hub.standalone import standalone_hub
from hub.testing import TestClient, wait_until
from tests.auth.kit import SECRET, STEP, ack_event, asked, open_client, session_of, token
from tests.conftest import StartHub

# Rooms


async def join(client: TestClient, room: str, event: str = "join") -> dict[str, Any]:
    (answer,) = await client.call(event, room, timeout=STEP)
    assert isinstance(answer, dict)
    return answer


async def test_too_many_rooms(start_hub: StartHub) -> None:
    hub, port = await start_hub(standalone_hub(max_rooms=3))
    async with open_client(port) as client:
        for room in ("r1", "r2", "r3"):
            assert await join(client, room) == {"ok": True, "room": room}
        answer = await join(client, "r4")
        assert (answer["ok"], answer["error"]) == (False, "too_many_rooms")
        assert "3 rooms" in answer["message"]
        # A room the session is in already is no new room.
        assert (await join(client, "r1"))["ok"] is True
        assert (await join(client, "r2", "leave"))["ok"] is True
        assert (await join(client, "r4"))["ok"] is True
        session = session_of(hub, client.sids["/"])
        assert session.rooms == frozenset({"r1", "r3", "r4"})
        # The application's own enter is bound too.
        with pytest.raises(LimitExceeded) as refused:
            await session.enter("r5")
        assert refused.value.reason == "too_many_rooms"
        # Without an ack request the refusal is a hub:error event.
        await client.emit("join", "r6")
        event, args = await client.next_event(timeout=STEP)
        assert (event, args[0]["reason"]) == ("hub:error", "too_many_rooms")
    assert hub.stats().errors["too_many_rooms"] == 2


# The event rate


def counting_hub(**settings: Any) -> tuple[Hub, list[Any]]:
    hub = Hub(**settings)
    seen: list[Any] = []

    @hub.namespace("/").on("tick")
    async def tick(session: Session, n: Any = None) -> str:
        seen.append(n)
        return "tock"

    return hub, seen


async def test_rate_limited_then_disconnected(start_hub: StartHub) -> None:
    # 0.1 token/s: nothing refills noticeably while the test runs, however slow the machine.
    burst = 5
    hub, seen = counting_hub(event_rate=0.1, event_burst=burst)
    hub, port = await start_hub(hub)
    async with open_client(port) as client:
        # The CONNECT took one token of the burst: 4 events pass.
        for n in range(burst - 1):
            await client.emit("tick", n)
        await wait_until(lambda: len(seen) == burst - 1)
        await client.emit("tick", "dropped-1")
        event, args = await client.next_event(timeout=STEP)
        assert event == "hub:error"
        assert args[0]["reason"] == "rate_limited"
        assert f"after {burst} more" in args[0]["message"]
        # More drops are silent, up to the burst; the one after closes the connection.
        for n in range(burst):
            await client.emit("tick", f"dropped-{n + 2}")
        with pytest.raises(NotConnected):
            await client.next_event(timeout=STEP)
    assert seen == list(range(burst - 1))
    stats = hub.stats()
    assert stats.errors["rate_limited"] == burst + 1
    assert stats.disconnects["rate limited"] == 1
    assert stats.events_in == burst - 1


async def test_rate_limited_event_with_ack_gets_an_error_ack(start_hub: StartHub) -> None:
    hub, seen = counting_hub(event_rate=0.1, event_burst=3)
    hub, port = await start_hub(hub)
    async with open_client(port) as client:
        assert await client.call("tick", 1, timeout=STEP) == ["tock"]
        assert await client.call("tick", 2, timeout=STEP) == ["tock"]
        (answer,) = await client.call("tick", 3, timeout=STEP)
        assert answer["ok"] is False and answer["error"] == "rate_limited"
        assert isinstance(answer["message"], str)
    assert seen == [1, 2]


async def test_a_client_that_slows_down_is_served_again(start_hub: StartHub) -> None:
    hub, seen = counting_hub(event_rate=1, event_burst=2)
    hub, port = await start_hub(hub)
    async with open_client(port) as client:
        with trio.fail_after(STEP):
            while True:  # until the bucket is empty (a slow machine may refill a little)
                (answer,) = await client.call("tick", "fast", timeout=STEP)
                if answer != "tock":
                    break
        assert answer["error"] == "rate_limited"
        await trio.sleep(2.5)  # the bucket (2 tokens at 1/s) is full again
        assert await client.call("tick", "slow", timeout=STEP) == ["tock"]
        assert await client.call("tick", "slow", timeout=STEP) == ["tock"]
    assert seen[-2:] == ["slow", "slow"]


async def test_rate_is_per_connection(start_hub: StartHub) -> None:
    hub, seen = counting_hub(event_rate=0.1, event_burst=3)
    hub, port = await start_hub(hub)
    async with open_client(port) as greedy, open_client(port) as polite:
        for _ in range(3):
            await greedy.emit("tick", "greedy")
        assert (await greedy.next_event(timeout=STEP))[0] == "hub:error"
        assert await polite.call("tick", "polite", timeout=STEP) == ["tock"]
    assert seen == ["greedy", "greedy", "polite"]


# Pending acks


async def test_call_refused_past_max_pending_acks(start_hub: StartHub) -> None:
    hub, port = await start_hub(max_pending_acks=2)
    answers: list[list[Any]] = []
    async with open_client(port) as client:
        session = session_of(hub, client.sids["/"])

        async def ask(n: int) -> None:
            answers.append(await session.call("question", n, timeout=30))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(ask, 0)
            nursery.start_soon(ask, 1)
            await wait_until(lambda: session.pending_acks == 2 and len(client.received) >= 3)
            with pytest.raises(LimitExceeded) as refused:
                await session.call("question", 2, timeout=30)
            assert refused.value.reason == "too_many_pending_acks"
            assert session.pending_acks == 2
            # Once the client answers one, there is room for another.
            first, _ = asked(client, "question")
            await ack_event(client, first.id or 0, "yes")
            await wait_until(lambda: session.pending_acks == 1)
            nursery.start_soon(ask, 3)
            await wait_until(lambda: len(asked(client, "question")) == 3)
            for packet in asked(client, "question")[1:]:
                await ack_event(client, packet.id or 0, "yes")
    assert answers == [["yes"]] * 3
    assert hub.stats().errors["too_many_pending_acks"] == 1


async def test_user_emitter_holds_back_a_client_that_does_not_ack(start_hub: StartHub) -> None:
    limit, total = 3, 7
    hub, port = await start_hub(jwt_secret=SECRET, max_pending_acks=limit, emitter_ack_timeout=60)
    async with open_client(port, auth={"token": token("alice")}) as client:
        session = session_of(hub, client.sids["/"])
        emitter = hub.user("alice")
        handles = [emitter.emit_nowait("job", {"n": n}, ack=True) for n in range(total)]
        await wait_until(lambda: len(asked(client, "job")) == limit)
        await trio.sleep(0.3)  # nothing more comes while the acks are pending
        assert len(asked(client, "job")) == limit
        assert session.pending_acks == limit
        assert [h.state for h in handles] == ["sent"] * limit + ["queued"] * (total - limit)
        # The session is full for the application's own calls too.
        with pytest.raises(LimitExceeded):
            await session.call("question", timeout=1)
        # Plain broadcasts are not held back.
        assert await hub.emit("news", "still flowing") == 1
        await wait_until(
            lambda: any(p.is_event and p.data[0] == "news" for p in client.received), STEP
        )
        # Each ack lets one more event through, in order.
        acked = 0
        with trio.fail_after(4 * STEP):
            while acked < total:
                sent = asked(client, "job")
                if len(sent) == acked:
                    await trio.sleep(0.01)
                    continue
                assert len(sent) <= acked + limit
                await ack_event(client, sent[acked].id or 0)
                acked += 1
        outcomes = [await handle.wait(timeout=STEP) for handle in handles]
        assert [outcome.state for outcome in outcomes] == ["acked"] * total
        assert [p.data[1] for p in asked(client, "job")] == [{"n": n} for n in range(total)]
        assert session.pending_acks == 0
