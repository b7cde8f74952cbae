"""The hub's one exception tree.

    HubError
    ├── ProtocolError        malformed input from a peer (Engine.IO, Socket.IO, HTTP)
    ├── ConnectRefused       a connect handler refused a namespace connection
    ├── AckTimeout           the peer did not acknowledge in time
    ├── NotConnected         the session or connection is gone
    ├── NotRunning           the hub is not serving
    ├── Refusal              a peer's request is refused; ``reason`` is machine-readable
    │   ├── AuthError        a token is missing, invalid or expired
    │   ├── Forbidden        the peer may not do that (role, room, publishing)
    │   └── LimitExceeded    a configured bound was hit
    │       └── QueueFull    a user emitter's queue is full (``emit_nowait``)
    └── ConfigError          a setting is unknown, of the wrong type or out of range

Built-in names (``ConnectionError``, ``TimeoutError``) are never shadowed.
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Root of every error the hub raises on purpose."""


class ProtocolError(HubError):
    """A peer sent something that is not valid protocol; ``reason`` says what."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConnectRefused(HubError):
    """Raised by a connect handler to refuse a session; the client gets CONNECT_ERROR."""

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class AckTimeout(HubError):
    """An emit that asked for an acknowledgement did not get one in time."""


class NotConnected(HubError):
    """The session or connection the call needs is closed."""


class Refusal(HubError):
    """A request refused with a stable, machine-readable ``reason`` (sent to the peer as
    ``{"reason": ..., "message": ...}``) and a human ``message``."""

    reason = "refused"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason

    def as_error(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message}


class AuthError(Refusal):
    """No valid token: reasons ``invalid_token``, ``token_expired``, ``token_required``."""

    reason = "invalid_token"


class Forbidden(Refusal):
    """The token is valid but does not allow this (a role, a room, publishing)."""

    reason = "forbidden"


class LimitExceeded(Refusal):
    """A configured limit (rooms, namespaces, pending acks, queue, ...) was exceeded."""

    reason = "limit_exceeded"


class ConfigError(HubError):
    """A setting is unknown, of the wrong type or out of range; the message names it."""


class NotRunning(HubError):
    """The hub is not serving (not started yet, or stopped)."""


class QueueFull(LimitExceeded):
    """A user's emitter queue is full; ``await emitter.emit(...)`` would have waited."""

    reason = "queue_full"
