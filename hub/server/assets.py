"""The hub's JavaScript client, served at a stable URL: ``GET /client/hub-client.js``.

Pages load it from the hub they talk to (``import { connect } from
"http://hub:8765/client/hub-client.js"``), so the client always matches its hub. The reply
carries an ETag and ``Cache-Control: no-cache``: browsers keep the file and revalidate it
with ``If-None-Match``, getting a 304 until the hub's copy changes.

Where the file comes from. The canonical file is ``clients/js/hub-client.js`` in the
repository, beside ``hub/``: Node programs and the client's own tests use that very file,
so there is no second copy to drift. It is found from this module's own location (not
the working directory): in a checkout and in an editable install the ``hub`` package *is*
the checkout's folder, so ``<package>/../clients/js`` is the file. A wheel does not carry
``clients/``: it ships the file as package data, through the link
``hub/server/static/hub-client.js`` (looked at first) to that file. When neither exists the
route answers 404 and says so. The file is read again only when its size or mtime
changes, so an edited client is served (with a new ETag) without a restart.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from hub.server.http import Request, Response, cors_headers, error_response

if TYPE_CHECKING:
    from hub.server.listener import Server

log = logging.getLogger("hub")

CLIENT_PATH = "/client/hub-client.js"
CONTENT_TYPE = "text/javascript; charset=utf-8"
_HERE = Path(__file__).resolve().parent
CANDIDATES = (
    _HERE / "static" / "hub-client.js",  # shipped as package data
    _HERE.parents[1] / "clients" / "js" / "hub-client.js",  # a checkout / editable install
)


@attrs.frozen
class Asset:
    body: bytes
    etag: str
    # (size, mtime_ns) of the file it was read from.
    stamp: tuple[int, int]


class _Cache:
    asset: Asset | None = None


def client_file() -> Path | None:
    """The JavaScript client's file, or None when this installation has none."""
    for path in CANDIDATES:
        if path.is_file():
            return path
    return None


def load(path: Path, cache: type[_Cache] = _Cache) -> Asset:
    """The file's bytes and ETag, read again only when its size or mtime changed."""
    info = path.stat()
    stamp = (info.st_size, info.st_mtime_ns)
    cached = cache.asset
    if cached is not None and cached.stamp == stamp:
        return cached
    body = path.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    cache.asset = Asset(body, etag, stamp)
    return cache.asset


def etag_matches(header: str, etag: str) -> bool:
    """Whether ``If-None-Match`` (a list of tags, weak ones too, or ``*``) names ``etag``."""
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


def handle(server: Server, request: Request) -> Response:
    """``GET``/``HEAD`` of the client: 200 with the file, or 304 when the ETag matches."""
    if request.method not in ("GET", "HEAD"):
        return _refuse(
            server,
            request,
            405,
            "method_not_allowed",
            f"{request.path} takes GET, HEAD, not {request.method}",
            [("Allow", "GET, HEAD")],
        )
    path = client_file()
    if path is None:
        return _refuse(
            server, request, 404, "not_found", "the JavaScript client is not installed here"
        )
    try:
        asset = load(path)
    except OSError as error:  # removed or unreadable between the check and the read
        log.warning("cannot read the JavaScript client %s: %s", path, error)
        return _refuse(server, request, 404, "not_found", "the JavaScript client is not readable")
    headers = [
        ("ETag", asset.etag),
        ("Cache-Control", "no-cache"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    # The file is public code: pages of any origin may load it as a module. Origins of
    # cors_origins get the listener's own CORS headers (the origin echoed, credentials);
    # the others get "*" here (never both: two Allow-Origin values are refused).
    if "origin" in request.headers and not cors_headers(server.hub.config, request):
        headers += [("Access-Control-Allow-Origin", "*"), ("Vary", "Origin")]
    if etag_matches(request.headers.get("if-none-match", ""), asset.etag):
        return Response(304, b"", CONTENT_TYPE, tuple(headers))
    return Response(200, asset.body, CONTENT_TYPE, tuple(headers))


def _refuse(
    server: Server,
    request: Request,
    status: int,
    kind: str,
    message: str,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    """A 4xx counted and logged as the HTTP API's refusals are."""
    server.hub.counters.errors[f"http_{kind}"] += 1
    log.info(
        "remote=%s %s %s refused %d %s: %s",
        request.remote,
        request.method,
        request.path,
        status,
        kind,
        message,
    )
    return error_response(status, kind, message).with_headers(headers or [])
