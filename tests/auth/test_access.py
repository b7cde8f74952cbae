"""Who may connect which namespace, join which room and publish where, over real sockets:
public / authenticated / role namespaces, every CONNECT refusal reason (also as the
official Node client and python-socketio's AsyncClient see it), room rules from token
patterns, ``{claim}`` templates, list claims and globs, the ``authorize_join`` hook, the
standalone hub's publish, and recovery refused to another user."""

from __future__ import annotations

import re
from typing import Any

import pytest
import trio

from hub import Hub, Session
from hub.errors import ConnectRefused, Forbidden
from hub.protocol.socketio import SioType
from hub.standalone import standalone_hub
from hub.testing import TestClient, wait_until
from tests.auth.kit import (
    SECRET,
    STEP,
    open_client,
    reason_of,
    refusal,
    session_of,
    token,
)
from tests.conftest import StartHub
from tests.interop import sio_client
from tests.interop.interop_harness import ScenarioFailed, require_node, run_node

ACCESS = ("/admin=admin", "/ops=admin+ops", "/pub=public", "/x=authenticated")


def access_hub() -> Hub:
    hub = Hub(jwt_secret=SECRET, namespace_access=ACCESS)
    for name in ("/admin", "/ops", "/pub", "/x", "/unlisted"):
        hub.namespace(name)
    return hub


async def outcomes(port: int, auth: dict[str, Any] | None) -> dict[str, str]:
    """Each namespace's outcome for one connection presenting ``auth``: "ok" or the reason."""
    found = {}
    async with open_client(port, connect=None) as client:
        for name in ("/", "/admin", "/ops", "/pub", "/x", "/unlisted"):
            try:
                await client.connect(name, auth)
                found[name] = "ok"
            except ConnectRefused as refused:
                found[name] = refused.data["reason"]
    return found


async def test_namespace_access_rules(start_hub: StartHub) -> None:
    _, port = await start_hub(access_hub())
    required = "token_required"
    assert await outcomes(port, None) == {
        "/": required,
        "/admin": required,
        "/ops": required,
        "/pub": "ok",
        "/x": required,
        "/unlisted": required,
    }
    everyone = {"/": "ok", "/pub": "ok", "/x": "ok", "/unlisted": "ok"}
    plain = {"token": token("alice")}
    assert await outcomes(port, plain) == {**everyone, "/admin": "forbidden", "/ops": "forbidden"}
    ops = {"token": token("bob", roles=["ops"])}
    assert await outcomes(port, ops) == {**everyone, "/admin": "forbidden", "/ops": "ok"}
    admin = {"token": token("root", roles=["admin", "x"])}
    assert await outcomes(port, admin) == {**everyone, "/admin": "ok", "/ops": "ok"}
    # A bad token is refused even where none is needed.
    assert (await outcomes(port, {"token": "garbage"}))["/pub"] == "invalid_token"


async def test_public_namespace_keeps_the_user_of_a_valid_token(start_hub: StartHub) -> None:
    hub, port = await start_hub(access_hub())
    async with open_client(port, connect=None) as client:
        anonymous = await client.connect("/pub")
        assert session_of(hub, anonymous, "/pub").user_id is None
        assert session_of(hub, anonymous, "/pub").claims is None
    async with open_client(port, connect="/pub", auth={"token": token("alice")}) as client:
        assert session_of(hub, client.sids["/pub"], "/pub").user_id == "alice"


async def test_without_jwt_everything_is_public(start_hub: StartHub) -> None:
    hub, port = await start_hub(namespace_access=("/pub=public",))
    hub.namespace("/other")
    async with open_client(port, auth={"token": "not checked"}) as client:
        session = session_of(hub, client.sids["/"])
        assert session.user_id is None and session.claims is None
        await client.connect("/other")
    assert not hub.policy.enabled and not hub.policy.checks_rooms


async def test_every_refusal_reason(start_hub: StartHub) -> None:
    hub = Hub(
        jwt_secret=SECRET,
        namespace_access=("/admin=admin",),
        max_namespaces=2,
        max_connections_per_user=1,
    )
    for name in ("/admin", "/a", "/b"):
        hub.namespace(name)
    hub, port = await start_hub(hub)
    alice = {"token": token("alice")}
    async with open_client(port, connect=None) as client:
        assert await reason_of(client, "/", {"token": "garbage"}) == "invalid_token"
        assert await reason_of(client, "/", {"token": token(ttl=-3600)}) == "token_expired"
        assert await reason_of(client, "/") == "token_required"
        assert await reason_of(client, "/admin", alice) == "forbidden"
        # The connection is still usable after refusals.
        await client.connect("/", alice)
        await client.connect("/a", alice)
        assert await reason_of(client, "/b", alice) == "too_many_namespaces"
        async with open_client(port, connect=None) as second:
            assert await reason_of(second, "/", alice) == "too_many_connections"
            # Another user is not held back by alice's connections.
            await second.connect("/", {"token": token("bob")})
        # Every refusal is a CONNECT_ERROR {"message": human text, "data": {"reason": ...}}.
        errors = [p for p in client.received if p.type is SioType.CONNECT_ERROR]
        assert len(errors) == 5
        for packet in errors:
            assert set(packet.data) == {"message", "data"}
            assert isinstance(packet.data["message"], str) and packet.data["message"]
    errors_counted = hub.stats().errors
    for reason in (
        "invalid_token",
        "token_expired",
        "token_required",
        "forbidden",
        "too_many_namespaces",
        "too_many_connections",
    ):
        assert errors_counted[reason] == 1, reason


async def test_namespace_limit_frees_on_disconnect(start_hub: StartHub) -> None:
    hub = Hub(max_namespaces=2)
    for name in ("/a", "/b"):
        hub.namespace(name)
    hub, port = await start_hub(hub)
    async with open_client(port) as client:
        await client.connect("/a")
        assert await reason_of(client, "/b") == "too_many_namespaces"
        await client.disconnect("/a")
        await wait_until(lambda: hub.stats().sessions["/a"] == 0)
        await client.connect("/b")


async def test_connections_per_user(start_hub: StartHub) -> None:
    hub = Hub(jwt_secret=SECRET, max_connections_per_user=2)
    hub.namespace("/second")
    hub, port = await start_hub(hub)
    alice = {"token": token("alice")}
    async with open_client(port, auth=alice) as first, open_client(port, auth=alice):
        # A second namespace on a connection the user has is no new connection.
        await first.connect("/second", alice)
        async with open_client(port, connect=None) as third:
            assert await reason_of(third, "/", alice) == "too_many_connections"
            assert await reason_of(third, "/second", alice) == "too_many_connections"
    await wait_until(lambda: not list(hub.users.members("alice")))
    async with open_client(port, auth=alice), open_client(port, auth=alice):
        pass


# Rooms


ROOM_PATTERNS = ("user:{sub}", "team:{teams}", "lobby", "org:{org}:*")


async def join(client: TestClient, room: str) -> dict[str, Any]:
    (answer,) = await client.call("join", room, timeout=STEP)
    assert isinstance(answer, dict)
    return answer


async def joins(client: TestClient, rooms: list[str]) -> dict[str, str]:
    """Each room's outcome: "ok" or the error ack's reason."""
    found = {}
    for room in rooms:
        answer = await join(client, room)
        if answer["ok"]:
            assert answer == {"ok": True, "room": room}
            found[room] = "ok"
        else:
            assert set(answer) == {"ok", "error", "message"}, answer
            found[room] = answer["error"]
    return found


async def test_room_patterns_templates_lists_and_globs(start_hub: StartHub) -> None:
    hub, port = await start_hub(standalone_hub(jwt_secret=SECRET, room_patterns=ROOM_PATTERNS))
    alice = token(
        "alice", teams=["red", "blue"], org="acme", rooms=["project:*", "doc:{sub}:*", "exact"]
    )
    allowed = [
        "user:alice",
        "team:red",
        "team:blue",
        "lobby",
        "org:acme:general",
        "org:acme:",
        "project:42",
        "project:",
        "project:a:b:c",
        "doc:alice:7",
        "exact",
    ]
    refused = [
        "user:bob",
        "user:alice2",
        "user:{sub}",
        "xuser:alice",
        "team:green",
        "team:red,blue",
        "lobby2",
        "Lobby",
        "org:other:x",
        "org:acme",
        "proj:1",
        "doc:bob:7",
        "exact2",
        "",
    ]
    async with open_client(port, auth={"token": alice}) as client:
        outcome = await joins(client, allowed + refused[:-1])
        assert outcome == {
            **dict.fromkeys(allowed, "ok"),
            **dict.fromkeys(refused[:-1], "forbidden"),
        }
        # An empty room name is malformed, not forbidden.
        assert (await join(client, ""))["ok"] is False
        assert session_of(hub, client.sids["/"]).rooms == frozenset(allowed)


async def test_missing_claims_match_nothing(start_hub: StartHub) -> None:
    _, port = await start_hub(standalone_hub(jwt_secret=SECRET, room_patterns=ROOM_PATTERNS))
    async with open_client(port, auth={"token": token("bob")}) as client:
        outcome = await joins(client, ["user:bob", "lobby", "team:red", "team:", "org:acme:x"])
        assert outcome == {
            "user:bob": "ok",
            "lobby": "ok",
            "team:red": "forbidden",
            "team:": "forbidden",
            "org:acme:x": "forbidden",
        }


async def test_claim_values_are_literal(start_hub: StartHub) -> None:
    """A claim's value is taken literally, never as a pattern: "." or "*" in a user id
    match only themselves."""
    _, port = await start_hub(standalone_hub(jwt_secret=SECRET, room_patterns=ROOM_PATTERNS))
    async with open_client(port, auth={"token": token("a.b*(c)", teams=["x|y"])}) as client:
        outcome = await joins(
            client, ["user:a.b*(c)", "user:aXb*(c)", "user:a.bzz(c)", "team:x|y", "team:x"]
        )
        assert outcome == {
            "user:a.b*(c)": "ok",
            "user:aXb*(c)": "forbidden",
            "user:a.bzz(c)": "forbidden",
            "team:x|y": "ok",
            "team:x": "forbidden",
        }


async def test_room_patterns_without_tokens(start_hub: StartHub) -> None:
    _, port = await start_hub(standalone_hub(room_patterns=("lobby", "public:*", "user:{sub}")))
    async with open_client(port) as client:
        outcome = await joins(client, ["lobby", "public:x", "user:", "user:alice", "other"])
        assert outcome == {
            "lobby": "ok",
            "public:x": "ok",
            "user:": "forbidden",
            "user:alice": "forbidden",
            "other": "forbidden",
        }


async def test_no_rules_no_checks(start_hub: StartHub) -> None:
    _, port = await start_hub(standalone_hub())
    async with open_client(port) as client:
        assert await joins(client, ["anything", "user:bob"]) == {"anything": "ok", "user:bob": "ok"}


async def test_refused_join_without_ack_gets_an_error_event(start_hub: StartHub) -> None:
    hub, port = await start_hub(standalone_hub(jwt_secret=SECRET, room_patterns=ROOM_PATTERNS))
    async with open_client(port, auth={"token": token("alice")}) as client:
        await client.emit("join", "user:bob")
        event, args = await client.next_event(timeout=STEP)
        assert event == "hub:error"
        assert args[0]["reason"] == "forbidden"
        assert "user:bob" in args[0]["message"]
        assert session_of(hub, client.sids["/"]).rooms == frozenset()


async def test_enter_is_not_checked(start_hub: StartHub) -> None:
    """The application's own ``session.enter`` is not bound by the rules; ``join`` is."""
    hub, port = await start_hub(standalone_hub(jwt_secret=SECRET))
    async with open_client(port, auth={"token": token("alice")}) as client:
        session = session_of(hub, client.sids["/"])
        with pytest.raises(Forbidden):
            await session.join("staff")
        await session.enter("staff")
        assert session.rooms == frozenset({"staff"})


async def test_authorize_join_hook(start_hub: StartHub) -> None:
    hub = Hub(jwt_secret=SECRET, room_patterns=("room:*",))
    asked: list[tuple[str | None, str]] = []

    @hub.namespace("/").authorize_join
    async def check(session: Session, room: str) -> bool:
        asked.append((session.user_id, room))
        await trio.lowlevel.checkpoint()  # the hook may await
        return room != "room:vault" or "admin" in (session.claims.roles if session.claims else ())

    @hub.namespace("/").on("join")
    async def on_join(session: Session, room: str) -> dict[str, Any]:
        await session.join(room)
        return {"ok": True, "room": room}

    hub, port = await start_hub(hub)
    async with (
        open_client(port, auth={"token": token("alice")}) as alice,
        open_client(port, auth={"token": token("root", roles=["admin"])}) as root,
    ):
        assert await joins(alice, ["room:1", "room:vault", "elsewhere"]) == {
            "room:1": "ok",
            "room:vault": "forbidden",
            "elsewhere": "forbidden",
        }
        assert await joins(root, ["room:vault"]) == {"room:vault": "ok"}
        answer = await join(alice, "room:vault")
        assert re.search("refused", answer["message"]), answer
    # The hook is asked only once the token's patterns allowed the room.
    assert asked == [
        ("alice", "room:1"),
        ("alice", "room:vault"),
        ("root", "room:vault"),
        ("alice", "room:vault"),
    ]


# Publishing (the standalone hub)


async def publish(client: TestClient, room: Any, data: Any = 1) -> dict[str, Any]:
    (answer,) = await client.call("publish", {"room": room, "event": "news", "data": data})
    assert isinstance(answer, dict)
    return answer


async def test_publishing_is_off_by_default(start_hub: StartHub) -> None:
    hub, port = await start_hub(standalone_hub())
    async with open_client(port) as client:
        assert (await join(client, "r"))["ok"]
        answer = await publish(client, "r")
        assert answer["ok"] is False and answer["error"] == "forbidden"
        assert "client_publish" in answer["message"]
        # Without an ack request the refusal comes as a hub:error event.
        await client.emit("publish", {"room": "r", "event": "news", "data": 2})
        event, args = await client.next_event(timeout=STEP)
        assert (event, args[0]["reason"]) == ("hub:error", "forbidden")
        assert client.pending_events() == 0  # no "news" ever came
    assert hub.stats().errors["forbidden"] == 2


async def test_publishing_with_client_publish(start_hub: StartHub) -> None:
    _, port = await start_hub(
        standalone_hub(jwt_secret=SECRET, room_patterns=("team:{teams}",), client_publish=True)
    )
    red = {"token": token("alice", teams=["red"])}
    both = {"token": token("bob", teams=["red", "blue"])}
    async with open_client(port, auth=red) as alice, open_client(port, auth=both) as bob:
        assert await joins(bob, ["team:red", "team:blue"]) == {"team:red": "ok", "team:blue": "ok"}
        # To a room the publisher may join: delivered.
        answer = await publish(alice, "team:red", "hello")
        assert answer["ok"] is True and answer["recipients"] == 1
        assert await bob.next_event(timeout=STEP) == ("news", ["hello"])
        # To a room it may not join, alone or among allowed ones, or to everyone: refused.
        for room in ("team:blue", ["team:red", "team:blue"], None):
            answer = await publish(alice, room, "leak")
            assert answer["ok"] is False and answer["error"] == "forbidden", room
        # Malformed requests are still told apart from refusals.
        (malformed,) = await alice.call("publish", {"room": "team:red"})
        assert malformed == {"ok": False, "error": "publish needs an event name"}
        # Bob may publish to both of his rooms; alice is not in them, so 1 recipient each.
        answer = await publish(bob, ["team:red", "team:blue"], "both")
        assert answer["ok"] is True and answer["recipients"] == 1
        assert await bob.next_event(timeout=STEP) == ("news", ["both"])
        await trio.sleep(0.2)
        assert bob.pending_events() == 0  # no "leak" arrived


async def test_publish_to_everyone_without_rules(start_hub: StartHub) -> None:
    _, port = await start_hub(standalone_hub(client_publish=True))
    async with open_client(port) as alice, open_client(port) as bob:
        answer = await publish(alice, None, "all")
        assert answer["ok"] is True and answer["recipients"] == 2
        assert await bob.next_event(timeout=STEP) == ("news", ["all"])


async def test_publish_asks_the_join_hook(start_hub: StartHub) -> None:
    hub = standalone_hub(jwt_secret=SECRET, room_patterns=("*",), client_publish=True)

    @hub.namespaces["/"].authorize_join
    async def check(session: Session, room: str) -> bool:
        return not room.startswith("private:")

    _, port = await start_hub(hub)
    async with open_client(port, auth={"token": token("alice")}) as client:
        assert (await publish(client, "open:1"))["ok"] is True
        assert (await publish(client, "private:1"))["error"] == "forbidden"


async def test_standalone_refuses_auth_user_with_tokens(start_hub: StartHub) -> None:
    _, port = await start_hub(standalone_hub(jwt_secret=SECRET))
    async with open_client(port, connect=None) as client:
        auth = {"token": token("alice"), "user": "root"}
        assert await reason_of(client, "/", auth) == "forbidden"


# Recovery


async def test_recovery_not_resumable_by_another_user(start_hub: StartHub) -> None:
    hub, port = await start_hub(jwt_secret=SECRET, recovery=60)
    alice, bob = {"token": token("alice")}, {"token": token("bob")}
    async with open_client(port, auth=alice) as client:
        sid, pid = client.sids["/"], client.connect_replies["/"]["pid"]
        session = session_of(hub, sid)
        await session.enter("alice-only")
        session.data["secret"] = "alice's"
        session.client.link.close("transport close")  # cut, as a network failure would
        await wait_until(lambda: len(hub.namespaces["/"].vault) == 1)
    async with open_client(port, auth={**bob, "pid": pid}) as client:
        taken = session_of(hub, client.sids["/"])
        assert client.sids["/"] != sid and not taken.recovered
        assert taken.rooms == frozenset() and taken.data == {} and taken.user_id == "bob"
    async with open_client(port, connect=None) as client:
        # Nor by someone with no token at all (the namespace needs one anyway).
        assert await reason_of(client, "/", {"pid": pid}) == "token_required"
    # Those attempts did not use up alice's session: she resumes it.
    async with open_client(port, auth={**alice, "pid": pid}) as client:
        resumed = session_of(hub, client.sids["/"])
        assert client.sids["/"] == sid and resumed.recovered
        assert resumed.rooms == frozenset({"alice-only"}) and resumed.data == {"secret": "alice's"}


# The official clients see the reason as err.data.reason


async def test_python_socketio_sees_the_reason(start_hub: StartHub) -> None:
    _, port = await start_hub(jwt_secret=SECRET, namespace_access=("/admin=admin",))
    url = f"http://127.0.0.1:{port}"

    async def refused(namespace: str, auth: dict[str, Any] | None) -> Any:
        try:
            async with sio_client.connected(url, namespace, auth):
                pass
        except sio_client.Refused as refusal:
            return refusal.error
        raise AssertionError(f"{namespace} connected")

    async def scenario() -> list[Any]:
        return [
            await refused("/", {"token": "garbage"}),
            await refused("/", None),
            await refused("/", {"token": token(ttl=-3600)}),
        ]

    errors = await trio.to_thread.run_sync(sio_client.run, scenario)
    assert [error["data"] for error in errors] == [
        {"reason": "invalid_token"},
        {"reason": "token_required"},
        {"reason": "token_expired"},
    ]
    assert all(isinstance(error["message"], str) and error["message"] for error in errors)


async def test_node_client_sees_the_reason(start_hub: StartHub) -> None:
    _, port = await start_hub(jwt_secret=SECRET)
    url = f"http://127.0.0.1:{port}"
    try:
        node = require_node()
        wrong, none = [
            await trio.to_thread.run_sync(run_node, node, "refused.mjs", url, "/", mode)
            for mode in ("wrong", "none")
        ]
    except ScenarioFailed as failed:
        pytest.fail(str(failed), pytrace=False)
    assert wrong["connected"] is False and wrong["data"] == {"reason": "invalid_token"}
    assert none["connected"] is False and none["data"] == {"reason": "token_required"}
    assert isinstance(wrong["message"], str) and wrong["message"]
    assert wrong["connectedAfter"] is False


async def test_refusal_body_is_exactly_message_and_reason(start_hub: StartHub) -> None:
    _, port = await start_hub(jwt_secret=SECRET)
    async with open_client(port, connect=None) as client:
        body = await refusal(client, "/", {"token": token(ttl=-3600)})
        assert body == {"message": "the token has expired", "data": {"reason": "token_expired"}}
