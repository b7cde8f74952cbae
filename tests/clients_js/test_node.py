"""The JavaScript client in Node against real ``python -m hub`` processes.

Node 20 has no global WebSocket: there the client long-polls over ``fetch`` ("polling"),
or uses the ``ws`` package given as its ``WebSocket`` option, alone ("websocket") or as
the upgrade from long-polling ("upgrade"). Each scenario checks the transport it really
used. Hubs, proxies and Node processes are stopped by PID.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import ANY

import pytest

from tests.clients_js.conftest import Scenario, StartDriver
from tests.clients_js.harness import API_KEY
from tests.interop.interop_harness import HubProcess, hub_argv
from tests.recovery.harness import Processes

MODES = ["polling", "websocket", "upgrade"]
# Resends come fast: an unacked user event goes again 0.3 s (+ a 0.05 s backoff) later.
FAST_RESENDS = ("--emitter-ack-timeout", "0.3", "--emitter-backoff-base", "0.05")


@pytest.fixture(scope="module")
def basics_hub(module_procs: Processes) -> HubProcess:
    return module_procs.standalone("--api-keys", API_KEY, *FAST_RESENDS)


@pytest.fixture(scope="module")
def app_hub(module_procs: Processes) -> HubProcess:
    """The interop tests' hub application (``tests/interop/app.py``)."""
    name = "interop-app"
    return module_procs._start(HubProcess(name, hub_argv("app"), module_procs._stderr(name)))


def check_transport(result: dict[str, Any], mode: str) -> None:
    connected_on = result["seen"]["connects"][0]["transport"]
    if mode == "polling":
        assert (connected_on, result["transport"], result["seen"]["upgrades"]) == (
            "polling",
            "polling",
            [],
        )
    elif mode == "websocket":
        assert (connected_on, result["transport"]) == ("websocket", "websocket")
    else:
        assert connected_on == "polling"
        assert result["seen"]["upgrades"] == ["websocket"]
        assert result["transport"] == "websocket"


@pytest.mark.parametrize("mode", MODES)
def test_rooms_user_events_and_handler_errors(
    mode: str, basics_hub: HubProcess, run_scenario: Scenario
) -> None:
    """Join, a broadcast, replay; user events acked, batches unpacked, a resent event
    delivered once; a throwing handler reported while the connection goes on."""
    user = f"user-{mode}"
    result = run_scenario(
        "node_basics.mjs", basics_hub.url, {"mode": mode, "key": API_KEY, "user": user}
    )
    check_transport(result, mode)
    assert result["connected"] == {"id": ANY, "recovered": False}
    assert result["joined"] == {"ok": True, "room": f"room-{mode}"}
    assert result["published"]["recipients"] == 1
    assert result["news"] == [[{"n": 1}]]  # recovery is off: no offset argument
    assert [e["event"] for e in result["replayed"]["events"]] == ["news"]
    assert result["replayed"]["complete"] is True
    assert len(result["limited"]["events"]) == 1

    assert result["jobs"] == [[{"j": 1}, {"id": result["job"]["id"]}]]
    assert result["logs"] == ["a", "boom", "c"]  # one batch or several: in order, each once
    assert result["seen"]["errors"] == [{"message": "a handler failed", "event": "log"}]
    # The slow handler ran once although the hub sent its event again meanwhile.
    assert result["slowCalls"] == 1
    assert result["stats"]["duplicates"] >= 1
    assert result["figures"]["retried"] >= 1
    assert result["figures"]["acked"] == 2
    assert result["figures"]["expired"] == {}
    assert result["stats"]["handlerErrors"] == 1
    assert result["seen"]["disconnects"] == ["io client disconnect"]


ALL_BYTES = bytes(range(256)).hex()


@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_namespaces_auth_binary_and_server_calls(
    mode: str, app_hub: HubProcess, run_scenario: Scenario
) -> None:
    """Two namespaces on one connection (auth on one), a refused namespace, binary both
    ways, the server's call answered by an ack callback, a kick of one namespace."""
    result = run_scenario("node_app.mjs", app_hub.url, {"mode": mode})
    assert result["transport"] == mode
    assert result["sameConnection"] is True
    assert result["refusal"] == {"message": "bad token", "data": {"reason": "invalid_token"}}
    assert result["refusedActive"] is False
    assert result["pong"] == ["pong", 1, "two"]
    assert result["whoami"] == {"token": "[redacted]"}  # a sensitive key, redacted on the way out
    assert result["info"] == {"sid": ANY, "namespace": "/test", "rooms": []}
    assert result["echoed"] == [ALL_BYTES, "070809", "é ☃"]
    assert result["echoedTypes"] == [True, True]
    assert result["bigEqual"] is True
    assert result["questions"] == ["01020304"]
    assert result["answer"] == {"ok": True, "answer": ["04030201", {"by": "node"}]}
    assert result["disconnects"] == ["io server disconnect"]
    assert result["testActive"] is False
    assert result["stillThere"] == ["pong", "after"]
    assert result["rootConnected"] is True


@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_reconnect_after_hub_restart_with_offline_queue(
    mode: str, procs: Processes, driver: StartDriver
) -> None:
    """The hub stops and another starts on its port: the client backs off and retries,
    comes back (not recovered), joins its room again and flushes its queue in order."""
    first = procs.standalone("--api-keys", API_KEY, "--shutdown-grace", "2")
    node = driver("node_restart.mjs", first.url, {"mode": mode, "key": API_KEY})
    node.expect_step("restart")
    assert first.stop() == 0
    second = procs.standalone("--api-keys", API_KEY, "--port", str(first.port))
    assert second.url == first.url
    result = node.result()

    assert result["queued"] == 3
    assert result["acks"] == [
        {"ok": True, "room": "q1"},
        {"ok": True, "room": "q2"},
        {"ok": True, "room": "q1"},
    ]
    assert result["back"] == {"id": ANY, "recovered": False}
    assert result["sameId"] is False
    assert result["seen"]["rejoins"] == [{"room": "stay", "ok": True}]
    assert result["news"] == [1, 2, 4]  # "stay" rejoined, "q2" joined, "q1" left again
    assert result["rooms"] == ["q2", "stay"]
    assert result["reconnects"] == 1
    assert result["seen"]["disconnects"][0] == "transport close"
    # Each retry was announced with its delay: 200 ms doubling, capped at 800, jitter <= 50%.
    attempts = result["seen"]["reconnecting"]
    assert attempts, "no reconnecting event"
    for number, attempt in enumerate(attempts, start=1):
        base = min(800, 200 * 2 ** (number - 1))
        assert attempt["attempt"] == number
        assert base / 2 <= attempt["delay"] <= base
    assert result["transport"] == ("polling" if mode == "polling" else "websocket")
    assert result["seen"]["errors"] == []


@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_connection_state_recovery_through_a_cut(
    mode: str, procs: Processes, run_scenario: Scenario
) -> None:
    """Cut mid-stream by the proxy, the client resumes its session: same sid and pid,
    ``recovered``, the missed broadcasts (with their offsets) before "connect"."""
    hub = procs.standalone(
        "--api-keys", API_KEY, "--recovery", "60", "--ping-interval", "0.5", "--ping-timeout", "0.5"
    )
    proxy = procs.proxy(hub)
    options = {
        "mode": mode,
        "key": API_KEY,
        "hub": hub.url,
        "control": proxy.control_port,
        "user": f"rec-{mode}",
    }
    result = run_scenario("node_recovery.mjs", proxy.url, options)
    assert result["cut"]["cut"] >= 1
    assert result["first"]["recovered"] is False
    assert isinstance(result["first"]["pid"], str)
    assert result["back"] == {"id": result["first"]["id"], "recovered": True}
    assert result["pid"] == result["first"]["pid"]
    offsets = [p["offset"] for p in result["published"]]
    assert result["news"] == [[1, result["offsetBefore"]]] + [
        [n, offset] for n, offset in zip([2, 3, 4], offsets, strict=True)
    ]
    assert result["offsetAfter"] == offsets[-1]
    assert result["order"] == [
        "connect false",
        "news 1",
        "news 2",  # the missed events come first,
        "news 3",
        "news 4",
        "connect true",  # then the CONNECT reply,
        "job",  # then what the user's emitter held
    ]
    assert result["jobs"] == [[{"j": 1}, {"id": result["job"]["id"]}]]
    assert result["seen"]["disconnects"][0] in ("transport close", "transport error")
