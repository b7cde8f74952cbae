"""The official browser bundle in headless Chromium on its default transports and on polling.

A page of another origin (a static server on loopback serving ``index.html`` and
``socket.io-client/dist/socket.io.min.js``) connects two sockets to the app hub, so its
long-polling requests are cross-origin: the hub's ``cors_origins`` (``--cors-origin``) must
allow the page's origin, and ``cors_credentials`` (``--cors-credentials``) a client with
``withCredentials``. In the page (``js/browser_transports.mjs``) a client joins a room, gets
broadcasts (text and binary), acks go both ways (binary included, a 70,000-byte one too),
and the transports each Engine.IO connection used are recorded: with default transports it
opens with long-polling and upgrades to WebSocket, held on polling it stays there.

Chromium is started once for the module and stopped by its PID (its process group); the
static server and the hubs are stopped by PID too. Chromium, ``node`` or the npm packages
missing fail these tests (never skip them).
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest

from tests.interop.interop_harness import START_TIMEOUT, HubProcess, NodeScenario, SpawnHub
from tests.interop.test_transports import check_engines
from tests.recovery.harness import BROWSER_BUNDLE, Browser

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>hub transports</title>
<link rel="icon" href="data:,">
<script src="socket.io.min.js"></script>
"""
SERVING = re.compile(r"Serving HTTP on 127\.0\.0\.1 port (\d+) .*\s*")
OTHER_ORIGIN = "http://127.0.0.1:9"  # allowed instead of the page's: the page is refused
ALL_BYTES = bytes(range(256))


class PageServer(HubProcess):
    """``python -m http.server`` on 127.0.0.1, an ephemeral port: the page's origin."""

    def wait_ready(self, timeout: float = START_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"closed its stdout before it was ready ({self.proc.poll()=})")
            self.stdout_lines.append(line)
            if match := SERVING.fullmatch(line):
                self.port = int(match[1])
                self.url = f"http://127.0.0.1:{self.port}"
                return self.url
        raise TimeoutError(f"no ready line within {timeout:.0f}s")


@contextmanager
def serve_page(folder: Path, files: dict[str, str | Path]) -> Iterator[PageServer]:
    """A static server of ``files`` (name: text, or a file to copy) from ``folder/site``,
    ready, stopped by its PID on the way out."""
    site = folder / "site"
    site.mkdir()
    for name, content in files.items():
        if isinstance(content, Path):
            shutil.copyfile(content, site / name)
        else:
            (site / name).write_text(content)
    argv = [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"]
    argv += ["--directory", str(site)]
    server = PageServer("page-server", argv, folder / "page-server.stderr")
    try:
        try:
            server.wait_ready()
        except (TimeoutError, RuntimeError) as exc:
            pytest.fail(f"the page server did not start: {exc}\n{server.describe()}")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def page_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PageServer]:
    """The static server of the page (its origin is ``page_server.url``), stopped by PID."""
    if not BROWSER_BUNDLE.is_file():
        pytest.fail(f"{BROWSER_BUNDLE} is missing: run `npm ci --prefix tests/interop/js`")
    files: dict[str, str | Path] = {"socket.io.min.js": BROWSER_BUNDLE, "index.html": PAGE}
    with serve_page(tmp_path_factory.mktemp("page"), files) as server:
        yield server


def in_browser(
    node_scenario: NodeScenario,
    browser: Browser,
    page_server: PageServer,
    hub: HubProcess,
    transports: str,
    **options: Any,
) -> dict[str, Any]:
    """``js/browser_transports.mjs``: the page from ``page_server`` connects to ``hub``."""
    options = {
        "cdp": browser.endpoint(),
        "page": f"{page_server.url}/index.html",
        "transports": transports,
        **options,
    }
    result = node_scenario("browser_transports.mjs", hub.url, json.dumps(options))
    assert result["origin"] == page_server.url  # the page really is of another origin
    assert result["origin"] != hub.url
    return result


def check_page_scenario(result: dict[str, Any], transports: str) -> None:
    """Everything the page did worked, on the transports ``transports`` means."""
    assert result["pageErrors"] == []
    assert result["consoleErrors"] == []  # no CORS complaint, nothing failed to load
    assert result["outcomes"] == [{"connected": True, "id": ANY}, {"connected": True, "id": ANY}]
    assert result["joined"] == [True]
    assert result["count"] == [1]
    assert result["news"] == [[{"n": 1, "blob": b"\x00\x01\xfe\xff"}, "text"], [{"n": 2}]]
    assert result["bNews"] == []  # b is not in the room
    assert result["echoed"] == [ALL_BYTES, {"nested": b"\x07\x08\x09"}, "é ☃"]
    assert result["bigLength"] == 70_000
    assert result["bigEqual"] is True
    assert result["started"] == [True]
    assert result["questions"] == [{"blob": b"\x01\x02\x03\x04"}]
    assert result["answered"] == {"ok": True, "answer": [b"\x04\x03\x02\x01", {"by": "browser"}]}
    assert result["countAfter"] == [1]
    assert result["echoedAfter"] == [b"\x09\x08", "after"]
    if transports == "polling":
        assert result["transportAtConnect"] == "polling"
    check_engines(result, transports)
    assert len(result["engines"]) == 2


def check_refused(result: dict[str, Any], complaint: str) -> None:
    """Both sockets got connect_error "xhr poll error", and Chromium said why: CORS."""
    assert result["outcomes"] == [
        {"connected": False, "message": "xhr poll error"},
        {"connected": False, "message": "xhr poll error"},
    ]
    blocked = [text for text in result["consoleErrors"] if "blocked by CORS policy" in text]
    assert blocked, result["consoleErrors"]
    assert all(complaint in text for text in blocked), blocked
    assert [engine["state"] for engine in result["engines"]] == ["closed", "closed"]


@pytest.mark.parametrize("transports", ["default", "polling"])
def test_page_with_allowed_origin(
    transports: str,
    node_scenario: NodeScenario,
    browser: Browser,
    page_server: PageServer,
    spawn_hub: SpawnHub,
) -> None:
    """Its origin in cors_origins, the page connects, joins, gets broadcasts, acks both
    ways, binary; default transports upgrade to WebSocket, polling-only stays on polling."""
    hub = spawn_hub("app", "--cors-origin", OTHER_ORIGIN, "--cors-origin", page_server.url)
    result = in_browser(node_scenario, browser, page_server, hub, transports)
    check_page_scenario(result, transports)


def test_page_with_any_origin_allowed(
    node_scenario: NodeScenario, browser: Browser, page_server: PageServer, spawn_hub: SpawnHub
) -> None:
    """cors_origins "*" lets a page of any origin long-poll."""
    hub = spawn_hub("app", "--cors-origin", "*")
    result = in_browser(node_scenario, browser, page_server, hub, "polling")
    check_page_scenario(result, "polling")


def test_page_with_credentials(
    node_scenario: NodeScenario, browser: Browser, page_server: PageServer, spawn_hub: SpawnHub
) -> None:
    """withCredentials XHRs work when cors_credentials is on (Allow-Credentials: true)."""
    hub = spawn_hub("app", "--cors-origin", page_server.url, "--cors-credentials")
    client = {"withCredentials": True}
    result = in_browser(node_scenario, browser, page_server, hub, "polling", client=client)
    check_page_scenario(result, "polling")


def test_page_with_preflighted_requests(
    node_scenario: NodeScenario, browser: Browser, page_server: PageServer, spawn_hub: SpawnHub
) -> None:
    """A custom request header makes every polling XHR preflighted (OPTIONS): the hub's
    preflight answer must let Chromium go on (one Access-Control-Allow-Origin value)."""
    hub = spawn_hub("app", "--cors-origin", page_server.url)
    client = {"extraHeaders": {"x-hub-test": "preflight"}}
    result = in_browser(node_scenario, browser, page_server, hub, "polling", client=client)
    check_page_scenario(result, "polling")


@pytest.mark.parametrize(
    ("transports", "cors"),
    [("default", ()), ("polling", ("--cors-origin", OTHER_ORIGIN))],
    ids=["default-no-cors", "polling-other-origin"],
)
def test_page_with_origin_not_allowed(
    transports: str,
    cors: tuple[str, ...],
    node_scenario: NodeScenario,
    browser: Browser,
    page_server: PageServer,
    spawn_hub: SpawnHub,
) -> None:
    """Its origin not allowed, the page gets no CORS headers: Chromium blocks the polling
    handshake and the client gets connect_error (so the allowed cases above are real)."""
    hub = spawn_hub("app", *cors)
    result = in_browser(node_scenario, browser, page_server, hub, transports, expect="refusal")
    check_refused(result, "No 'Access-Control-Allow-Origin' header is present")


def test_page_with_credentials_not_allowed(
    node_scenario: NodeScenario, browser: Browser, page_server: PageServer, spawn_hub: SpawnHub
) -> None:
    """withCredentials without cors_credentials: Chromium blocks the credentialed XHR."""
    hub = spawn_hub("app", "--cors-origin", page_server.url)
    client = {"withCredentials": True}
    result = in_browser(
        node_scenario, browser, page_server, hub, "polling", client=client, expect="refusal"
    )
    check_refused(result, "Access-Control-Allow-Credentials")
