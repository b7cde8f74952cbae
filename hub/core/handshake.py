"""What the opening request of a connection said that the core needs to know."""

from __future__ import annotations

from collections.abc import Mapping

import attrs


@attrs.frozen(slots=True)
class Handshake:
    """Who opened an Engine.IO connection: the remote address, the bearer token of its
    ``Authorization`` header or ``token`` query parameter, and the page's origin."""

    remote: str = "?"
    token: str | None = None
    origin: str | None = None

    @property
    def ip(self) -> str:
        """The remote address without its port ("?" when unknown)."""
        host, _, port = self.remote.rpartition(":")
        return host if host and port.isdigit() else self.remote

    @classmethod
    def of(cls, remote: str, headers: Mapping[str, str], query: Mapping[str, str]) -> Handshake:
        """From lower-case request headers and query parameters."""
        token = query.get("token") or None
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            token = credentials.strip()
        return cls(remote, token, headers.get("origin"))
