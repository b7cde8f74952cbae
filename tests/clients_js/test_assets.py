"""``GET /client/hub-client.js``: the JavaScript client served by the hub itself."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from hub.server import assets
from tests.clients_js.harness import CLIENT_FILE
from tests.conftest import StartHub

URL = assets.CLIENT_PATH


def http(port: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10, trust_env=False)


async def test_get_head_and_revalidation(start_hub: StartHub) -> None:
    """200 with the repository's file as JavaScript, an ETag and no-cache; HEAD has the
    headers alone; If-None-Match with that tag (plain, weak, in a list, or *) gets 304."""
    _, port = await start_hub()
    async with http(port) as client:
        got = await client.get(URL)
        assert got.status_code == 200
        assert got.headers["content-type"] == "text/javascript; charset=utf-8"
        assert got.content == CLIENT_FILE.read_bytes()
        assert got.headers["cache-control"] == "no-cache"
        assert got.headers["x-content-type-options"] == "nosniff"
        etag = got.headers["etag"]
        assert etag.startswith('"') and etag.endswith('"') and len(etag) > 10

        head = await client.head(URL)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == str(len(got.content))
        assert head.headers["etag"] == etag

        for tag in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            again = await client.get(URL, headers={"If-None-Match": tag})
            assert again.status_code == 304, tag
            assert again.content == b""
            assert again.headers["etag"] == etag
        changed = await client.get(URL, headers={"If-None-Match": '"other"'})
        assert changed.status_code == 200
        assert changed.content == got.content
        # The connection stayed usable throughout (keep-alive).
        assert (await client.get("/health")).status_code == 200


async def test_other_methods_are_refused(start_hub: StartHub) -> None:
    hub, port = await start_hub()
    async with http(port) as client:
        refused = await client.post(URL, content=b"x")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD"
    assert refused.json()["error"] == "method_not_allowed"
    assert hub.stats().errors["http_method_not_allowed"] == 1


async def test_cross_origin_pages_may_load_it(start_hub: StartHub) -> None:
    """Any origin may load the module ("*"); an origin of cors_origins gets the listener's
    own CORS headers instead, never two Allow-Origin values."""
    _, port = await start_hub(cors_origins=("http://allowed.test",), cors_credentials=True)
    async with http(port) as client:
        other = await client.get(URL, headers={"Origin": "http://other.test"})
        allowed = await client.get(URL, headers={"Origin": "http://allowed.test"})
        same = await client.get(URL)
    assert other.headers.get_list("access-control-allow-origin") == ["*"]
    assert "access-control-allow-credentials" not in other.headers
    assert allowed.headers.get_list("access-control-allow-origin") == ["http://allowed.test"]
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in same.headers


async def test_missing_file_is_404(start_hub: StartHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assets, "CANDIDATES", (Path("/nonexistent/hub-client.js"),))
    _, port = await start_hub()
    async with http(port) as client:
        missing = await client.get(URL)
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


def test_an_edited_file_gets_a_new_etag(tmp_path: Path) -> None:
    """The file is read again when it changes (size or mtime), with a new ETag."""

    class Cache(assets._Cache):
        asset = None

    path = tmp_path / "hub-client.js"
    path.write_text("export const VERSION = 1;\n")
    first = assets.load(path, Cache)
    assert assets.load(path, Cache) is first
    path.write_text("export const VERSION = 22;\n")
    second = assets.load(path, Cache)
    assert second.body == b"export const VERSION = 22;\n"
    assert second.etag != first.etag


def test_the_file_is_found_from_the_package() -> None:
    """In a checkout or an editable install: the repository's clients/js file, through the
    package-data link that wheels copy."""
    assert assets.client_file().resolve() == CLIENT_FILE.resolve()
    assert assets.client_file().read_bytes() == CLIENT_FILE.read_bytes()
