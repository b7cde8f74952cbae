"""allowed_origins: which browser pages may open Engine.IO sessions, on both transports."""

from __future__ import annotations

import pytest

from hub.testing import wait_until
from tests.conftest import StartHub
from tests.limits.clients import (
    Refused,
    WebSocket,
    end_polling,
    open_websocket_session,
    polling_handshake,
    refused_reply,
    server_of,
    summary,
)
from tests.polling.wire import Poller

GOOD = "https://app.example.com"
BAD = "https://evil.example.net"
FORBIDDEN = {"code": 4, "message": "Forbidden", "reason": "origin_not_allowed"}


async def opens_on_both(port: int, origin: str | None) -> None:
    assert await open_websocket_session(port, origin=origin) is None
    opened = await polling_handshake(port, origin=origin)
    assert isinstance(opened, Poller), opened
    await end_polling(opened)


@pytest.mark.parametrize(
    ("allowed", "origin"),
    [
        ((GOOD,), GOOD),
        ((GOOD,), "HTTPS://App.Example.com"),  # scheme and host are case-insensitive
        ((GOOD + "/", "http://localhost:3000"), GOOD),
        ((GOOD,), None),  # no Origin header: not a browser page
        (("*",), BAD),
        ((), BAD),  # no list: any origin
    ],
)
async def test_allowed(start_hub: StartHub, allowed: tuple[str, ...], origin: str | None) -> None:
    hub, port = await start_hub(allowed_origins=allowed)
    await opens_on_both(port, origin)
    assert "origin_not_allowed" not in hub.stats().errors


@pytest.mark.parametrize("origin", [BAD, "null", GOOD + ":8443", "http://app.example.com"])
async def test_refused_on_both_transports(start_hub: StartHub, origin: str) -> None:
    hub, port = await start_hub(allowed_origins=(GOOD,))
    by_websocket = await open_websocket_session(port, origin=origin)
    by_polling = await polling_handshake(port, origin=origin)
    for refusal in (by_websocket, by_polling):
        assert isinstance(refusal, Refused)
        assert (refusal.status, refusal.body) == (403, FORBIDDEN)
        assert summary(refusal) == (403, 4, "origin_not_allowed")
    assert hub.stats().errors["origin_not_allowed"] == 2
    # Refused before it was counted: no connection slot is taken.
    assert server_of(hub).gate.total == 0 and hub.stats().connections == 0


async def test_later_polling_requests_and_upgrades_are_checked_too(start_hub: StartHub) -> None:
    """An allowed session's sid is no key for another origin: its GET, POST and upgrade
    from a page of a refused origin are refused, and the session goes on."""
    hub, port = await start_hub(allowed_origins=(GOOD,))
    session = await polling_handshake(port, origin=GOOD)
    assert isinstance(session, Poller)
    bad = {"Origin": BAD}
    get = await session.getter.request("GET", session.target, headers=bad)
    post = await session.poster.request("POST", session.target, b"40", headers=bad)
    upgrade = await WebSocket.open(port, origin=BAD, sid=session.sid)
    assert isinstance(upgrade, Refused)
    for refusal in (refused_reply(get), refused_reply(post), upgrade):
        assert (refusal.status, refusal.body) == (403, FORBIDDEN)
    assert hub.stats().errors["origin_not_allowed"] == 3
    # The session itself is untouched, and is used from its own origin.
    good = {"Origin": GOOD}
    assert (await session.poster.request("POST", session.target, b"40", headers=good)).status == 200
    reply = await session.getter.request("GET", session.target, headers=good)
    assert reply.status == 200 and reply.body.startswith(b"40{")
    await end_polling(session)
    await wait_until(lambda: hub.stats().connections == 0)
