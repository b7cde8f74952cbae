"""The client's one exception tree.

    HubClientError
    ├── ConnectError          no connection could be opened (network, handshake, timeout)
    │   └── ConnectRefused    the server refused a namespace (CONNECT_ERROR): .message, .data
    ├── NotConnected          the call needs a connection the client does not have
    │   ├── ConnectionLost    the connection went while an ack was awaited
    │   └── ReconnectFailed   the client stopped reconnecting (attempts used up, or refused)
    ├── OfflineQueueFull      disconnected, and the offline queue is full
    ├── ClientTimeout         (also a TimeoutError)
    │   ├── AckTimeout        emit_with_ack: no ack in time
    │   └── WaitTimeout       wait_for: no matching event in time
    └── RequestFailed         the standalone hub answered {"ok": false, "error": ...}

Built-in names (``ConnectionError``, ``TimeoutError``) are never shadowed.
"""

from __future__ import annotations

from typing import Any


class HubClientError(Exception):
    """Root of every error the client raises on purpose."""


class ConnectError(HubClientError):
    """No connection could be opened: nothing listening, a refused handshake, a timeout."""


class ConnectRefused(ConnectError):
    """The server refused to connect a namespace; ``message`` and ``data`` are its reasons."""

    def __init__(self, namespace: str, message: str, data: Any = None) -> None:
        detail = "" if data is None else f" {data!r}"
        super().__init__(f"{namespace}: {message}{detail}")
        self.namespace = namespace
        self.message = message
        self.data = data


class NotConnected(HubClientError):
    """The call needs a connection: the client is closed, stopped, or offline without a queue."""


class ConnectionLost(NotConnected):
    """The connection went before the awaited ack came (the event may have reached the server)."""


class ReconnectFailed(NotConnected):
    """The client stopped reconnecting; ``__cause__`` is the last failure."""


class OfflineQueueFull(HubClientError):
    """The client is disconnected and its offline queue holds ``offline_queue`` events already."""


class ClientTimeout(HubClientError, TimeoutError):
    """Something awaited did not happen in time."""


class AckTimeout(ClientTimeout):
    """``emit_with_ack``: the server did not acknowledge in time."""


class WaitTimeout(ClientTimeout):
    """``wait_for``: no matching event arrived in time."""


class RequestFailed(HubClientError):
    """A request to the standalone hub's namespace was answered ``{"ok": false, ...}``."""

    def __init__(self, request: str, reply: Any) -> None:
        error = reply.get("error") if isinstance(reply, dict) else None
        super().__init__(f"{request} failed: {error if error is not None else reply!r}")
        self.request = request
        self.reply = reply
        self.error = error
