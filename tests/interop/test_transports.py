"""The official ``socket.io-client`` 4.x (Node) on its default transports, and on polling only.

``test_node_client.py`` runs the Node scenarios with ``transports: ["websocket"]``. Here the
same scenarios, with the same assertions, run again with ``HUB_TRANSPORTS`` (read by
``js/lib.mjs``) set to

``default``
    no ``transports`` option: the client opens its Engine.IO connection with long-polling,
    then probes and upgrades it to WebSocket;
``polling``
    ``transports: ["polling"]``: the connection stays on long-polling.

Each scenario also reports what every Engine.IO connection it opened did (the transport
it opened with, its ``upgrading`` / ``upgrade`` / ``upgradeError`` events, the transport it
ended on), and ``check_engines`` asserts that: the transport really used is the one the
mode says, and with default transports the upgrade really happened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.interop import test_node_client as ws
from tests.interop.interop_harness import STOP_TIMEOUT, NodeScenario, SpawnHub

MODES = ("default", "polling")
AFTER = 20  # upgrade_stream.mjs: ticks a client must get after its upgrade (or at all)

Run = Callable[..., dict[str, Any]]
Case = Callable[[Run, SpawnHub], None]


@pytest.fixture(params=MODES)
def transports(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The client transports of this test's Node scenarios (``HUB_TRANSPORTS``)."""
    monkeypatch.setenv("HUB_TRANSPORTS", request.param)
    yield request.param


def check_engines(result: dict[str, Any], transports: str, *, stays_open: bool = True) -> None:
    """The Engine.IO connections of one scenario used the transports ``transports`` means.

    All open with long-polling. Held on polling, none probes or upgrades. With default
    transports each one still open at the end upgraded to WebSocket and now uses it (one
    closed early, as a refused client's, may have ended before its upgrade). With
    ``stays_open`` at least one connection must still be open at the end, so the upgrade
    assertions are never vacuous.
    """
    assert result["transports"] == transports
    engines = result["engines"]
    assert engines, "the scenario opened no Engine.IO connection"
    for engine in engines:
        assert engine["first"] == "polling", engine
        if transports == "polling":
            assert engine["upgrading"] == engine["upgrades"] == engine["upgradeErrors"] == []
            assert engine["now"] == "polling", engine
        elif engine["state"] == "open":
            assert engine["upgrades"] == ["websocket"], engine
            assert engine["upgradeErrors"] == [], engine
            assert engine["now"] == "websocket", engine
        else:
            assert engine["upgrades"] in ([], ["websocket"]), engine
            assert engine["now"] == (engine["upgrades"] or ["polling"])[0], engine
    if stays_open:
        assert any(engine["state"] == "open" for engine in engines), engines


def on_app(check: Callable[[NodeScenario, str], None], *extra: str) -> Case:
    """A ``test_node_client`` test that takes an app hub's URL (started with ``extra``)."""
    return lambda run, spawn: check(run, spawn("app", *extra).url)


def on_standalone(check: Callable[[NodeScenario, str], None]) -> Case:
    """A ``test_node_client`` test that takes a ``python -m hub`` URL."""
    return lambda run, spawn: check(run, spawn("standalone").url)


def spawning(check: Callable[[NodeScenario, SpawnHub], None]) -> Case:
    """A ``test_node_client`` test that starts its own hub."""
    return check


def disconnect(mode: str, server_reason: str, client_reason: str) -> Case:
    def case(run: Run, spawn: SpawnHub) -> None:
        url = spawn("app").url
        ws.test_disconnect_reaches_on_disconnect(run, url, mode, server_reason, client_reason)

    return case


# name -> (the test_node_client test to run again, does it end with a connection open?)
CASES: dict[str, tuple[Case, bool]] = {
    "connect_auth": (on_app(ws.test_connect_with_auth), True),
    "room_broadcast": (on_app(ws.test_room_broadcast), True),
    "acks_both_directions": (on_app(ws.test_ack_both_directions), True),
    "server_call_times_out": (on_app(ws.test_server_call_times_out), True),
    "binary_echo": (on_app(ws.test_binary_echo), True),
    "binary_big": (on_app(ws.test_binary_big), True),
    "binary_empty": (on_app(ws.test_binary_empty), True),
    "binary_roundtrip": (on_app(ws.test_binary_server_to_client_roundtrip), True),
    "refused_bad_token": (on_app(ws.test_refused_bad_token), False),
    "refused_unknown_namespace": (on_app(ws.test_refused_unknown_namespace), False),
    "namespaces_multiplexed": (on_app(ws.test_namespaces_multiplexed), True),
    "kicked_namespace_reconnects": (
        on_app(ws.test_kicked_namespace_reconnects_on_same_connection),
        True,
    ),
    "disconnect_namespace": (
        disconnect("namespace", "client namespace disconnect", "io client disconnect"),
        True,
    ),
    "disconnect_transport": (disconnect("transport", "transport close", "forced close"), True),
    "disconnect_kick": (
        disconnect("kick", "server namespace disconnect", "io server disconnect"),
        True,
    ),
    "unanswered_pings": (spawning(ws.test_unanswered_pings_drop_the_client), True),
    "heartbeat": (spawning(ws.test_heartbeat_keeps_connection), True),
    "standalone_publish": (on_standalone(ws.test_standalone_join_publish_leave), True),
    "standalone_binary": (on_standalone(ws.test_standalone_publish_binary), True),
}


@pytest.mark.parametrize("case", CASES)
def test_scenario_on_transports(
    case: str, transports: str, node_scenario: NodeScenario, spawn_hub: SpawnHub
) -> None:
    """The websocket test's assertions hold on these transports, and they were used."""
    check, stays_open = CASES[case]
    results: list[dict[str, Any]] = []

    def run(script: str, url: str, *args: str) -> dict[str, Any]:
        result = node_scenario(script, url, *args)
        results.append(result)
        return result

    check(run, spawn_hub)
    assert results, "the case ran no scenario"
    for result in results:
        check_engines(result, transports, stays_open=stays_open)


def test_traffic_across_the_upgrade(
    transports: str, node_scenario: NodeScenario, app_url: str
) -> None:
    """Broadcasts to a client and its acks go on while it connects (and upgrades): every
    tick arrives once and in order, every ack comes back, on the transport the mode says."""
    result = node_scenario("upgrade_stream.mjs", app_url)
    check_engines(result, transports)
    ticks = result["ticks"]
    assert ticks == list(range(ticks[0], result["sent"] + 1))  # none lost, doubled, reordered
    echoes = result["echoes"]
    assert echoes["wrong"] == []
    assert echoes["sent"] == echoes["right"] > 0
    assert result["connected"] is True
    if transports == "default":
        assert len(ticks) - result["upgradedAt"]["ticks"] >= AFTER
    else:
        assert result["upgradedAt"] is None
        assert len(ticks) >= AFTER


def test_standalone_shutdown_reaches_client(
    transports: str, node_scenario: NodeScenario, spawn_hub: SpawnHub
) -> None:
    """SIGTERM to python -m hub while a client is connected: the client learns it is
    disconnected (no hang), and the hub exits 0.

    Over WebSocket the client always gets the close: "transport close". Over long-polling it
    does when its GET is waiting at the hub (the GET is answered with a close packet); a
    client between two GETs finds the hub gone at its next one: "transport error".
    """
    hub = spawn_hub("standalone")
    result = node_scenario("shutdown.mjs", hub.url, str(hub.proc.pid))
    check_engines(result, transports, stays_open=False)
    if transports == "polling":
        assert result["transport"] == "polling"
        assert result["reason"] in ("transport close", "transport error")
    else:
        assert result["transport"] == "websocket"
        assert result["reason"] == "transport close"
    assert result["connectedAfter"] is False
    assert hub.proc.wait(STOP_TIMEOUT) == 0  # SIGTERM came from the scenario
    assert "Traceback" not in hub.stderr()
