"""Bad requests: each gets its 4xx with a JSON body, is counted, and the hub serves on."""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs
import orjson
import pytest

from hub.testing import open_test_client
from tests.http.conftest import KEY, OTHER_KEY, StartApi, api_client

PUBLISH = "/api/publish"
DEEP = b'{"event": "e", "data": ' + b"[" * 300 + b"]" * 300 + b"}"


@attrs.frozen
class Bad:
    """A request and the refusal it must get."""

    method: str
    path: str
    body: bytes | None
    status: int
    kind: str
    headers: dict[str, str] = attrs.field(factory=dict)


def body(value: Any) -> bytes:
    return orjson.dumps(value)


BAD_REQUESTS = [
    Bad("POST", PUBLISH, b'{"event": "e",', 400, "bad_json"),
    Bad("POST", PUBLISH, b"", 400, "bad_json"),
    Bad("POST", PUBLISH, b'"\\ud800"', 400, "bad_json"),  # a lone surrogate
    Bad("POST", PUBLISH, body(["e", 1]), 400, "bad_body"),
    Bad("POST", PUBLISH, body("e"), 400, "bad_body"),
    Bad("POST", PUBLISH, body({}), 400, "invalid_body"),
    Bad("POST", PUBLISH, body({"event": 5}), 400, "invalid_body"),
    Bad("POST", PUBLISH, body({"event": ""}), 400, "invalid_body"),
    Bad("POST", PUBLISH, body({"event": "e", "colour": "red"}), 400, "invalid_body"),
    Bad("POST", PUBLISH, body({"event": "e", "data": 1, "args": [1]}), 400, "invalid_body"),
    Bad("POST", PUBLISH, body({"event": "e", "args": "abc"}), 400, "invalid_body"),
    Bad("POST", PUBLISH, body({"event": "e", "room": "a", "rooms": ["b"]}), 400, "invalid_body"),
    Bad("POST", PUBLISH, body({"event": "e", "rooms": "a"}), 400, "invalid_body"),
    Bad("POST", PUBLISH, body({"event": "e", "rooms": []}), 400, "invalid_body"),
    Bad("POST", PUBLISH, body({"event": "e", "rooms": ["a", 7]}), 400, "invalid_body"),
    Bad("POST", PUBLISH, body({"event": "e", "room": ""}), 400, "invalid_body"),
    Bad("POST", PUBLISH, body({"event": "e", "except": "a"}), 400, "invalid_body"),
    Bad("POST", PUBLISH, body({"event": "e", "namespace": 1}), 400, "invalid_body"),
    Bad("POST", PUBLISH, body({"event": "disconnect"}), 400, "reserved_event"),
    Bad("POST", PUBLISH, body({"event": "e", "namespace": "/nope"}), 404, "unknown_namespace"),
    Bad("POST", PUBLISH, DEEP, 400, "unencodable"),
    Bad("POST", "/api/users/u/emit", body({"event": "e", "room": "r"}), 400, "invalid_body"),
    Bad("POST", "/api/users/u/emit", body({"event": "connect"}), 400, "reserved_event"),
    Bad(
        "POST",
        "/api/users/u/emit",
        body({"event": "e", "namespace": "/x"}),
        404,
        "unknown_namespace",
    ),
    Bad("POST", "/api/users//emit", body({"event": "e"}), 404, "not_found"),
    Bad("GET", "/nope", None, 404, "not_found"),
    Bad("POST", "/api/publish/", body({"event": "e"}), 404, "not_found"),
    Bad("GET", "/api", None, 404, "not_found"),
    Bad("GET", PUBLISH, None, 405, "method_not_allowed"),
    Bad("PUT", PUBLISH, body({"event": "e"}), 405, "method_not_allowed"),
    Bad("POST", "/api/stats", b"{}", 405, "method_not_allowed"),
    Bad("POST", "/health", b"{}", 405, "method_not_allowed"),
    Bad("DELETE", "/metrics", None, 405, "method_not_allowed"),
    Bad("POST", PUBLISH, body({"event": "e"}), 401, "unauthorized", {"authorization": ""}),
    Bad("POST", PUBLISH, body({"event": "e"}), 401, "unauthorized", {"authorization": "Bearer"}),
    Bad("GET", "/api/stats", None, 401, "unauthorized", {"authorization": f"Basic {KEY}"}),
    Bad("GET", "/api/stats", None, 401, "unauthorized", {"authorization": "Bearer wrong"}),
    Bad("GET", "/api/stats", None, 401, "unauthorized", {"authorization": f"Bearer {KEY}x"}),
]
ALLOW = {
    PUBLISH: "POST",
    "/api/stats": "GET, HEAD",
    "/health": "GET, HEAD",
    "/metrics": "GET, HEAD",
}


async def test_each_bad_request_gets_its_4xx_and_the_hub_serves_on(start_api: StartApi) -> None:
    """Every refusal: its status, {"error", "message"}, counted; never a 500; clients unharmed."""
    api = await start_api()
    async with open_test_client(api.port) as member:
        assert await member.call("join", "r") == [{"ok": True, "room": "r"}]
        for bad in BAD_REQUESTS:
            response = await api.http.request(
                bad.method, bad.path, content=bad.body, headers=bad.headers
            )
            assert response.status_code == bad.status, (bad, response.text)
            assert response.headers["content-type"] == "application/json"
            answer = response.json()
            assert answer["error"] == bad.kind and isinstance(answer["message"], str), bad
            if bad.status == 405:
                assert response.headers["allow"] == ALLOW[bad.path]
            if bad.status == 401:
                assert response.headers["www-authenticate"].startswith("Bearer realm=")
        # Refusals never touched the connection: the same keep-alive client publishes.
        assert (await api.publish(event="still", data="here", room="r"))["recipients"] == 1
        assert await member.next_event() == ("still", ["here"])
    expected = Counter(f"http_{bad.kind}" for bad in BAD_REQUESTS)
    errors = api.hub.stats().errors
    assert {kind: errors[kind] for kind in expected} == dict(expected)
    assert "internal" not in errors


async def test_every_configured_key_works(start_api: StartApi) -> None:
    api = await start_api()
    for key in (KEY, OTHER_KEY):
        async with api_client(api.port, key) as http:
            assert (await http.get("/api/stats")).status_code == 200


async def test_oversized_body_is_413_and_the_hub_serves_on(start_api: StartApi) -> None:
    """A body over max_payload gets 413 with a JSON body; the next request is served."""
    api = await start_api(max_payload=10_000)
    big = {"event": "e", "data": "x" * 20_000}
    response = await api.http.post(PUBLISH, json=big)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert (await api.publish(event="e", data="x" * 1000))["recipients"] == 0


@pytest.mark.parametrize("path", ["/api/publish", "/api/users/u/emit", "/api/stats"])
async def test_api_without_keys_is_off(start_api: StartApi, path: str) -> None:
    """No api_keys: 403 saying so, whatever the key sent; /health still answers."""
    api = await start_api(api_keys=())
    method = "GET" if path == "/api/stats" else "POST"
    response = await api.http.request(method, path, json={"event": "e"})
    assert response.status_code == 403
    answer = response.json()
    assert answer["error"] == "api_disabled" and "api_keys" in answer["message"]
    assert (await api.http.get("/health")).json() == {"status": "ok"}
    assert api.hub.stats().errors == {"http_api_disabled": 1}


async def test_head_gets_the_status_without_a_body(start_api: StartApi) -> None:
    """HEAD is served like GET, without a body (h11 would refuse one)."""
    api = await start_api()
    for path, status in (("/health", 200), ("/nope", 404), ("/api/stats", 200)):
        response = await api.http.head(path)
        assert (response.status_code, response.content) == (status, b"")
    assert (await api.http.get("/health")).status_code == 200


async def test_browser_pages_of_allowed_origins_may_call_the_api(start_api: StartApi) -> None:
    """With cors_origins set, the preflight allows Authorization, and answers (refusals
    too) carry the CORS headers a page needs to read them."""
    origin = "https://dash.example"
    api = await start_api(cors_origins=(origin,))
    preflight = await api.http.options(
        PUBLISH,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 204
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    for key, status in ((KEY, 200), ("wrong", 401)):
        response = await api.http.post(
            PUBLISH,
            json={"event": "e"},
            headers={"Origin": origin, "Authorization": f"Bearer {key}"},
        )
        assert response.status_code == status
        assert response.headers["access-control-allow-origin"] == origin
