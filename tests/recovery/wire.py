"""A raw Engine.IO/Socket.IO WebSocket client (wsproto over a trio socket) that records the
wire: every text or binary message each way, in order, so tests can pin exact frames.

It answers Engine.IO pings itself (recorded like everything else) and can drop its TCP
connection abruptly with a RST, the way a dead network looks to the server. Every wait
is bounded.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from collections import deque
from typing import Any

import orjson
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)

STEP = 5.0
Frame = str | bytes


class WireClosed(Exception):
    """The server closed the WebSocket (or the TCP connection)."""


class WireClient:
    """One WebSocket connection to ``/socket.io/?EIO=4&transport=websocket``."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.trace: list[tuple[str, Frame]] = []  # ("<" server->client | ">", message)
        self.open_packet: dict[str, Any] = {}
        self._messages: deque[Frame] = deque()
        self._text: list[str] = []
        self._bytes: list[bytes] = []
        self.closed = False

    @classmethod
    async def open(cls, port: int) -> WireClient:
        """Connects, upgrades, and reads the Engine.IO open packet."""
        with trio.fail_after(STEP):
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            client = cls(stream)
            target = "/socket.io/?EIO=4&transport=websocket"
            await client._send_event(Request(host=f"127.0.0.1:{port}", target=target))
            while True:
                event = await client._next_event()
                if isinstance(event, AcceptConnection):
                    break
                if isinstance(event, RejectConnection):
                    raise WireClosed(f"upgrade refused: {event.status_code}")
            first = await client.receive()
        assert isinstance(first, str) and first.startswith("0"), first
        client.open_packet = orjson.loads(first[1:])
        return client

    async def _send_event(self, event: Any) -> None:
        await self.stream.send_all(self.ws.send(event))

    async def _next_event(self) -> Any:
        while True:
            for event in self.ws.events():
                return event
            data = await self.stream.receive_some(65536)
            if not data:
                raise WireClosed("the server closed the TCP connection")
            self.ws.receive_data(data)

    async def send(self, message: Frame) -> None:
        """Sends one WebSocket message (a text Engine.IO packet, or a binary attachment)."""
        self.trace.append((">", message))
        await self._send_event(Message(data=message))

    async def receive(self, timeout: float = STEP) -> Frame:
        """The next message from the server other than an Engine.IO ping (answered)."""
        with trio.fail_after(timeout):
            while True:
                if self._messages:
                    return self._messages.popleft()
                if self.closed:
                    raise WireClosed("closed")
                event = await self._next_event()
                if isinstance(event, TextMessage):
                    self._text.append(event.data)
                    if event.message_finished:
                        text = "".join(self._text)
                        self._text.clear()
                        self.trace.append(("<", text))
                        if text == "2":
                            await self.send("3")
                        else:
                            self._messages.append(text)
                elif isinstance(event, BytesMessage):
                    self._bytes.append(bytes(event.data))
                    if event.message_finished:
                        blob = b"".join(self._bytes)
                        self._bytes.clear()
                        self.trace.append(("<", blob))
                        self._messages.append(blob)
                elif isinstance(event, Ping):
                    await self._send_event(event.response())
                elif isinstance(event, CloseConnection):
                    self.closed = True
                    self.trace.append(("<", f"<close {event.code} {event.reason}>"))
                    with contextlib.suppress(Exception):
                        await self._send_event(event.response())
                    raise WireClosed(f"close {event.code} {event.reason}")

    async def receive_until(self, prefix: str, timeout: float = STEP) -> list[Frame]:
        """Messages up to and including the first text one starting with ``prefix``."""
        got: list[Frame] = []
        with trio.fail_after(timeout):
            while True:
                message = await self.receive()
                got.append(message)
                if isinstance(message, str) and message.startswith(prefix):
                    return got

    async def quiet(self, seconds: float = 0.3) -> list[Frame]:
        """Everything that arrives within ``seconds`` (for "nothing else came")."""
        got: list[Frame] = []
        with trio.move_on_after(seconds):
            while True:
                got.append(await self.receive())
        return got

    async def connect(self, namespace: str = "/", data: dict[str, Any] | None = None) -> str:
        """Sends a CONNECT (``40`` / ``40{json}``); returns the raw CONNECT reply."""
        prefix = "40" if namespace == "/" else f"40{namespace},"
        await self.send(prefix + (orjson.dumps(data).decode() if data is not None else ""))
        reply = await self.receive_until("40" if namespace == "/" else f"40{namespace},")
        return str(reply[-1])

    async def abort(self) -> None:
        """Drops the TCP connection with a RST: no WebSocket close, no Engine.IO close."""
        with contextlib.suppress(OSError):
            self.stream.socket.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        await trio.aclose_forcefully(self.stream)
        self.closed = True

    async def close(self) -> None:
        """Closes cleanly when still open (WebSocket close 1000), else does nothing."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception), trio.move_on_after(1):
                await self._send_event(CloseConnection(code=1000))
            await trio.aclose_forcefully(self.stream)


def event_of(frame: Frame) -> list[Any]:
    """The JSON array of a ``42[...]`` (or ``42/ns,[...]``) event packet."""
    assert isinstance(frame, str) and frame.startswith("42"), frame
    body = frame[2:]
    if body.startswith("/"):
        body = body.split(",", 1)[1]
    parsed: list[Any] = orjson.loads(body)
    return parsed


def render(trace: list[tuple[str, Frame]]) -> str:
    """The trace as text lines, for failure messages and reports."""
    return "\n".join(
        f"{way} {message if isinstance(message, str) else 'bin:' + message.hex()}"
        for way, message in trace
    )
