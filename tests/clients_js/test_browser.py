"""The JavaScript client in headless Chromium, loaded from the hub's own URL.

A page of another origin (a static server on loopback) imports
``HUB/client/hub-client.js`` as a module, so the module, the long-polling requests and the
HTTP API calls are all cross-origin: the hubs allow the page's origin (``cors_origins``).
The page connects with the client's default transports (long-polling, then the upgrade
to WebSocket). Chromium is the session's (``browser`` fixture), stopped by its PID, as
are the hubs, the proxy and the page server.
"""

from __future__ import annotations

from collections.abc import Iterator
from unittest.mock import ANY

import pytest

from tests.clients_js.conftest import Scenario, StartDriver
from tests.clients_js.harness import API_KEY
from tests.interop.test_browser_transports import PageServer, serve_page
from tests.recovery.harness import Browser, Processes

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>hub-client</title>
<link rel="icon" href="data:,">
"""


@pytest.fixture(scope="module")
def page_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PageServer]:
    """A blank page on a static server of its own origin, stopped by PID."""
    with serve_page(tmp_path_factory.mktemp("page"), {"index.html": PAGE}) as server:
        yield server


def no_page_trouble(result: dict[str, object]) -> None:
    """Nothing threw in the page, no promise rejection went unhandled, no CORS refusal."""
    assert result["pageErrors"] == []
    console = result["consoleErrors"]
    assert isinstance(console, list)
    assert not [text for text in console if "CORS" in text or "Uncaught" in text], console


def test_page_loads_the_client_from_the_hub_and_survives_a_restart(
    procs: Processes, driver: StartDriver, browser: Browser, page_server: PageServer
) -> None:
    """Imported cross-origin from /client/hub-client.js, the client connects, upgrades,
    joins and receives; the hub restarts; meanwhile emits wait in the offline queue; the
    client comes back, rejoins, flushes the queue in order and upgrades again."""
    flags = ("--api-keys", API_KEY, "--cors-origins", page_server.url)
    first = procs.standalone(*flags, "--shutdown-grace", "2")
    options = {"cdp": browser.endpoint(), "page": f"{page_server.url}/index.html", "key": API_KEY}
    node = driver("browser_restart.mjs", first.url, options)
    node.expect_step("restart")
    assert first.stop() == 0
    procs.standalone(*flags, "--port", str(first.port))
    result = node.result()

    no_page_trouble(result)
    loaded = result["loaded"]
    assert loaded["origin"] == page_server.url != first.url  # a page of another origin
    assert loaded["version"] == "1.0.0"
    assert {"connect", "HubClient", "backoffDelay"} <= set(loaded["exports"])
    assert loaded["joined"] == {"ok": True, "room": "stay"}
    assert result["beforeRestart"]["transport"] == "websocket"
    assert result["connects"] == [
        {"id": result["beforeRestart"]["id"], "recovered": False, "transport": "polling"},
        {"id": ANY, "recovered": False, "transport": "polling"},
    ]
    assert result["disconnects"] == ["transport close"]
    assert result["reconnecting"], "no reconnecting event"
    assert all(100 <= r["delay"] <= 800 for r in result["reconnecting"])
    assert result["queued"] == 3
    assert result["queuedAfter"] == 0
    assert result["acks"] == [
        {"ok": True, "room": "q1"},
        {"ok": True, "room": "q2"},
        {"ok": True, "room": "q1"},
    ]
    assert result["rejoins"] == [{"room": "stay", "ok": True}]
    assert result["news"] == [1, 2, 4]
    assert result["reconnects"] == 1
    assert result["transport"] == "websocket"


def test_page_recovers_its_session_after_a_cut(
    procs: Processes, run_scenario: Scenario, browser: Browser, page_server: PageServer
) -> None:
    """Through a proxy that cuts it, the page's client resumes its session (same sid,
    ``recovered``) and gets the missed broadcasts and the user's held event; user event
    batches are unpacked in order."""
    hub = procs.standalone(
        "--api-keys", API_KEY, "--cors-origins", page_server.url, "--recovery", "60"
    )
    proxy = procs.proxy(hub)
    options = {
        "cdp": browser.endpoint(),
        "page": f"{page_server.url}/index.html",
        "key": API_KEY,
        "hub": hub.url,
        "control": proxy.control_port,
        "user": "browser-user",
    }
    result = run_scenario("browser_recovery.mjs", proxy.url, options)
    no_page_trouble(result)
    assert result["errors"] == []
    assert result["cut"]["cut"] >= 1
    assert result["first"]["recovered"] is False
    assert (result["id"], result["pid"]) == (result["first"]["id"], result["first"]["pid"])
    assert result["recovered"] is True
    assert [line for line, _ in result["logs"]] == ["one", "two", "three"]
    assert len({event_id for _, event_id in result["logs"]}) == 3
    offsets = [p["offset"] for p in result["published"]]
    assert result["news"] == [
        [1, result["offsetBefore"]],
        [2, offsets[0]],
        [3, offsets[1]],
        [4, offsets[2]],
    ]
    assert result["offset"] == offsets[2]
    assert result["order"] == [
        "connect false",
        "news 1",
        "news 2",
        "news 3",
        "news 4",
        "connect true",
        "job",
    ]
    assert result["jobs"] == [[{"j": 1}, {"id": result["job"]["id"]}]]
