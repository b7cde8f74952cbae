"""The hub's one exception tree.

    HubError
    ├── ProtocolError        malformed input from a peer (Engine.IO, Socket.IO, HTTP)
    ├── ConnectRefused       a connect handler refused a namespace connection
    ├── AckTimeout           the peer did not acknowledge in time
    ├── NotConnected         the session or connection is gone
    ├── NotRunning           the hub is not serving
    ├── LimitExceeded        a configured bound was hit
    │   └── QueueFull        a user emitter's queue is full (``emit_nowait``)
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


class LimitExceeded(HubError):
    """A configured limit (payload size, outbox, ...) was exceeded."""


class ConfigError(HubError):
    """A setting is unknown, of the wrong type or out of range; the message names it."""


class NotRunning(HubError):
    """The hub is not serving (not started yet, or stopped)."""


class QueueFull(LimitExceeded):
    """A user's emitter queue is full; ``await emitter.emit(...)`` would have waited."""
