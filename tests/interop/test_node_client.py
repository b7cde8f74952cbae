"""The official ``socket.io-client`` 4.x (Node, ``transports: ["websocket"]``) against the hub.

Each test runs one scenario script from ``tests/interop/js`` with ``node`` (bounded) and
asserts on the JSON line it prints. Binary values arrive here as ``bytes``. The scripts need
``npm ci --prefix tests/interop/js``; without it these tests fail, they do not skip.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.interop_harness import HubProcess, NodeScenario, SpawnHub

AUTH = {"token": "secret", "user": "ada", "tags": ["a", "b"], "n": 7, "nested": {"ok": True}}
# What the app's "whoami" echoes: the token is a sensitive key, redacted on the way out.
ECHOED = AUTH | {"token": "[redacted]"}
ALL_BYTES = bytes(range(256))


def is_publish_ack(ack: Any, recipients: int) -> bool:
    """A publish ack: ok, the recipient count, and the event's history offset."""
    (reply,) = ack
    return reply == {"ok": True, "recipients": recipients, "offset": reply.get("offset")} and (
        isinstance(reply["offset"], str)
    )


def firsts(events: list[list[Any]]) -> list[Any]:
    """The ``n`` of the first argument of each recorded event, in order."""
    return [args[0]["n"] for args in events]


def ok(answer: list[Any]) -> bool:
    """A standalone join/leave ack: one ``{"ok": true, ...}`` argument."""
    return len(answer) == 1 and answer[0]["ok"] is True


def test_client_is_socket_io_client_4(node_scenario: NodeScenario) -> None:
    """The installed Node client is socket.io-client 4.x speaking Socket.IO protocol 5."""
    result = node_scenario("protocol_version.mjs", "-")
    assert result["version"].split(".")[0] == "4"
    assert result["protocol"] == 5


# --- /test namespace of tests/interop/app.py ---


def test_connect_with_auth(node_scenario: NodeScenario, app_url: str) -> None:
    """The auth payload reaches on_connect/session.auth unchanged and socket.id is the sid."""
    result = node_scenario("connect_auth.mjs", app_url)
    assert result["connected"] is True
    assert result["whoami"] == ECHOED
    assert result["info"]["sid"] == result["id"]
    assert result["info"]["namespace"] == "/test"


def test_room_broadcast(node_scenario: NodeScenario, app_url: str) -> None:
    """hub.emit reaches exactly the room's members: once each, also for a room list."""
    result = node_scenario("rooms.mjs", app_url)
    assert result["joinA"] == [True]
    assert result["joinB"] == [True]
    assert result["count1"] == [1]
    assert {"room-a", "room-b"} <= set(result["roomsA"])
    assert result["count2"] == [2]
    assert result["leaveA"] == [True]
    assert result["count3"] == [0]
    assert result["count4"] == [3]
    news = result["news"]
    assert news["a"][0] == [{"n": 1}, "x"]
    assert firsts(news["a"]) == [1, 2, 4]
    assert firsts(news["b"]) == [2, 4]
    assert firsts(news["c"]) == [4]


def test_ack_both_directions(node_scenario: NodeScenario, app_url: str) -> None:
    """Client->server acks carry the handler's return; session.call gets the client's ack."""
    result = node_scenario("acks.mjs", app_url)
    assert result["echoed"] == ["a", 1, {"x": [True, None, 2.5]}, ["ünïcødé ☃ 🎉"]]
    assert result["empty"] == []
    assert result["single"] == ["only"]
    assert result["concurrent"] == [[i] for i in range(20)]
    assert result["started"] == [True]
    assert result["questions"] == [{"n": 21}]
    assert result["answered"] == {"ok": True, "answer": [{"doubled": 42, "by": "node"}, "second"]}


def test_server_call_times_out(node_scenario: NodeScenario, app_url: str) -> None:
    """session.call raises AckTimeout when the client never acks; the connection lives on."""
    result = node_scenario("ack_timeout.mjs", app_url)
    assert result["started"] == [True]
    assert result["questions"] == [{"n": 1}]
    assert result["answered"] == {"ok": False, "error": "timeout"}
    assert result["after"] == ["still here"]


def test_binary_echo(node_scenario: NodeScenario, app_url: str) -> None:
    """Buffers at the top level, nested in objects and in arrays come back as Buffers."""
    result = node_scenario("binary.mjs", app_url, "echo")
    nested = {"label": "nested", "blob": b"hello", "list": [b"\x00", b"\x01\x02"]}
    assert result["echoed"] == [ALL_BYTES, nested, "text"]
    assert result["firstIsBuffer"] is True


def test_binary_big(node_scenario: NodeScenario, app_url: str) -> None:
    """A 70,000-byte Buffer (64-bit WebSocket frame length) is echoed intact."""
    result = node_scenario("binary.mjs", app_url, "big")
    assert result["length"] == 70_000
    assert result["equal"] is True


def test_binary_empty(node_scenario: NodeScenario, app_url: str) -> None:
    """A zero-length Buffer attachment is echoed as an empty Buffer."""
    result = node_scenario("binary.mjs", app_url, "empty")
    assert result["echoed"] == [b"", "after"]


def test_binary_server_to_client_roundtrip(node_scenario: NodeScenario, app_url: str) -> None:
    """Server sends bytes in a call, the client acks with Buffers, the server sends them back."""
    result = node_scenario("binary.mjs", app_url, "roundtrip")
    assert result["started"] == [True]
    assert result["questions"] == [{"blob": b"\x01\x02\x03\xfa"}]
    assert result["answered"] == {
        "ok": True,
        "answer": [b"\xfa\x03\x02\x01", {"also": b"ack-bin"}],
    }


def test_refused_bad_token(node_scenario: NodeScenario, app_url: str) -> None:
    """A wrong token gets connect_error with ConnectRefused's message and data."""
    result = node_scenario("refused.mjs", app_url, "/test", "wrong")
    assert result["connected"] is False
    assert result["message"] == "bad token"
    assert result["data"] == {"reason": "invalid_token"}
    assert result["connectedAfter"] is False


def test_refused_without_auth(node_scenario: NodeScenario, app_url: str) -> None:
    """A CONNECT without an auth payload reaches on_connect as None and is refused."""
    result = node_scenario("refused.mjs", app_url, "/test", "none")
    assert result["connected"] is False
    assert result["message"] == "bad token"
    assert result["data"] == {"reason": "invalid_token"}


def test_refused_unknown_namespace(node_scenario: NodeScenario, app_url: str) -> None:
    """An unknown namespace gets connect_error "Invalid namespace" (as socket.io's server)."""
    result = node_scenario("refused.mjs", app_url, "/nope", "ok")
    assert result["connected"] is False
    assert result["message"] == "Invalid namespace"
    assert result["connectedAfter"] is False


def test_good_token_connects(node_scenario: NodeScenario, app_url: str) -> None:
    """The refusal scenario's control: the right token connects (the refusals are real)."""
    result = node_scenario("refused.mjs", app_url, "/test", "ok")
    assert result["connected"] is True
    assert result["connectedAfter"] is True


def test_namespaces_multiplexed(node_scenario: NodeScenario, app_url: str) -> None:
    """One connection carries "/", "/test" and a refused "/nope"; the refusal spares the rest."""
    result = node_scenario("multiplex.mjs", app_url)
    assert result["root"]["connected"] is True
    assert result["test"]["connected"] is True
    assert result["nope"] == {"connected": False, "message": "Invalid namespace", "data": None}
    assert result["pong"] == ["pong", 1, "two"]
    assert result["echoed"] == ["via /test"]
    assert result["engineOpen"] == "open"


@pytest.mark.parametrize(
    ("mode", "server_reason", "client_reason"),
    [
        ("namespace", "client namespace disconnect", "io client disconnect"),
        ("transport", "transport close", "forced close"),
        # "io server disconnect" is the reason a client must not reconnect after.
        ("kick", "server namespace disconnect", "io server disconnect"),
    ],
)
def test_disconnect_reaches_on_disconnect(
    node_scenario: NodeScenario, app_url: str, mode: str, server_reason: str, client_reason: str
) -> None:
    """Each way of leaving runs on_disconnect with the sid and socket.io's reason name."""
    result = node_scenario("disconnect.mjs", app_url, mode)
    assert result["joined"] == [True]
    assert result["peerLeft"] == {"sid": result["leftId"], "reason": server_reason}
    assert result["bReason"] == client_reason


def test_unanswered_pings_drop_the_client(node_scenario: NodeScenario, spawn_hub: SpawnHub) -> None:
    """A client that stops answering pings is dropped with reason "ping timeout"."""
    hub = spawn_hub("app", "--ping-interval", "0.2", "--ping-timeout", "0.3")
    result = node_scenario("disconnect.mjs", hub.url, "frozen")
    assert result["peerLeft"] == {"sid": result["leftId"], "reason": "ping timeout"}
    assert result["bReason"] == "transport close"


def test_kicked_namespace_reconnects_on_same_connection(
    node_scenario: NodeScenario, app_url: str
) -> None:
    """After a server-side disconnect the client reconnects /test on the same connection."""
    result = node_scenario("kick_reconnect.mjs", app_url)
    assert result["rootFirst"]["connected"] is True
    assert result["testFirst"]["connected"] is True
    assert result["kickReason"] == "io server disconnect"
    assert result["testAgain"]["connected"] is True
    assert result["testAgain"]["id"] != result["testFirst"]["id"]
    assert result["echoed"] == ["back"]
    assert result["pong"] == ["pong", "still"]
    assert result["rootDisconnects"] == []
    assert result["sameEngine"] is True


def test_heartbeat_keeps_connection(node_scenario: NodeScenario, spawn_hub: SpawnHub) -> None:
    """With a 0.2 s ping interval the client answers pings and stays connected for 1.5 s."""
    hub = spawn_hub("app", "--ping-interval", "0.2", "--ping-timeout", "0.5")
    result = node_scenario("heartbeat.mjs", hub.url, "1500")
    assert result["disconnects"] == []
    assert result["connectedAfter"] is True
    assert result["pings"] >= 3
    assert result["echoed"] == ["alive"]


def test_app_exits_zero_on_sigterm(node_scenario: NodeScenario, app_hub: HubProcess) -> None:
    """After serving clients, SIGTERM stops the app's hub.serve cleanly: exit 0, no traceback."""
    node_scenario("acks.mjs", app_hub.url)
    assert app_hub.alive()
    assert app_hub.stop() == 0
    assert "Traceback" not in app_hub.stderr()


# --- the standalone `python -m hub`, default namespace ---


def test_standalone_join_publish_leave(node_scenario: NodeScenario, standalone_url: str) -> None:
    """python -m hub: join, publish to a room / room list / everyone, receive, leave."""
    result = node_scenario("standalone.mjs", standalone_url, "basic")
    assert ok(result["joinA"])
    assert ok(result["joinB"])
    assert is_publish_ack(result["pub1"], 1)
    assert is_publish_ack(result["pub2"], 2)
    assert is_publish_ack(result["pub3"], 2)
    assert ok(result["leaveA"])
    assert is_publish_ack(result["pub4"], 0)
    news = result["news"]
    assert news["a"][0] == [{"n": 1, "text": "héllo"}]
    assert firsts(news["a"]) == [1, 2, 3]
    assert firsts(news["b"]) == [2, 3]


def test_standalone_publish_binary(node_scenario: NodeScenario, standalone_url: str) -> None:
    """python -m hub: Buffers inside published data reach the room's members as Buffers."""
    result = node_scenario("standalone.mjs", standalone_url, "binary")
    assert ok(result["joinA"])
    assert is_publish_ack(result["pub"], 1)
    assert result["news"]["a"] == [[{"n": 1, "blob": b"\x00\x01\x02\xff"}]]


def test_standalone_exits_zero_on_sigterm(
    node_scenario: NodeScenario, standalone_hub: HubProcess
) -> None:
    """python -m hub exits 0 on SIGTERM after serving clients, without a traceback."""
    node_scenario("standalone.mjs", standalone_hub.url, "basic")
    assert standalone_hub.alive()
    assert standalone_hub.stop() == 0
    assert "Traceback" not in standalone_hub.stderr()
