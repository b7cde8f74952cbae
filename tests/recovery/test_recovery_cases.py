"""When the official Node client recovers, and when it must not, against ``recovery_app.py``.

Each test runs one case of ``tests/interop/js/recovery_cases.mjs``: client A is cut off
and reconnected by hand while client B broadcasts to A's rooms. Recovered means what
Socket.IO 4.6+ means: ``socket.recovered`` true, the same sid, the rooms and
``session.data`` kept, the missed events delivered before ``connect``. Only involuntary
disconnects (transport close, ping timeout, server shutdown) are recoverable, within the
window, while the history still reaches back to the client's offset.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.interop_harness import HubProcess
from tests.recovery.harness import Processes, Scenario


@pytest.fixture(scope="module")
def app(module_procs: Processes) -> HubProcess:
    """One recovery app for the cases that neither restart it nor need special settings."""
    return module_procs.app()


def ns(ticks: list[dict[str, Any]]) -> list[Any]:
    return [tick["n"] for tick in ticks]


def disconnect_reasons(log: list[dict[str, Any]], sid: str) -> list[str]:
    return [e["reason"] for e in log if e["what"] == "disconnect" and e["sid"] == sid]


def test_recovered_session_keeps_sid_rooms_data(app: HubProcess, scenario: Scenario) -> None:
    """Transport close, event while away: same sid and pid, rooms and data back, event first."""
    result = scenario("recovery_cases.mjs", app.url, "state")
    first, again = result["first"], result["again"]
    assert first["recovered"] is False
    assert isinstance(first["pid"], str)  # the CONNECT reply carried a pid
    assert again == {"connected": True, "id": first["id"], "recovered": True, "pid": first["pid"]}
    assert ns(result["ticks"]) == [1, 2, 3]
    assert all(isinstance(tick["offset"], str) and tick["argc"] == 2 for tick in result["ticks"])
    # The missed event was handed to the app before "connect" fired.
    assert result["lifecycle"][-1] == {
        "event": "connect",
        "id": first["id"],
        "recovered": True,
        "ticks": 2,
    }
    before, after = result["before"], result["after"]
    assert before["recovered"] is False and after["recovered"] is True
    assert after["sid"] == before["sid"] == first["id"]
    assert {"s1", "s2"} <= set(after["rooms"])
    assert after["rooms"] == before["rooms"]
    assert after["data"] == before["data"] == {"value": "kept"}
    assert result["live"] == [1]  # B's broadcast to s1 reached A without a new join
    assert disconnect_reasons(result["log"], first["id"]) == ["transport close"]


def test_client_disconnect_is_not_recovered(app: HubProcess, scenario: Scenario) -> None:
    """socket.disconnect() then connect(): a fresh session, the event meanwhile not replayed."""
    result = scenario("recovery_cases.mjs", app.url, "voluntary")
    first, again = result["first"], result["again"]
    assert again["connected"] is True
    assert again["recovered"] is False
    assert again["id"] != first["id"]
    assert ns(result["ticks"]) == [1]
    assert disconnect_reasons(result["log"], first["id"]) == ["client namespace disconnect"]


def test_server_disconnect_is_not_recovered(app: HubProcess, scenario: Scenario) -> None:
    """Kicked by the server (session.disconnect()), then connect(): a fresh session."""
    result = scenario("recovery_cases.mjs", app.url, "kick")
    first, again = result["first"], result["again"]
    assert [e["reason"] for e in result["lifecycle"] if e["event"] == "disconnect"] == [
        "io server disconnect"
    ]
    assert again["connected"] is True
    assert again["recovered"] is False
    assert again["id"] != first["id"]
    assert ns(result["ticks"]) == [1]
    assert disconnect_reasons(result["log"], first["id"]) == ["server namespace disconnect"]


def test_namespace_with_recovery_off(app: HubProcess, scenario: Scenario) -> None:
    """hub.namespace("/off", recovery=0.0): no pid, no offsets, a cut loses the session."""
    result = scenario("recovery_cases.mjs", app.url, "off")
    first, again = result["first"], result["again"]
    assert first["pid"] is None
    assert again["connected"] is True
    assert again["recovered"] is False
    assert again["pid"] is None
    assert again["id"] != first["id"]
    assert result["ticks"] == [{"n": 1, "offset": None, "argc": 1, "connected": True}]


def test_window_per_namespace(app: HubProcess, scenario: Scenario) -> None:
    """hub.namespace("/short", recovery=1.0): recovered at once, a fresh session after 1.5 s."""
    result = scenario("recovery_cases.mjs", app.url, "short")
    first, quick, late = result["first"], result["quick"], result["late"]
    assert quick["recovered"] is True and quick["id"] == first["id"]
    assert late["connected"] is True
    assert late["recovered"] is False
    assert late["id"] != first["id"]
    assert ns(result["ticks"]) == [1, 2]  # 3 went out past the window: not replayed


def test_history_bound_per_namespace(app: HubProcess, scenario: Scenario) -> None:
    """hub.namespace("/tiny", history_events=20): 10 missed events recovered, 30 are not."""
    result = scenario("recovery_cases.mjs", app.url, "tiny")
    first, within, beyond = result["first"], result["within"], result["beyond"]
    assert within["recovered"] is True and within["id"] == first["id"]
    assert beyond["connected"] is True
    assert beyond["recovered"] is False
    assert beyond["id"] != first["id"]
    assert ns(result["ticks"]) == list(range(11))


def test_session_emit_does_not_break_recovery(app: HubProcess, scenario: Scenario) -> None:
    """After a session.emit with a string last argument the client still recovers.

    The official client takes the last string argument of ANY event as its offset; Socket.IO
    stores ``socket.emit`` (with an offset) when recovery is on, so that offset is valid."""
    result = scenario("recovery_cases.mjs", app.url, "direct")
    first, again = result["first"], result["again"]
    assert result["notes"][0][0] == "hello"
    assert result["lastOffset"] != "hello", "session.emit carried no offset"
    assert again["recovered"] is True and again["id"] == first["id"]
    assert ns(result["ticks"]) == [1, 2]


def test_client_without_offset(app: HubProcess, scenario: Scenario) -> None:
    """A client cut before any stored event (no offset to send) is either fully recovered
    (same sid, rooms, the missed event) or gets a fresh session: never a mix."""
    result = scenario("recovery_cases.mjs", app.url, "noevent")
    first, again = result["first"], result["again"]
    assert result["lastOffset"] is None
    assert again["connected"] is True
    if again["recovered"]:
        assert again["id"] == first["id"]
        assert "ne" in result["whoami"]["rooms"]
        assert ns(result["ticks"]) == [1]
    else:
        assert again["id"] != first["id"]
        assert "ne" not in result["whoami"]["rooms"]
        assert ns(result["ticks"]) == []
    print(f"client without offset: recovered={again['recovered']}")


def test_ping_timeout_is_recoverable(procs: Processes, scenario: Scenario) -> None:
    """Dropped by the server for unanswered pings: the reconnect is recovered, event replayed."""
    hub = procs.app("--ping-interval", "0.3", "--ping-timeout", "0.3")
    result = scenario("recovery_cases.mjs", hub.url, "pingtimeout")
    first, again = result["first"], result["again"]
    assert again["connected"] is True
    assert again["recovered"] is True
    assert again["id"] == first["id"]
    assert ns(result["ticks"]) == [1, 2]
    assert disconnect_reasons(result["log"], first["id"]) == ["ping timeout"]


def test_server_shutdown_is_recoverable(procs: Processes, scenario: Scenario) -> None:
    """hub.shutdown() and serve again mid-stream: the client recovers with every event."""
    hub = procs.app()
    result = scenario("recovery_cases.mjs", hub.url, "bounce")
    first, last = result["first"], result["last"]
    assert result["bounced"] == [True]
    assert result["received"] == list(range(result["count"])), result["lifecycle"]
    assert last == {"id": first["id"], "recovered": True}
    disconnects = [e for e in result["lifecycle"] if e["event"] == "disconnect"]
    assert len(disconnects) == 1, result["lifecycle"]
    assert disconnect_reasons(result["log"], first["id"]) == ["server shutting down"]
