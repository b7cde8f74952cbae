"""python-socketio's ``socketio.AsyncClient`` (asyncio) against the hub, on each transport setting.

The client runs under asyncio while pytest-trio owns ``async def`` tests, so every test here
is a plain function that drives its scenario with ``run`` (``asyncio.run``, time-bounded).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from typing import Any

import pytest
import socketio

from tests.interop import sio_client
from tests.interop.interop_harness import HubProcess, SpawnHub
from tests.interop.sio_client import (
    AUTH,
    ECHOED,
    QUIET,
    STEP,
    Inbox,
    Refused,
    ack,
    connected,
    run,
)

ALL_BYTES = bytes(range(256))


@pytest.fixture(autouse=True, params=["websocket", "default"])
def transports(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test runs on WebSocket alone, then on the client's default transports."""
    chosen = request.param
    sio_client.TRANSPORTS = ["websocket"] if chosen == "websocket" else None
    try:
        yield chosen
    finally:
        sio_client.TRANSPORTS = ["websocket"]


def test_default_transports_upgrade_to_websocket(app_url: str, transports: str) -> None:
    """Default transports open on polling (whose OPEN offers the upgrade), then upgrade."""

    async def scenario() -> tuple[list[str], str]:
        async with connected(app_url) as sio:
            assert await ack(sio, "echo", 1) == (1,)
            # python-engineio upgrades inside connect(); the polling OPEN's offer remains.
            return list(sio.eio.upgrades), sio.transport()

    offered, final = run(scenario)
    assert final == "websocket"
    assert offered == ([] if transports == "websocket" else ["websocket"])


def is_publish_ack(ack: Any, recipients: int) -> bool:
    """A publish ack: ok, the recipient count, and the event's history offset."""
    (reply,) = ack
    return reply == {"ok": True, "recipients": recipients, "offset": reply.get("offset")} and (
        isinstance(reply["offset"], str)
    )


async def refusal(url: str, namespace: str, auth: dict[str, Any] | None) -> Any:
    """Connect and expect a refusal; the connect_error payload the client got."""
    with pytest.raises(Refused) as refused:
        async with connected(url, namespace, auth):
            pass
    return refused.value.error


def ok(answer: tuple[Any, ...]) -> bool:
    """A standalone join/leave ack: one ``{"ok": true, ...}`` argument."""
    return len(answer) == 1 and answer[0]["ok"] is True


# --- /test namespace of tests/interop/app.py ---


def test_connect_with_auth(app_url: str) -> None:
    """The auth payload reaches on_connect/session.auth unchanged and the sid matches."""

    async def scenario() -> None:
        async with connected(app_url) as sio:
            assert await ack(sio, "whoami") == (ECHOED,)
            (info,) = await ack(sio, "info")
            assert info["sid"] == sio.get_sid("/test")
            assert info["namespace"] == "/test"
            assert sio.connected

    run(scenario)


def test_room_broadcast(app_url: str) -> None:
    """hub.emit reaches exactly the room's members: once each, also for a room list."""

    async def scenario() -> None:
        inbox = {who: Inbox() for who in "abc"}
        async with (
            connected(app_url, inbox=inbox["a"], events=("news",)) as a,
            connected(app_url, inbox=inbox["b"], events=("news",)) as b,
            connected(app_url, inbox=inbox["c"], events=("news",)) as c,
        ):

            def ns(who: str) -> list[Any]:
                return [first["n"] for first in inbox[who].firsts("news")]

            def has(who: str, n: int) -> bool:
                return n in ns(who)

            assert await ack(a, "join", "room-a") == (True,)
            assert await ack(b, "join", "room-b") == (True,)
            one = {"room": "room-a", "event": "news", "args": [{"n": 1}, "x"]}
            assert await ack(c, "broadcast", one) == (1,)
            await inbox["a"].wait_until(lambda: 1 in ns("a"), "a to get news 1")
            assert inbox["a"].events["news"][0] == ({"n": 1}, "x")

            assert await ack(a, "join", "room-b") == (True,)
            (info,) = await ack(a, "info")
            assert {"room-a", "room-b"} <= set(info["rooms"])
            two = {"room": ["room-a", "room-b"], "event": "news", "args": [{"n": 2}]}
            assert await ack(c, "broadcast", two) == (2,)
            await inbox["b"].wait_until(lambda: 2 in ns("b"), "b to get news 2")
            await inbox["a"].wait_until(lambda: 2 in ns("a"), "a to get news 2")

            assert await ack(a, "leave", "room-a") == (True,)
            assert await ack(a, "leave", "room-b") == (True,)
            three = {"room": "room-a", "event": "news", "args": [{"n": 3}]}
            assert await ack(c, "broadcast", three) == (0,)
            four = {"room": None, "event": "news", "args": [{"n": 4}]}
            assert await ack(c, "broadcast", four) == (3,)
            for who in "abc":
                await inbox[who].wait_until(functools.partial(has, who, 4), f"{who}: news 4")
            await asyncio.sleep(QUIET)
            assert ns("a") == [1, 2, 4]
            assert ns("b") == [2, 4]
            assert ns("c") == [4]

    run(scenario)


def test_ack_client_to_server(app_url: str) -> None:
    """A handler's return value comes back as the ack: several args, one, none, many at once."""

    async def scenario() -> None:
        async with connected(app_url) as sio:
            args = ("a", 1, {"x": [True, None, 2.5]}, ["ünïcødé ☃ 🎉"])
            assert await ack(sio, "echo", *args) == args
            assert await ack(sio, "echo") == ()
            assert await ack(sio, "echo", "only") == ("only",)
            assert await sio.call("echo", "via call", namespace="/test", timeout=STEP) == "via call"
            many = await asyncio.gather(*(ack(sio, "echo", i) for i in range(20)))
            assert many == [(i,) for i in range(20)]

    run(scenario)


def test_ack_server_to_client(app_url: str) -> None:
    """session.call gets the client handler's return value (two args) as its answer."""

    async def scenario() -> None:
        inbox = Inbox()
        questions: list[Any] = []

        async def question(q: dict[str, Any]) -> tuple[Any, ...]:
            questions.append(q)
            return {"doubled": q["n"] * 2, "by": "python"}, "second"

        async with connected(
            app_url, inbox=inbox, events=("answer",), handlers={"question": question}
        ) as sio:
            assert await ack(sio, "ask", {"n": 21}) == (True,)
            await inbox.wait_until(lambda: bool(inbox.events["answer"]), "the answer event")
            assert questions == [{"n": 21}]
            assert inbox.events["answer"] == [
                ({"ok": True, "answer": [{"doubled": 42, "by": "python"}, "second"]},)
            ]

    run(scenario)


def test_binary_echo(app_url: str) -> None:
    """bytes anywhere in the arguments (nested, listed, empty, 70 kB) come back as bytes."""

    async def scenario() -> None:
        async with connected(app_url) as sio:
            nested = {"label": "nested", "blob": b"hello", "list": [b"\x00", b"\x01\x02"]}
            assert await ack(sio, "echo", ALL_BYTES, nested, "text") == (ALL_BYTES, nested, "text")
            big = bytes((i * 7) % 251 for i in range(70_000))
            (echoed,) = await ack(sio, "echo", big)
            assert isinstance(echoed, bytes)
            assert len(echoed) == len(big)
            assert echoed == big
            assert await ack(sio, "echo", b"", "after") == (b"", "after")

    run(scenario)


def test_binary_server_to_client_roundtrip(app_url: str) -> None:
    """Server sends bytes in a call, the client acks with bytes, the server sends them back."""

    async def scenario() -> None:
        inbox = Inbox()
        questions: list[Any] = []

        async def question(q: dict[str, Any]) -> tuple[Any, ...]:
            questions.append(q)
            return q["blob"][::-1], {"also": b"ack-bin"}

        async with connected(
            app_url, inbox=inbox, events=("answer",), handlers={"question": question}
        ) as sio:
            assert await ack(sio, "ask", {"blob": b"\x01\x02\x03\xfa"}) == (True,)
            await inbox.wait_until(lambda: bool(inbox.events["answer"]), "the answer event")
            assert questions == [{"blob": b"\x01\x02\x03\xfa"}]
            assert inbox.events["answer"] == [
                ({"ok": True, "answer": [b"\xfa\x03\x02\x01", {"also": b"ack-bin"}]},)
            ]

    run(scenario)


def test_refused_bad_token(app_url: str) -> None:
    """A wrong token is refused with connect_error carrying ConnectRefused's message and data."""
    error = run(lambda: refusal(app_url, "/test", {"token": "wrong"}))
    assert error == {"message": "bad token", "data": {"reason": "invalid_token"}}


def test_refused_without_auth(app_url: str) -> None:
    """A CONNECT without an auth payload reaches on_connect as None and is refused."""
    error = run(lambda: refusal(app_url, "/test", None))
    assert error == {"message": "bad token", "data": {"reason": "invalid_token"}}


def test_refused_unknown_namespace(app_url: str) -> None:
    """An unknown namespace is refused with connect_error "Invalid namespace" (as socket.io)."""
    error = run(lambda: refusal(app_url, "/nope", AUTH))
    assert isinstance(error, dict)
    assert error.get("message") == "Invalid namespace"


def test_refusal_leaves_other_clients_working(app_url: str) -> None:
    """After refusals, a good client still connects and gets acks (server state is intact)."""

    async def scenario() -> None:
        await refusal(app_url, "/test", {"token": "wrong"})
        await refusal(app_url, "/nope", AUTH)
        async with connected(app_url) as sio:
            assert await ack(sio, "echo", "fine") == ("fine",)

    run(scenario)


def test_disconnect_reaches_on_disconnect(app_url: str) -> None:
    """A client's disconnect runs on_disconnect with that session's sid and a socket.io reason."""

    async def scenario() -> None:
        inbox = Inbox()
        async with connected(app_url, inbox=inbox, events=("peer_left",)) as watcher:
            assert await ack(watcher, "join", "watchers") == (True,)
            async with connected(app_url) as leaver:
                sid = leaver.get_sid("/test")
            await inbox.wait_until(lambda: bool(inbox.events["peer_left"]), "peer_left")
            ((left,),) = inbox.events["peer_left"]
            assert left["sid"] == sid
            # python-socketio 5.x queues its DISCONNECT packet and then closes the WebSocket
            # without flushing, so the hub may only see the transport close.
            assert left["reason"] in ("client namespace disconnect", "transport close")

    run(scenario)


def test_server_side_disconnect(app_url: str) -> None:
    """session.disconnect() reaches the client as a server disconnect and runs on_disconnect."""

    async def scenario() -> None:
        inbox = Inbox()
        kicked_inbox = Inbox()
        async with connected(app_url, inbox=inbox, events=("peer_left",)) as watcher:
            assert await ack(watcher, "join", "watchers") == (True,)
            async with connected(app_url, inbox=kicked_inbox, events=("disconnect",)) as kicked:
                sid = kicked.get_sid("/test")
                await kicked.emit("kick", namespace="/test")
                await kicked_inbox.wait_until(
                    lambda: bool(kicked_inbox.events["disconnect"]), "kicked's disconnect"
                )
                assert kicked_inbox.events["disconnect"] == [("server disconnect",)]
            await inbox.wait_until(lambda: bool(inbox.events["peer_left"]), "peer_left")
            assert inbox.events["peer_left"] == [
                ({"sid": sid, "reason": "server namespace disconnect"},)
            ]

    run(scenario)


def test_heartbeat_keeps_connection(spawn_hub: SpawnHub) -> None:
    """The client reads the OPEN packet's ping settings and stays connected across pings."""
    hub = spawn_hub("app", "--ping-interval", "0.2", "--ping-timeout", "0.5")

    async def scenario() -> None:
        inbox = Inbox()
        async with connected(hub.url, inbox=inbox, events=("disconnect",)) as sio:
            assert sio.eio.ping_interval == 0.2
            assert sio.eio.ping_timeout == 0.5
            await asyncio.sleep(1.5)
            assert inbox.events["disconnect"] == []
            assert sio.connected
            assert await ack(sio, "echo", "alive") == ("alive",)

    run(scenario)


def test_unencodable_ack_spares_the_server(app_hub: HubProcess) -> None:
    """A handler return value JSON cannot encode costs at most its ack: the hub keeps serving."""

    async def scenario() -> None:
        async with connected(app_hub.url) as sio:
            await sio.emit("unencodable", namespace="/test", callback=lambda *args: None)
            await asyncio.sleep(QUIET)
        async with connected(app_hub.url) as sio:
            assert await ack(sio, "echo", "after") == ("after",)

    run(scenario)
    assert app_hub.alive()


# --- the standalone `python -m hub`, default namespace ---


def test_standalone_join_publish_leave(standalone_url: str) -> None:
    """python -m hub: join, publish to a room / room list / everyone, receive, leave."""

    async def scenario() -> None:
        inbox = {who: Inbox() for who in "ab"}
        async with (
            connected(standalone_url, "/", None, inbox=inbox["a"], events=("news",)) as a,
            connected(standalone_url, "/", None, inbox=inbox["b"], events=("news",)) as b,
        ):

            def ns(who: str) -> list[Any]:
                return [first["n"] for first in inbox[who].firsts("news")]

            def has(who: str, n: int) -> bool:
                return n in ns(who)

            async def call(sio: socketio.AsyncClient, event: str, *args: Any) -> tuple[Any, ...]:
                return await ack(sio, event, *args, namespace="/")

            assert ok(await call(a, "join", "lobby"))
            assert ok(await call(b, "join", "other"))
            one = {"room": "lobby", "event": "news", "data": {"n": 1, "text": "héllo"}}
            assert is_publish_ack(await call(b, "publish", one), 1)
            await inbox["a"].wait_until(lambda: 1 in ns("a"), "a to get news 1")
            assert inbox["a"].events["news"][0] == ({"n": 1, "text": "héllo"},)

            two = {"room": ["lobby", "other"], "event": "news", "data": {"n": 2}}
            assert is_publish_ack(await call(b, "publish", two), 2)
            three = {"room": None, "event": "news", "data": {"n": 3}}
            assert is_publish_ack(await call(a, "publish", three), 2)
            for who in "ab":
                await inbox[who].wait_until(functools.partial(has, who, 3), f"{who}: news 3")

            assert ok(await call(a, "leave", "lobby"))
            four = {"room": "lobby", "event": "news", "data": {"n": 4}}
            assert is_publish_ack(await call(b, "publish", four), 0)
            await asyncio.sleep(QUIET)
            assert ns("a") == [1, 2, 3]
            assert ns("b") == [2, 3]

    run(scenario)


def test_standalone_publish_binary(standalone_url: str) -> None:
    """python -m hub: bytes inside published data reach the room's members as bytes."""

    async def scenario() -> None:
        inbox = Inbox()
        async with (
            connected(standalone_url, "/", None, inbox=inbox, events=("news",)) as a,
            connected(standalone_url, "/", None) as b,
        ):
            assert ok(await ack(a, "join", "lobby", namespace="/"))
            data = {"n": 1, "blob": b"\x00\x01\x02\xff"}
            published = {"room": "lobby", "event": "news", "data": data}
            assert is_publish_ack(await ack(b, "publish", published, namespace="/"), 1)
            await inbox.wait_until(lambda: bool(inbox.events["news"]), "the binary news")
            assert inbox.events["news"] == [(data,)]

    run(scenario)
