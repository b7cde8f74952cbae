"""The client's settings, checked once when the client is made, and the server's address."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypedDict
from urllib.parse import urlsplit

import attrs

TRANSPORTS = ("websocket", "polling")

# ``auth``: a dict sent with each namespace CONNECT, or a callable returning one (called
# before every connection attempt, so a token can be refreshed), sync or async.
AuthSource = Mapping[str, Any] | Callable[[], Mapping[str, Any] | Awaitable[Mapping[str, Any]]]


def _positive(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{attribute.name} must be a number > 0, got {value!r}")


def _count(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{attribute.name} must be a whole number >= 0, got {value!r}")


def _optional_count(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _count(instance, attribute, value)


def _transports(_: Any, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not value or any(name not in TRANSPORTS for name in value) or len(set(value)) < len(value):
        raise ValueError(f"transports must be some of {TRANSPORTS!r}, each once; got {value!r}")


def _namespaces(_: Any, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not value or len(set(value)) < len(value):
        raise ValueError(f"namespaces must be distinct and at least one, got {value!r}")
    for name in value:
        if not isinstance(name, str) or not name.startswith("/") or "," in name:
            raise ValueError(f"a namespace is a string starting with '/' (no ','), got {name!r}")


def _auth(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, Mapping) and not callable(value):
        raise TypeError(f"auth must be a dict, a callable returning one, or None; got {value!r}")


def _jitter(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"reconnect_jitter must be within 0..1, got {value!r}")


def _tuple(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen(kw_only=True)
class ClientOptions:
    """Every setting, with its default. See the README's table for what each one does."""

    namespaces: tuple[str, ...] = attrs.field(
        default=("/",), converter=_tuple, validator=_namespaces
    )
    auth: AuthSource | None = attrs.field(default=None, validator=_auth)
    transports: tuple[str, ...] = attrs.field(
        default=TRANSPORTS, converter=_tuple, validator=_transports
    )
    path: str = "/socket.io/"
    headers: Mapping[str, str] = attrs.field(factory=dict)
    ssl_context: ssl.SSLContext | None = None
    connect_timeout: float = attrs.field(default=10.0, validator=_positive)
    ack_timeout: float = attrs.field(default=10.0, validator=_positive)
    reconnect: bool = True
    reconnect_delay: float = attrs.field(default=1.0, validator=_positive)
    reconnect_delay_max: float = attrs.field(default=5.0, validator=_positive)
    reconnect_jitter: float = attrs.field(default=0.5, validator=_jitter)
    reconnect_attempts: int | None = attrs.field(default=None, validator=_optional_count)
    offline_queue: int = attrs.field(default=1000, validator=_count)
    dedupe_ids: int = attrs.field(default=10_000, validator=_count)

    def __attrs_post_init__(self) -> None:
        if self.reconnect_delay_max < self.reconnect_delay:
            raise ValueError(
                "reconnect_delay_max must be at least reconnect_delay, got "
                f"{self.reconnect_delay_max!r} < {self.reconnect_delay!r}"
            )


class Settings(TypedDict, total=False):
    """The keyword arguments of ``Client`` and ``connect`` (the fields of ``ClientOptions``)."""

    namespaces: tuple[str, ...] | list[str] | str
    auth: AuthSource | None
    transports: tuple[str, ...] | list[str] | str
    path: str
    headers: Mapping[str, str]
    ssl_context: ssl.SSLContext | None
    connect_timeout: float
    ack_timeout: float
    reconnect: bool
    reconnect_delay: float
    reconnect_delay_max: float
    reconnect_jitter: float
    reconnect_attempts: int | None
    offline_queue: int
    dedupe_ids: int


@attrs.frozen
class Endpoint:
    """Where the server is: ``http(s)://`` or ``ws(s)://`` host, port and Engine.IO path."""

    host: str
    port: int
    tls: bool
    path: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.tls else 80
        return host if self.port == default else f"{host}:{self.port}"

    def target(self, transport: str, sid: str | None = None) -> str:
        """The request target of an Engine.IO v4 request on ``transport``."""
        query = f"EIO=4&transport={transport}"
        if sid is not None:
            query += f"&sid={sid}"
        return f"{self.path}?{query}"


def parse_url(url: str, path: str) -> Endpoint:
    """``Endpoint`` of a server URL; ``ValueError`` for anything but http(s) and ws(s)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        raise ValueError(f"expected an http(s):// or ws(s):// URL, got {url!r}")
    tls = scheme in ("https", "wss")
    port = parts.port or (443 if tls else 80)
    if not path.startswith("/"):
        path = "/" + path
    if not path.endswith("/"):
        path += "/"
    return Endpoint(parts.hostname, port, tls, path)
