"""Engine.IO transports over anyio streams: WebSocket (wsproto) and long-polling (h11)."""

from hub_client.transports.base import Transport as Transport
from hub_client.transports.base import TransportClosed as TransportClosed
from hub_client.transports.polling import open_polling as open_polling
from hub_client.transports.websocket import open_websocket as open_websocket

__all__ = ["Transport", "TransportClosed", "open_polling", "open_websocket"]
