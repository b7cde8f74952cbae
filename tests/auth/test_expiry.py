"""Tokens that expire during a session, and ``hub:refresh``, over real sockets.

Tokens here expire 2-3 s after they are made (``exp`` is whole seconds) with
``jwt_leeway=0``; every wait for the expiry is bounded well above that.
"""

from __future__ import annotations

import time
from typing import Any

import trio

from hub import Hub, Session
from hub.protocol.socketio import SioType
from hub.testing import TestClient, wait_until
from tests.auth.kit import SECRET, STEP, open_client, session_of, token
from tests.conftest import StartHub

EXPIRY_WAIT = 15.0  # far above the 2-3 s a short token lives


def short_token(sub: str = "alice", **more: Any) -> tuple[str, int]:
    """A token expiring 2-3 s from now, and its ``exp``."""
    exp = int(time.time()) + 3
    return token(sub, ttl=None, exp=exp, **more), exp


async def refresh(client: TestClient, request: Any, namespace: str = "/") -> dict[str, Any]:
    (answer,) = await client.call("hub:refresh", request, namespace=namespace, timeout=STEP)
    assert isinstance(answer, dict)
    return answer


def expiring_hub(**settings: Any) -> tuple[Hub, list[tuple[str | None, str]]]:
    """A hub with tokens, no leeway, and a record of its disconnect reasons."""
    hub = Hub(jwt_secret=SECRET, jwt_leeway=0, **settings)
    gone: list[tuple[str | None, str]] = []

    @hub.namespace("/").on_disconnect
    async def left(session: Session, reason: str) -> None:
        gone.append((session.user_id, reason))

    @hub.namespace("/").on("ping")
    async def ping(session: Session) -> str:
        return "pong"

    return hub, gone


async def test_expired_token_ends_the_session(start_hub: StartHub) -> None:
    hub, gone = expiring_hub()
    hub, port = await start_hub(hub)
    presented, exp = short_token()
    async with open_client(port, auth={"token": presented}) as client:
        session = session_of(hub, client.sids["/"])
        assert session.claims is not None and session.claims.expires_at == exp
        # A failed refresh does not extend the session.
        assert (await refresh(client, {"token": "garbage"}))["ok"] is False
        with trio.fail_after(EXPIRY_WAIT):
            event, args = await client.next_event(timeout=EXPIRY_WAIT)
        assert time.time() >= exp
        assert event == "hub:error"
        assert args == [{"reason": "token_expired", "message": "the token has expired"}]
        assert await client.next_event(timeout=STEP) == ("disconnect", [])
        # On the wire: the error event, then the namespace's DISCONNECT.
        kinds = [(p.type, p.data[0] if p.is_event else None) for p in client.received[-2:]]
        assert kinds == [(SioType.EVENT, "hub:error"), (SioType.DISCONNECT, None)]
        assert not session.connected
        assert gone == [("alice", "token expired")]
        stats = hub.stats()
        assert stats.disconnects["token expired"] == 1
        assert stats.errors["token_expired"] == 1
        assert stats.sessions["/"] == 0
        # The namespace session ended, not the connection: a fresh token connects again.
        sid = await client.connect("/", {"token": token("alice")})
        assert (await client.call("ping", timeout=STEP)) == ["pong"]
        assert session_of(hub, sid).user_id == "alice"


async def test_refresh_before_expiry_keeps_the_session(start_hub: StartHub) -> None:
    hub, gone = expiring_hub()
    hub, port = await start_hub(hub)
    kept_token, _ = short_token("alice")
    lapsed_token, exp = short_token("bob")
    async with (
        open_client(port, auth={"token": kept_token}) as kept,
        open_client(port, auth={"token": lapsed_token}) as lapsed,
    ):
        later = int(time.time()) + 300
        answer = await refresh(kept, {"token": token("alice", ttl=None, exp=later, roles=["r"])})
        assert answer == {"ok": True, "expires_at": later}
        session = session_of(hub, kept.sids["/"])
        assert session.claims is not None
        assert session.claims.expires_at == later and session.claims.roles == frozenset({"r"})
        # bob, who did not refresh, is ended; alice, past the same moment, goes on.
        assert (await lapsed.next_event(timeout=EXPIRY_WAIT))[0] == "hub:error"
        await trio.sleep(0.5)
        assert time.time() > exp + 0.5
        assert session.connected
        assert await kept.call("ping", timeout=STEP) == ["pong"]
        assert kept.pending_events() == 0
        assert gone == [("bob", "token expired")]


async def test_refresh_can_shorten_too(start_hub: StartHub) -> None:
    """The new token's expiry is the one watched, whichever comes first."""
    hub, _ = expiring_hub()
    hub, port = await start_hub(hub)
    async with open_client(port, auth={"token": token("alice")}) as client:
        presented, exp = short_token("alice")
        assert await refresh(client, {"token": presented}) == {"ok": True, "expires_at": exp}
        event, args = await client.next_event(timeout=EXPIRY_WAIT)
        assert (event, args[0]["reason"]) == ("hub:error", "token_expired")
        assert await client.next_event(timeout=STEP) == ("disconnect", [])


async def test_refresh_naming_another_user_is_refused(start_hub: StartHub) -> None:
    hub, _ = expiring_hub()
    hub, port = await start_hub(hub)
    original = token("alice")
    async with open_client(port, auth={"token": original}) as client:
        session = session_of(hub, client.sids["/"])
        before = session.claims
        answer = await refresh(client, {"token": token("mallory")})
        assert answer["ok"] is False and answer["error"] == "forbidden"
        assert "another user" in answer["message"]
        assert session.claims is before and session.user_id == "alice"
        assert list(hub.users.members("mallory")) == []
        assert await client.call("ping", timeout=STEP) == ["pong"]
    assert hub.stats().errors["forbidden"] == 1


async def test_invalid_refresh_tokens_are_refused(start_hub: StartHub) -> None:
    hub, _ = expiring_hub()
    hub, port = await start_hub(hub)
    async with open_client(port, auth={"token": token("alice")}) as client:
        session = session_of(hub, client.sids["/"])
        before = session.claims
        cases = {
            "garbage": ({"token": "garbage"}, "invalid_token"),
            "wrong-key": ({"token": token("alice", secret="k" * 64)}, "invalid_token"),
            "expired": ({"token": token("alice", ttl=-60)}, "token_expired"),
            "no-token": ({}, "token_required"),
            "not-a-dict": (17, "invalid_token"),
        }
        for name, (request, reason) in cases.items():
            answer = await refresh(client, request)
            assert set(answer) == {"ok", "error", "message"}, name
            assert (answer["ok"], answer["error"]) == (False, reason), name
        # A bare token (not wrapped in {"token": ...}) is taken too.
        later = int(time.time()) + 600
        answer = await refresh(client, token("alice", ttl=None, exp=later))
        assert answer == {"ok": True, "expires_at": later}
        assert session.claims is not before
        # Without an ack request, the refusal comes as a hub:error event.
        await client.emit("hub:refresh", {"token": "garbage"})
        event, args = await client.next_event(timeout=STEP)
        assert (event, args[0]["reason"]) == ("hub:error", "invalid_token")
        assert session.connected


async def test_refresh_must_keep_the_namespace_role(start_hub: StartHub) -> None:
    hub, _ = expiring_hub(namespace_access=("/admin=admin", "/pub=public"))
    hub.namespace("/admin")
    hub.namespace("/pub")
    hub, port = await start_hub(hub)
    admin = {"token": token("root", roles=["admin"])}
    async with open_client(port, connect="/admin", auth=admin) as client:
        answer = await refresh(client, {"token": token("root")}, namespace="/admin")
        assert (answer["ok"], answer["error"]) == (False, "forbidden")
        # A session that connected without a token has nothing to refresh.
        await client.connect("/pub")
        answer = await refresh(client, {"token": token("root")}, namespace="/pub")
        assert (answer["ok"], answer["error"]) == (False, "forbidden")


async def test_refresh_without_jwt_is_refused(start_hub: StartHub) -> None:
    _, port = await start_hub()
    async with open_client(port) as client:
        answer = await refresh(client, {"token": token("alice")})
        assert (answer["ok"], answer["error"]) == (False, "forbidden")


async def test_cancelling_serve_with_watched_tokens_stops() -> None:
    """Cancelling ``hub.serve`` (how a trio application stops an embedded hub) ends the
    expiry task too, rather than respawning it into the cancelled nursery forever."""
    hub = Hub(jwt_secret=SECRET)
    stuck = False

    async def watchdog() -> None:
        nonlocal stuck
        await trio.sleep(10)
        stuck = True
        hub.spawn = None  # break a respawn loop, so the test fails instead of hanging

    async with trio.open_nursery() as outer:
        outer.start_soon(watchdog)
        async with trio.open_nursery() as nursery:
            port = await nursery.start(hub.serve, "127.0.0.1", 0)
            async with open_client(port, auth={"token": token("alice")}):
                await wait_until(lambda: hub.expiry._running)
            nursery.cancel_scope.cancel()
        outer.cancel_scope.cancel()
    assert not stuck
    assert not hub.expiry._running
