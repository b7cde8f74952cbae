"""Who may connect a namespace and join a room, from the hub's settings and a token.

Built once per ``HubConfig``; pure (no I/O once the keys are read).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable
from typing import Any

import attrs

from hub.auth.claims import Claims
from hub.auth.tokens import TokenVerifier, auth_configured
from hub.core.config import HubConfig
from hub.errors import AuthError, ConfigError, Forbidden

PUBLIC = "public"
AUTHENTICATED = "authenticated"
# A template whose claims expand to more rooms than this is refused, not expanded.
MAX_EXPANSIONS = 1000
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


@attrs.frozen
class Access:
    """A namespace's rule: anyone, any valid token, or a token with one of ``roles``."""

    kind: str
    roles: frozenset[str] = frozenset()

    def describe(self) -> str:
        return "+".join(sorted(self.roles)) if self.roles else self.kind


class Policy:
    def __init__(self, config: HubConfig) -> None:
        self.enabled = auth_configured(config)
        self.verifier = TokenVerifier(config) if self.enabled else None
        self.default = Access(AUTHENTICATED if self.enabled else PUBLIC)
        self.namespaces = dict(_parse_access(entry) for entry in config.namespace_access)
        for access in self.namespaces.values():
            if access.kind != PUBLIC and not self.enabled:
                raise ConfigError(
                    "invalid hub settings: namespace_access requires tokens, but no "
                    "jwt_secret, jwt_public_key_file or jwt_jwks_file is set"
                )
        self.room_patterns = config.room_patterns
        # Joins are checked when tokens or patterns say who may join what.
        self.checks_rooms = self.enabled or bool(config.room_patterns)

    def access(self, namespace: str) -> Access:
        return self.namespaces.get(namespace, self.default)

    def admit(self, namespace: str, token: Any) -> Claims | None:
        """The claims a session of ``namespace`` connects with (None: anonymous).

        ``token`` is what the client presented (None: nothing). Raises ``AuthError`` or
        ``Forbidden`` with the reason the client is told.
        """
        claims = None
        if token is not None and self.verifier is not None:
            claims = self.verifier.verify(token)
        access = self.access(namespace)
        if access.kind == PUBLIC:
            return claims
        if claims is None:
            raise AuthError(f"namespace {namespace} needs a token", "token_required")
        if access.roles and access.roles.isdisjoint(claims.roles):
            raise Forbidden(f"namespace {namespace} needs the role {access.describe()}")
        return claims

    def may_join(self, claims: Claims | None, room: str) -> bool:
        if not self.checks_rooms:
            return True
        values = claims.raw if claims is not None else {}
        patterns = itertools.chain(claims.rooms if claims else (), self.room_patterns)
        return any(_matches(pattern, values, room) for pattern in patterns)


def _parse_access(entry: str) -> tuple[str, Access]:
    namespace, sep, rule = entry.partition("=")
    namespace, rule = namespace.strip(), rule.strip()
    if not sep or not namespace.startswith("/") or not rule:
        raise ConfigError(
            f"invalid hub settings: namespace_access entry {entry!r} is not "
            "'/namespace=public|authenticated|role+role'"
        )
    if rule in (PUBLIC, AUTHENTICATED):
        return namespace, Access(rule)
    roles = frozenset(role.strip() for role in rule.split("+"))
    if "" in roles:
        raise ConfigError(
            f"invalid hub settings: namespace_access entry {entry!r} has an empty role"
        )
    return namespace, Access("roles", roles)


def _matches(pattern: str, claims: dict[str, Any], room: str) -> bool:
    names = _PLACEHOLDER.findall(pattern)
    choices = [tuple(_claim_values(claims.get(name))) for name in names]
    if not all(choices):
        return False  # a placeholder whose claim is missing matches nothing
    return _regex(pattern, tuple(choices)).fullmatch(room) is not None


def _claim_values(value: Any) -> Iterable[str]:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, list) and len(value) <= MAX_EXPANSIONS:
        return tuple(str(item) for item in value if isinstance(item, str | int))
    return ()


@functools.lru_cache(maxsize=4096)
def _regex(pattern: str, choices: tuple[tuple[str, ...], ...]) -> re.Pattern[str]:
    """``*`` is any run of characters; each ``{claim}`` one of its values, taken literally."""
    parts: list[str] = []
    values = iter(choices)
    for index, piece in enumerate(_PLACEHOLDER.split(pattern)):
        if index % 2:
            parts.append("(?:" + "|".join(map(re.escape, next(values))) + ")")
        else:
            parts.append(".*".join(map(re.escape, piece.split("*"))))
    return re.compile("".join(parts), re.DOTALL)
