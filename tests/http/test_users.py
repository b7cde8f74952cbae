"""Users: sessions named by a connect handler, and POST /api/users/{id}/emit (through the
user's emitter: each event carries a trailing {"id"}; see tests/emitter for the rest)."""

from __future__ import annotations

from typing import Any

import pytest

from hub import ConnectRefused, Session
from hub.testing import open_test_client, wait_until
from tests.http.conftest import ApiHub, StartApi, events_until


async def emit(api: ApiHub, user: str, **body: Any) -> int:
    """Emit; how many live sessions the user had for it."""
    response = await api.http.post(f"/api/users/{user}/emit", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"id", "state", "sessions"}
    sessions: int = answer["sessions"]
    return sessions


def plain(events: list[Any]) -> list[Any]:
    """The events without the emitter's trailing {"id"} (checked to be there)."""
    stripped = []
    for name, args in events:
        assert set(args[-1]) == {"id"}, args
        stripped.append((name, args[:-1]))
    return stripped


async def test_user_emit_reaches_every_session_of_that_user_and_no_other(
    start_api: StartApi,
) -> None:
    """Two tabs of alice on /, one on /dash; bob; an anonymous client: only alice's get it."""
    api = await start_api()
    dash = api.hub.namespace("/dash")

    @dash.on_connect
    async def connect(session: Session, auth: Any) -> None:
        session.user_id = auth["user"]

    port = api.port
    async with (
        open_test_client(port, auth={"user": "alice"}) as tab1,
        open_test_client(port, auth={"user": "alice"}) as tab2,
        open_test_client(port, connect="/dash", auth={"user": "alice"}) as board,
        open_test_client(port, auth={"user": "bob"}) as bob,
        open_test_client(port) as anonymous,
    ):
        assert await emit(api, "alice", event="note", data={"n": 1}) == 3
        assert await emit(api, "alice", event="note", data=[2, "x"], namespace="/") == 2
        assert await emit(api, "alice", event="note", namespace="/dash") == 1
        assert await emit(api, "bob", event="note", data=4) == 1
        assert await emit(api, "carol", event="note", data=5) == 0  # waits for carol
        await api.publish(event="end")
        await api.publish(event="end", namespace="/dash")
        for tab in (tab1, tab2):
            seen = plain(await events_until(tab, "end"))
            assert seen == [("note", [{"n": 1}]), ("note", [[2, "x"]])]
        seen = plain(await events_until(board, "end", "/dash"))
        assert seen == [("note", [{"n": 1}]), ("note", [None])]
        assert plain(await events_until(bob, "end")) == [("note", [4])]
        assert await events_until(anonymous, "end") == []
        assert api.hub.stats().errors == {}
    # Gone sessions leave the user index.
    await wait_until(lambda: not api.hub.users.sizes())
    assert await emit(api, "alice", event="note") == 0


async def test_user_id_set_after_connect_and_odd_ids(start_api: StartApi) -> None:
    """An id set by an event handler (after admission) and changed later; ids with '/'."""
    api = await start_api()
    default = api.hub.namespace("/")

    @default.on("login")
    async def login(session: Session, user: str | None) -> None:
        session.user_id = user

    async with open_test_client(api.port) as client:
        await client.call("login", "a/b c")
        assert await emit(api, "a%2Fb%20c", event="hi", data=1) == 1
        assert plain([await client.next_event()]) == [("hi", [1])]
        await client.call("login", "dave")
        assert await emit(api, "a%2Fb%20c", event="hi") == 0
        assert await emit(api, "dave", event="hi", data=2) == 1
        assert plain([await client.next_event()]) == [("hi", [2])]
        await client.call("login", None)
        assert await emit(api, "dave", event="hi") == 0
        assert api.hub.users.sizes() == {}


async def test_standalone_auth_user_must_be_a_string(start_api: StartApi) -> None:
    """The standalone hub takes auth={"user": id} on its word, and refuses a non-string id."""
    api = await start_api()
    async with open_test_client(api.port, connect=None) as refused:
        with pytest.raises(ConnectRefused, match=r"auth\.user"):
            await refused.connect("/", {"user": 42})
    async with open_test_client(api.port, auth={"user": "eve", "other": 1}) as client:
        assert await emit(api, "eve", event="hi") == 1
        assert plain([await client.next_event()]) == [("hi", [None])]


async def test_user_events_carry_their_id_not_a_history_offset(start_api: StartApi) -> None:
    """With recovery on, a user event still goes by the emitter (its own offline queue and
    ids), not by the namespace history."""
    api = await start_api(recovery=60)
    async with open_test_client(api.port, auth={"user": "fay"}) as client:
        assert await emit(api, "fay", event="hi", data=1) == 1
        name, args = await client.next_event()
        assert name == "hi" and args == [1, {"id": args[1]["id"]}]
