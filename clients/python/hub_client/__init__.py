"""The hub's Python client: Socket.IO v5 over WebSocket or long-polling, on anyio (so it
runs under trio and under asyncio alike).

    from hub_client import connect

    async with connect("http://127.0.0.1:8765", auth={"user": "alice"}) as client:
        client.on("task_status", print)
        await client.join("project:42")
        status = await client.wait_for("task_status", timeout=30)

It reconnects with exponential backoff and jitter, keeps what is emitted while
disconnected in an ordered, bounded offline queue, resumes its session by connection
state recovery when the server offers it, unpacks the hub's per-user batches and hands
a resent per-user event to its handler once (acknowledging it each time).
"""

from hub_client.api import NO_REPLAY as NO_REPLAY
from hub_client.api import Namespace as Namespace
from hub_client.api import Replay as Replay
from hub_client.api import ReplayedEvent as ReplayedEvent
from hub_client.backoff import Backoff as Backoff
from hub_client.client import Client as Client
from hub_client.client import ClientStats as ClientStats
from hub_client.client import connect as connect
from hub_client.errors import AckTimeout as AckTimeout
from hub_client.errors import ClientTimeout as ClientTimeout
from hub_client.errors import ConnectError as ConnectError
from hub_client.errors import ConnectionLost as ConnectionLost
from hub_client.errors import ConnectRefused as ConnectRefused
from hub_client.errors import HubClientError as HubClientError
from hub_client.errors import NotConnected as NotConnected
from hub_client.errors import OfflineQueueFull as OfflineQueueFull
from hub_client.errors import ReconnectFailed as ReconnectFailed
from hub_client.errors import RequestFailed as RequestFailed
from hub_client.errors import WaitTimeout as WaitTimeout
from hub_client.options import ClientOptions as ClientOptions
from hub_client.waiters import Waiter as Waiter

__all__ = [
    "NO_REPLAY",
    "AckTimeout",
    "Backoff",
    "Client",
    "ClientOptions",
    "ClientStats",
    "ClientTimeout",
    "ConnectError",
    "ConnectRefused",
    "ConnectionLost",
    "HubClientError",
    "Namespace",
    "NotConnected",
    "OfflineQueueFull",
    "ReconnectFailed",
    "Replay",
    "ReplayedEvent",
    "RequestFailed",
    "WaitTimeout",
    "Waiter",
    "connect",
]
