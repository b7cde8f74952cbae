"""The HTTP API (``/api/...``) and the operations endpoints (``/health``, ``/ready``, ``/metrics``).

Every request that is neither Engine.IO nor a CORS preflight comes here. Answers are
JSON (``/metrics`` aside). A refused request gets a 4xx whose body is
``{"error": kind, "message": text}``, is counted in ``hub.counters.errors["http_" + kind]``
and logged in one line; nothing a client sends turns into a 500.

API keys (``api_keys``) carry scopes: an entry ``KEY`` has every scope, an entry
``publish+stats:KEY`` only those named (``publish``, ``stats``, ``admin``; ``admin``
allows everything). An entry whose part before its first ``:`` is not made of scope
names is a key as a whole.
"""

from __future__ import annotations

import hmac
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

import attrs
import orjson
import trio

from hub.errors import QueueFull
from hub.protocol.outgoing import Outgoing
from hub.server import metrics
from hub.server.api_models import (
    ABSENT,
    DisconnectBody,
    EventBody,
    Invalid,
    PublishBody,
    ReservedEvent,
    UserEmitBody,
    parse,
)
from hub.server.http import PerConfig, Request, Response, error_response, json_response

if TYPE_CHECKING:
    from hub.core.namespace import Namespace
    from hub.server.listener import Server

log = logging.getLogger("hub")

# A route's handler: the server, the request and the path's captured segments. Most
# answer at once; one that must wait (on the core's async calls) returns an awaitable.
Handler = Callable[["Server", Request, list[str]], Response | Awaitable[Response]]
B = TypeVar("B", bound=EventBody | DisconnectBody)

PUBLISH, STATS, ADMIN = "publish", "stats", "admin"
SCOPES = frozenset({PUBLISH, STATS, ADMIN})
# How long the disconnect handlers of one session may take in an admin disconnect.
DISCONNECT_TIMEOUT = 5.0


@attrs.frozen
class ApiKey:
    secret: bytes
    scopes: frozenset[str]


def parse_api_keys(entries: Iterable[str]) -> tuple[ApiKey, ...]:
    """The keys of ``api_keys`` entries with their scopes (see the module's docstring)."""
    keys = []
    for entry in entries:
        prefix, colon, rest = entry.partition(":")
        named = prefix.split("+")
        if colon and all(name in SCOPES for name in named):
            secret, scopes = rest, frozenset(named)
        else:
            secret, scopes = entry, SCOPES
        if not secret:
            log.warning("an api_keys entry names scopes (%s) but no key: ignored", prefix)
            continue
        keys.append(ApiKey(secret.encode(), scopes))
    return tuple(keys)


_api_keys = PerConfig(lambda config: parse_api_keys(config.api_keys))


class Refusal(Exception):
    """A request the API will not serve: the 4xx to answer with."""

    def __init__(
        self, status: int, kind: str, message: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.headers = status, kind, message, headers


@attrs.frozen
class Route:
    # The path's segments; "*" matches any one non-empty segment and captures it.
    pattern: tuple[str, ...]
    methods: dict[str, Handler]
    # Needs "Authorization: Bearer <key>" with one of the configured api_keys that has
    # this scope (or "admin"); None: open to anyone.
    scope: str | None = ADMIN

    def match(self, segments: list[str]) -> list[str] | None:
        if len(segments) != len(self.pattern):
            return None
        captured = []
        for want, got in zip(self.pattern, segments, strict=True):
            if want == "*" and got:
                captured.append(unquote(got))
            elif want != got:
                return None
        return captured

    @property
    def allowed(self) -> str:
        methods = list(self.methods)
        if "GET" in methods:
            methods.append("HEAD")
        return ", ".join(methods)


async def handle(server: Server, request: Request) -> Response:
    try:
        answer = _serve(server, request)
        response = await answer if inspect.isawaitable(answer) else answer
    except Refusal as refusal:
        response = _refuse(server, request, refusal)
    except Exception:
        # A bug of ours: answered (not a dropped connection), counted and logged in full.
        server.hub.counters.errors["internal"] += 1
        log.exception("remote=%s %s %s failed", request.remote, request.method, request.path)
        response = error_response(500, "internal", "internal error; see the hub's log")
    return response


def _serve(server: Server, request: Request) -> Response | Awaitable[Response]:
    segments = request.path.split("/")[1:]
    for route in ROUTES:
        captured = route.match(segments)
        if captured is not None:
            break
    else:
        raise Refusal(404, "not_found", f"no route for {request.method} {request.path}")
    method = "GET" if request.method == "HEAD" else request.method
    handler = route.methods.get(method)
    if handler is None:
        raise Refusal(
            405,
            "method_not_allowed",
            f"{request.path} takes {route.allowed}, not {request.method}",
            (("Allow", route.allowed),),
        )
    if route.scope is not None:
        _authorize(server, request, route.scope)
    return handler(server, request, captured)


def _refuse(server: Server, request: Request, refusal: Refusal) -> Response:
    server.hub.counters.errors[f"http_{refusal.kind}"] += 1
    log.info(
        "remote=%s %s %s refused %d %s: %s",
        request.remote,
        request.method,
        request.path[:200],
        refusal.status,
        refusal.kind,
        refusal.message,
    )
    response = error_response(refusal.status, refusal.kind, refusal.message)
    return response.with_headers(list(refusal.headers))


def _authorize(server: Server, request: Request, scope: str) -> None:
    config = server.hub.config
    if not config.api_keys:
        raise Refusal(
            403, "api_disabled", "the HTTP API is off until api_keys is set in the hub's settings"
        )
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Refusal(
            401,
            "unauthorized",
            "an API key is required: Authorization: Bearer <key>",
            (("WWW-Authenticate", 'Bearer realm="hub"'),),
        )
    # Headers were decoded as latin-1: encoding back gives the bytes the client sent.
    presented = token.encode("latin-1")
    # Every key is compared, whichever matches: the time taken tells nothing.
    scopes: set[str] = set()
    valid = False
    for key in _api_keys(config):
        if hmac.compare_digest(presented, key.secret):
            valid = True
            scopes |= key.scopes
    if not valid:
        raise Refusal(
            401,
            "unauthorized",
            "the API key is not valid",
            (("WWW-Authenticate", 'Bearer realm="hub", error="invalid_token"'),),
        )
    if scope not in scopes and ADMIN not in scopes:
        raise Refusal(403, "forbidden", f"this key lacks the {scope} scope")


def _body(request: Request, kind: type[B]) -> B:
    try:
        decoded = orjson.loads(request.body)
    except orjson.JSONDecodeError as error:
        raise Refusal(400, "bad_json", f"the body is not JSON: {error}") from None
    if not isinstance(decoded, dict):
        raise Refusal(400, "bad_body", f"the body must be a JSON object, not {_json_kind(decoded)}")
    try:
        return parse(decoded, kind)
    except ReservedEvent as error:
        raise Refusal(400, "reserved_event", str(error)) from None
    except Invalid as error:
        raise Refusal(400, "invalid_body", str(error)) from None


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a boolean" if isinstance(value, bool) else "a number"


def _namespace(server: Server, name: str) -> Namespace:
    found = server.hub.namespaces.get(name)
    if found is None:
        known = ", ".join(sorted(server.hub.namespaces))
        raise Refusal(404, "unknown_namespace", f"no namespace {name!r}; the hub has: {known}")
    return found


def _encode(namespace: Namespace, body: EventBody) -> tuple[tuple[Any, ...], Outgoing]:
    """The event's arguments and its packet, encoded once (JSON nests only so deep)."""
    args = body.arguments()
    try:
        return args, namespace.encode(body.event, args)
    except (TypeError, ValueError) as error:
        raise Refusal(400, "unencodable", f"the event cannot be encoded: {error}") from None


# Routes


def publish(server: Server, request: Request, captured: list[str]) -> Response:
    body = _body(request, PublishBody)
    namespace = _namespace(server, body.namespace)
    args, packet = _encode(namespace, body)
    published = namespace.publish(body.event, args, body.target(), body.except_, False, packet)
    return json_response(200, {"recipients": published.recipients, "offset": published.offset})


def user_emit(server: Server, request: Request, captured: list[str]) -> Response:
    """Through the user's emitter; answered at once with the event's id and state, and
    how many of the user's sessions are live now (0: it waits for the next connect)."""
    (user_id,) = captured
    body = _body(request, UserEmitBody)
    hub = server.hub
    if body.namespace is not None:
        _namespace(server, body.namespace)
    try:
        handle = hub.user(user_id).emit_nowait(
            body.event,
            None if body.data is ABSENT else body.data,
            priority=body.priority,
            ack=bool(body.ack),
            batch=bool(body.batch),
            coalesce_key=body.coalesce_key,
            namespace=body.namespace,
            ttl=body.ttl,
        )
    except QueueFull as error:
        raise Refusal(429, "queue_full", str(error), (("Retry-After", "1"),)) from None
    except (TypeError, ValueError) as error:
        raise Refusal(400, "unencodable", f"the event cannot be encoded: {error}") from None
    live = [
        session
        for session in hub.users.members(user_id)
        if body.namespace is None or session.namespace.name == body.namespace
    ]
    return json_response(200, {"id": handle.id, "state": handle.state, "sessions": len(live)})


async def user_disconnect(server: Server, request: Request, captured: list[str]) -> Response:
    """Disconnect every live session of the user (of ``namespace`` only, when given):
    each client gets a Socket.IO DISCONNECT, as from ``session.disconnect()``."""
    (user_id,) = captured
    body = _body(request, DisconnectBody) if request.body.strip() else DisconnectBody()
    if body.namespace is not None:
        _namespace(server, body.namespace)
    sessions = [
        session
        for session in server.hub.users.members(user_id)
        if body.namespace is None or session.namespace.name == body.namespace
    ]
    count = 0
    for session in sessions:
        if session.connected:
            count += 1
            with trio.move_on_after(DISCONNECT_TIMEOUT):
                await session.disconnect()
    log.info("remote=%s disconnected %d sessions of user %r", request.remote, count, user_id[:200])
    return json_response(200, {"disconnected": count})


def stats(server: Server, request: Request, captured: list[str]) -> Response:
    hub = server.hub
    counters = hub.counters
    queued, backed_up = metrics.outbox_depth(server)
    started = hub.started_at
    report = attrs.asdict(hub.stats())
    report |= {
        "handshakes": counters.handshakes,
        "published": counters.published,
        "users": len(hub.users.sizes()),
        "outbox": {"bytes": queued, "connections": backed_up},
        "uptime": round(time.time() - started, 3) if started is not None else 0.0,
    }
    return json_response(200, report)


def health(server: Server, request: Request, captured: list[str]) -> Response:
    return json_response(200, {"status": "ok"})


def ready(server: Server, request: Request, captured: list[str]) -> Response:
    if server.closing:
        return json_response(503, {"status": "shutting down"})
    return json_response(200, {"status": "ready"})


def prometheus(server: Server, request: Request, captured: list[str]) -> Response:
    return metrics.render(server, request)


ROUTES = (
    Route(("health",), {"GET": health}, scope=None),
    Route(("ready",), {"GET": ready}, scope=None),
    Route(("metrics",), {"GET": prometheus}, scope=None),
    Route(("api", "publish"), {"POST": publish}, scope=PUBLISH),
    Route(("api", "users", "*", "emit"), {"POST": user_emit}, scope=PUBLISH),
    Route(("api", "users", "*", "disconnect"), {"POST": user_disconnect}, scope=ADMIN),
    Route(("api", "stats"), {"GET": stats}, scope=STATS),
)
