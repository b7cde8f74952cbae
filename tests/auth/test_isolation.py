"""No event crosses users: 100 users with 2 sessions each (200 WebSocket connections,
each with its own token), each user's room granted by its token, 100 user-addressed and
100 room-addressed events per user, produced concurrently for every user."""

from __future__ import annotations

import contextlib
from typing import Any

import trio

from hub.standalone import standalone_hub
from hub.testing import TestClient, wait_until
from tests.auth.kit import SECRET, open_client, token
from tests.conftest import StartHub

USERS = 100
SESSIONS = 2
EVENTS = 100  # of each kind, per user
# User ids that are prefixes of one another (u1, u10, u100): a room pattern must match
# whole names.
USER_IDS = [f"u{n}" for n in range(1, USERS + 1)]
OPEN_AT_ONCE = 50
WAIT = 30.0  # the whole exchange, generously


def room_of(user: str) -> str:
    return f"user-room:{user}"


def token_of(index: int, user: str) -> str:
    # Half the tokens grant the room with a template, half by its literal name.
    rooms = ["user-room:{sub}"] if index % 2 else [room_of(user)]
    return token(user, rooms=rooms)


async def test_every_session_gets_exactly_its_own_events(start_hub: StartHub) -> None:
    hub, port = await start_hub(standalone_hub(jwt_secret=SECRET))
    received: dict[tuple[str, int], list[tuple[str, Any]]] = {}
    leftovers: dict[tuple[str, int], int] = {}
    ready = 0
    all_ready, checked = trio.Event(), trio.Event()
    opening = trio.CapacityLimiter(OPEN_AT_ONCE)

    async def session(index: int, user: str, copy: int) -> None:
        nonlocal ready
        async with contextlib.AsyncExitStack() as stack:
            async with opening:
                client = await stack.enter_async_context(
                    open_client(port, auth={"token": token_of(index, user)})
                )
            (answer,) = await client.call("join", room_of(user))
            assert answer == {"ok": True, "room": room_of(user)}
            # Another user's room is refused (u1 may not join u10's, nor u10 u1's).
            other = USER_IDS[(index + 9 if copy == 0 else index - 9) % USERS]
            (refused,) = await client.call("join", room_of(other))
            assert refused["ok"] is False and refused["error"] == "forbidden"
            ready += 1
            if ready == USERS * SESSIONS:
                all_ready.set()
            await collect(client, (user, copy))
            await checked.wait()
            leftovers[(user, copy)] = client.pending_events()

    async def collect(client: TestClient, key: tuple[str, int]) -> None:
        events = received[key] = []
        while len(events) < 2 * EVENTS:
            event, args = await client.next_event(timeout=WAIT)
            events.append((event, args))

    async def produce(user: str) -> None:
        emitter = hub.user(user)
        for i in range(EVENTS):
            await emitter.emit("u", {"user": user, "i": i})
            published = hub.publish("r", {"user": user, "i": i}, to=room_of(user))
            assert published.recipients == SESSIONS
            if i % 10 == 9:
                await trio.lowlevel.checkpoint()

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for index, user in enumerate(USER_IDS):
                for copy in range(SESSIONS):
                    nursery.start_soon(session, index, user, copy)
            await all_ready.wait()
            assert hub.stats().sessions["/"] == USERS * SESSIONS
            async with trio.open_nursery() as producers:
                for user in USER_IDS:
                    producers.start_soon(produce, user)
            await wait_until(lambda: len(received) == USERS * SESSIONS, WAIT)
            await wait_until(
                lambda: all(len(events) == 2 * EVENTS for events in received.values()), WAIT
            )
            await trio.sleep(0.3)  # anything stray would arrive now
            checked.set()

    for (user, copy), events in received.items():
        by_kind: dict[str, list[Any]] = {"u": [], "r": []}
        for event, args in events:
            assert event in by_kind, (user, copy, event, args)
            data = args[0]
            assert data["user"] == user, f"{user}/{copy} got an event of {data['user']}"
            by_kind[event].append(data["i"])
            if event == "u":
                assert len(args) == 2 and isinstance(args[1]["id"], str)  # emitter meta
            else:
                assert len(args) == 1
        assert by_kind["u"] == list(range(EVENTS)), (user, copy)
        assert by_kind["r"] == list(range(EVENTS)), (user, copy)
    assert leftovers == dict.fromkeys(received, 0)
    emitted = hub.stats().emitter
    assert emitted.delivered == USERS * EVENTS
    assert emitted.pending == 0
