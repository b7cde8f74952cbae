"""API key scopes (publish, stats, admin) and the admin endpoint POST /api/users/{id}/disconnect."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from hub import Session
from hub.server.api import SCOPES, parse_api_keys
from hub.testing import open_test_client, wait_until
from tests.http.conftest import StartApi, api_client
from tests.polling.wire import Poller

PUBLISHER = "publish:pub-key-0123"
READER = "stats:stats-key-0123"
ADMIN = "admin:admin-key-0123"
BOTH = "publish+stats:both-key-0123"
FULL = "full-key-0123"  # no scopes named: every scope
ODD = "notascope:odd-key-0123"  # not made of scopes: the whole entry is the key
ODD_MIX = "publish+bogus:mix-key-0123"  # one part not a scope: the whole entry too
COLON = "stats:with:colon-0123"  # the key is everything after the first ':'
KEYS = (PUBLISHER, READER, ADMIN, BOTH, FULL, ODD, ODD_MIX, COLON)


def secret(entry: str) -> str:
    """The key a client sends for an ``api_keys`` entry."""
    return {
        PUBLISHER: "pub-key-0123",
        READER: "stats-key-0123",
        ADMIN: "admin-key-0123",
        BOTH: "both-key-0123",
        COLON: "with:colon-0123",
    }.get(entry, entry)


@attrs.frozen
class Call:
    method: str
    path: str
    body: dict[str, Any] | None
    scope: str


CALLS = [
    Call("POST", "/api/publish", {"event": "e"}, "publish"),
    Call("POST", "/api/users/u/emit", {"event": "e"}, "publish"),
    Call("GET", "/api/stats", None, "stats"),
    Call("POST", "/api/users/u/disconnect", None, "admin"),
]
GRANTS = {
    PUBLISHER: {"publish"},
    READER: {"stats"},
    ADMIN: {"publish", "stats", "admin"},
    BOTH: {"publish", "stats"},
    FULL: {"publish", "stats", "admin"},
    ODD: {"publish", "stats", "admin"},
    ODD_MIX: {"publish", "stats", "admin"},
    COLON: {"stats"},
}


def test_parsing_of_entries() -> None:
    parsed = {key.secret.decode(): key.scopes for key in parse_api_keys(KEYS)}
    assert parsed == {secret(entry): frozenset(GRANTS[entry]) for entry in KEYS} | {
        "admin-key-0123": frozenset({"admin"})  # admin allows everything by itself
    }
    assert parse_api_keys(["publish:", "k"]) == parse_api_keys(["k"])  # no key: ignored
    assert {key.scopes for key in parse_api_keys(["k"])} == {SCOPES}


async def test_each_scope_against_each_endpoint(start_api: StartApi) -> None:
    api = await start_api(api_keys=KEYS)
    forbidden = 0
    for entry in KEYS:
        async with api_client(api.port, key=secret(entry)) as http:
            for call in CALLS:
                response = await http.request(call.method, call.path, json=call.body)
                if call.scope in GRANTS[entry]:
                    assert response.status_code == 200, (entry, call, response.text)
                else:
                    forbidden += 1
                    assert response.status_code == 403, (entry, call, response.text)
                    assert response.json() == {
                        "error": "forbidden",
                        "message": f"this key lacks the {call.scope} scope",
                    }
            # The operations endpoints stay open, with any key or none.
            for path in ("/health", "/ready", "/metrics"):
                assert (await http.get(path)).status_code == 200
    assert api.hub.stats().errors == {"http_forbidden": forbidden}


async def test_a_scoped_entry_as_a_whole_is_not_a_key(start_api: StartApi) -> None:
    api = await start_api(api_keys=KEYS)
    for sent in (PUBLISHER, BOTH, "odd-key-0123", "with", "colon-0123"):
        async with api_client(api.port, key=sent) as http:
            response = await http.get("/api/stats")
            assert response.status_code == 401, sent
            assert response.json()["error"] == "unauthorized"


async def test_a_scope_check_comes_after_the_route_and_the_key(start_api: StartApi) -> None:
    """Unknown routes stay 404 and wrong methods 405 for any key; bad keys stay 401."""
    api = await start_api(api_keys=(PUBLISHER,))
    async with api_client(api.port, key=secret(PUBLISHER)) as http:
        assert (await http.get("/api/nope")).status_code == 404
        assert (await http.get("/api/users/u/disconnect")).status_code == 405
    async with api_client(api.port, key="wrong") as http:
        assert (await http.post("/api/users/u/disconnect")).status_code == 401


async def test_reconfigured_keys_apply_at_once(start_api: StartApi) -> None:
    api = await start_api(api_keys=(READER,))
    async with api_client(api.port, key=secret(READER)) as http:
        assert (await http.get("/api/stats")).status_code == 200
        api.hub.reconfigure(api_keys=(PUBLISHER,))
        assert (await http.get("/api/stats")).status_code == 401
        api.hub.reconfigure(api_keys=("stats+admin:" + secret(READER),))
        assert (await http.post("/api/users/u/disconnect")).status_code == 200


async def disconnect(api_port: int, user: str, status: int = 200, **body: Any) -> Any:
    async with api_client(api_port, key=secret(ADMIN)) as http:
        response = await http.post(f"/api/users/{user}/disconnect", json=body or None)
    assert response.status_code == status, response.text
    return response.json()


async def test_admin_disconnects_every_session_of_a_user(start_api: StartApi) -> None:
    """Two WebSocket tabs and a long-polling one of alice, and one on /dash; bob stays."""
    api = await start_api(api_keys=KEYS)
    dash = api.hub.namespace("/dash")
    gone: list[tuple[str, str]] = []

    @dash.on_connect
    async def connect(session: Session, auth: Any) -> None:
        session.user_id = auth["user"]

    @dash.on_disconnect
    async def left(session: Session, reason: str) -> None:
        gone.append((session.namespace.name, reason))

    port = api.port
    poller = await Poller.open(port)
    try:
        await poller.connect(auth={"user": "alice"})
        async with (
            open_test_client(port, auth={"user": "alice"}) as tab1,
            open_test_client(port, auth={"user": "alice"}) as tab2,
            open_test_client(port, connect="/dash", auth={"user": "alice"}) as board,
            open_test_client(port, auth={"user": "bob"}) as bob,
        ):
            assert await disconnect(port, "alice", namespace="/dash") == {"disconnected": 1}
            assert await board.next_event("/dash") == ("disconnect", [])
            assert gone == [("/dash", "server namespace disconnect")]
            assert await disconnect(port, "alice") == {"disconnected": 3}
            for tab in (tab1, tab2):
                assert await tab.next_event() == ("disconnect", [])
                assert tab.disconnected == {"/": True}
            assert await poller.get() == ["41"]
            assert await disconnect(port, "alice") == {"disconnected": 0}
            # Bob is untouched and still served.
            assert (await bob.call("join", "room"))[0]["ok"] is True
            assert api.hub.users.sizes() == {"bob": 1}
            assert api.hub.stats().disconnects == {"server namespace disconnect": 4}
            await disconnect(port, "alice", 404, namespace="/nope")
            await disconnect(port, "alice", 400, colour="red")
    finally:
        await poller.post("1")  # the Engine.IO session ends too
        await poller.aclose()
    await wait_until(lambda: api.hub.stats().connections == 0)


@pytest.mark.parametrize("entry", [PUBLISHER, READER, BOTH])
async def test_disconnect_needs_the_admin_scope(start_api: StartApi, entry: str) -> None:
    api = await start_api(api_keys=KEYS)
    async with open_test_client(api.port, auth={"user": "alice"}) as tab:
        async with api_client(api.port, key=secret(entry)) as http:
            response = await http.post("/api/users/alice/disconnect")
        assert response.status_code == 403
        assert response.json()["message"] == "this key lacks the admin scope"
        assert (await tab.call("join", "still-here"))[0]["ok"] is True
