"""The hub's settings: typed, validated, with the reference server's defaults.

``make_config`` builds a ``HubConfig`` from keyword settings with cattrs: unknown keys,
wrong types and out-of-range values stop with a ``ConfigError`` naming the setting.
"""

from __future__ import annotations

from typing import Any

import attrs
import cattrs
from attrs.validators import ge, gt

from hub.errors import ConfigError

_positive = gt(0.0)
_positive_int = gt(0)
_not_negative = ge(0.0)
_not_negative_int = ge(0)


@attrs.frozen
class HubConfig:
    ping_interval: float = attrs.field(default=25.0, validator=_positive)
    ping_timeout: float = attrs.field(default=20.0, validator=_positive)
    max_payload: int = attrs.field(default=1_000_000, validator=_positive_int)
    # A client must connect a namespace this soon after the Engine.IO handshake.
    connect_timeout: float = attrs.field(default=45.0, validator=_positive)
    # Per-connection outbox bounds: past either, volatile events are dropped for that
    # connection and anything else disconnects it as a slow consumer.
    outbox_messages: int = attrs.field(default=4096, validator=_positive_int)
    outbox_bytes: int = attrs.field(default=8 * 1024 * 1024, validator=_positive_int)
    # How long the request head of a new connection may take to arrive.
    handshake_timeout: float = attrs.field(default=10.0, validator=_positive)
    path: str = attrs.field(default="/socket.io/")
    # Connection state recovery (Socket.IO's maxDisconnectionDuration), in seconds; 0 is
    # off. On, broadcasts carry their offset as a trailing argument (see the README).
    recovery: float = attrs.field(default=0.0, validator=_not_negative)
    # Broadcast history per namespace: bounded by count, bytes and age; 0 events is off.
    history_events: int = attrs.field(default=1000, validator=_not_negative_int)
    history_bytes: int = attrs.field(default=1024 * 1024, validator=_not_negative_int)
    history_age: float = attrs.field(default=120.0, validator=_positive)
    # How long an HTTP keep-alive connection may sit idle between requests.
    keepalive_timeout: float = attrs.field(default=60.0, validator=_positive)
    # Origins whose browser pages may use long-polling and the HTTP API ("*": any);
    # empty sends no CORS headers, so only same-origin pages can.
    cors_origins: tuple[str, ...] = ()
    cors_credentials: bool = False
    # Keys the HTTP API accepts as "Authorization: Bearer <key>"; none turns the API off.
    api_keys: tuple[str, ...] = ()
    # User emitters (``hub.user(id)``). Events pending per user (queued, or sent and not
    # acked yet): past it ``await emit`` waits and ``emit_nowait`` raises QueueFull.
    emitter_queue: int = attrs.field(default=10_000, validator=_positive_int)
    # How long events wait for a user who has no session at all before they expire.
    emitter_offline_ttl: float = attrs.field(default=300.0, validator=_positive)
    # An acked event is resent when its ack has not come this soon ...
    emitter_ack_timeout: float = attrs.field(default=10.0, validator=_positive)
    # ... after a backoff of base * 2**(attempt - 1), capped at max, with jitter ...
    emitter_backoff_base: float = attrs.field(default=0.5, validator=_positive)
    emitter_backoff_max: float = attrs.field(default=30.0, validator=_positive)
    # ... until it was sent this many times (an emit's max_attempts overrides it).
    emitter_max_attempts: int = attrs.field(default=5, validator=_positive_int)
    # Batchable events leave together once this many are queued or the first has waited
    # the window (milliseconds; 0 sends whatever is queued when a session has room).
    emitter_batch_window_ms: float = attrs.field(default=20.0, validator=_not_negative)
    emitter_batch_size: int = attrs.field(default=100, validator=_positive_int)
    # An emitter with nothing pending is forgotten after this many idle seconds.
    emitter_idle_reap: float = attrs.field(default=60.0, validator=_positive)

    # Authentication with JWT (see the README): an HS256 secret, and/or a PEM public key
    # file or a JWKS file for RS256/ES256. None of them set: no authentication.
    jwt_secret: str = ""
    jwt_public_key_file: str = ""
    jwt_jwks_file: str = ""
    # Accepted algorithms; empty: HS256 with a secret, RS256 and ES256 with keys.
    jwt_algorithms: tuple[str, ...] = ()
    jwt_issuer: str = ""
    jwt_audience: str = ""
    # Clock skew allowed on exp, nbf and iat, in seconds.
    jwt_leeway: float = attrs.field(default=30.0, validator=_not_negative)
    # Claims naming the user, the roles and the room patterns of a token.
    jwt_user_claim: str = "sub"
    jwt_roles_claim: str = "roles"
    jwt_rooms_claim: str = "rooms"
    # Who may connect a namespace: "/name=public", "/name=authenticated" or
    # "/name=role+role" (any of the roles). Unlisted namespaces: authenticated when JWT
    # auth is configured, else public.
    namespace_access: tuple[str, ...] = ()
    # Rooms every session may join beside its token's own patterns, with {claim}
    # placeholders ("user:{sub}", "project:{projects}"); '*' matches any run of characters.
    room_patterns: tuple[str, ...] = ()
    # Whether clients may publish to rooms (the standalone hub's "publish" event).
    client_publish: bool = False
    # Connection limits: Engine.IO connections in total and per remote IP, and
    # connections of one user (0: no limit).
    max_connections: int = attrs.field(default=10_000, validator=_not_negative_int)
    max_connections_per_ip: int = attrs.field(default=1_000, validator=_not_negative_int)
    max_connections_per_user: int = attrs.field(default=50, validator=_not_negative_int)
    # Namespaces one connection may join, and rooms one namespace session may be in.
    max_namespaces: int = attrs.field(default=16, validator=_positive_int)
    max_rooms: int = attrs.field(default=1_000, validator=_positive_int)
    # Events a connection may send: a token bucket of event_burst, refilled at
    # event_rate per second. Past it events are dropped with a "hub:error" event; a
    # connection that keeps going is disconnected.
    event_rate: float = attrs.field(default=200.0, validator=_positive)
    event_burst: int = attrs.field(default=1_000, validator=_positive_int)
    # Acks the hub may await from one session at once (user emitter events, calls).
    max_pending_acks: int = attrs.field(default=1_000, validator=_positive_int)
    # Browser origins allowed to open WebSocket and polling connections (empty: any).
    # Requests without an Origin header (non-browser clients) are always allowed.
    allowed_origins: tuple[str, ...] = ()
    # Nesting depth allowed in incoming event payloads.
    max_depth: int = attrs.field(default=32, validator=_positive_int)
    # Keys whose values are replaced by "[redacted]" in outgoing payloads and in logs
    # (matched on the key's last words: "db_password", "apiKey"); empty: none.
    redact_keys: tuple[str, ...] = (
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "api_keys",
        "authorization",
        "cookie",
        "private_key",
        "credentials",
    )

    @path.validator
    def _check_path(self, attribute: attrs.Attribute[str], value: str) -> None:
        if not value.startswith("/"):
            raise ValueError(f"'path' must start with '/': {value!r}")


def _number(value: Any, kind: type) -> Any:
    # Strict on purpose: cattrs alone would take True as 1 and truncate 2.5 to 2.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    if kind is int and not float(value).is_integer():
        raise ValueError(f"expected a whole number, got {value!r}")
    return kind(value)


def _string(value: Any, kind: type) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _boolean(value: Any, kind: type) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _strings(value: Any, kind: type) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return tuple(_string(item, str) for item in value)


def _describe(exc: BaseException, kind: type | None) -> str:
    if isinstance(exc, ValueError | TypeError) and str(exc):
        return str(exc)
    return cattrs.v.format_exception(exc, kind)


def strict_converter() -> cattrs.Converter:
    """A converter that refuses unknown keys, and numbers or strings of the wrong kind."""
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(int, _number)
    converter.register_structure_hook(float, _number)
    converter.register_structure_hook(str, _string)
    converter.register_structure_hook(bool, _boolean)
    converter.register_structure_hook_func(lambda kind: kind == tuple[str, ...], _strings)
    return converter


_converter = strict_converter()


# The settings a namespace may override for itself.
NAMESPACE_SETTINGS = frozenset(
    {"recovery", "history_events", "history_bytes", "history_age", "client_publish"}
)


def make_config(
    base: HubConfig | None = None, *, relations: bool = True, **settings: Any
) -> HubConfig:
    """``base`` (or the defaults) with ``settings`` applied, validated.

    ``relations=False`` checks each value alone, not how settings relate (the CLI checks
    one source's value at a time, before the others are known)."""
    values = attrs.asdict(base or HubConfig()) | settings
    try:
        config = _converter.structure(values, HubConfig)
    except cattrs.BaseValidationError as error:
        problems = "; ".join(cattrs.transform_error(error, format_exception=_describe))
        raise ConfigError(f"invalid hub settings: {problems}") from None
    if relations and config.emitter_backoff_max < config.emitter_backoff_base:
        raise ConfigError(
            "invalid hub settings: emitter_backoff_max must be at least emitter_backoff_base, "
            f"got {config.emitter_backoff_max!r} < {config.emitter_backoff_base!r}"
            " @ $.emitter_backoff_max"
        )
    return config
