"""Engine.IO over one WebSocket: wsproto's sans-IO connection over an anyio byte stream."""

from __future__ import annotations

import ssl
from collections import deque
from collections.abc import Mapping, Sequence

import anyio
from anyio.abc import ByteStream
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from hub.errors import ProtocolError
from hub.protocol.engineio import EioPacket, decode_eio
from hub_client.codec import Handshake, parse_open, to_messages
from hub_client.options import Endpoint
from hub_client.transports.base import CLOSE_WAIT, STREAM_ERRORS, TransportClosed, open_stream

RECEIVE_SIZE = 65536
MAX_MESSAGE = 64 * 1024 * 1024  # far above any server's maxPayload


class WebSocketTransport:
    name = "websocket"

    def __init__(self, stream: ByteStream, ws: WSConnection) -> None:
        self._stream = stream
        self._ws = ws
        self._send_lock = anyio.Lock()
        self._messages: deque[EioPacket] = deque()
        self._text: list[str] = []
        self._binary: list[bytes] = []
        self._size = 0

    # Reading

    async def _read_events(self) -> list[Event]:
        try:
            data = await self._stream.receive(RECEIVE_SIZE)
        except anyio.EndOfStream:
            data = None
        except STREAM_ERRORS as exc:
            raise TransportClosed(f"websocket read failed: {exc!r}") from exc
        try:
            self._ws.receive_data(data)
            events = list(self._ws.events())
        except (RemoteProtocolError, LocalProtocolError) as exc:
            raise TransportClosed(f"bad websocket data: {exc}") from exc
        if data is None and not events:
            raise TransportClosed("the server hung up")
        return events

    async def accept(self) -> None:
        """Reads the server's answer to the opening request."""
        accepted = False
        while not accepted:
            if self._ws.state is ConnectionState.CLOSED:
                raise TransportClosed("the server closed the connection during the handshake")
            events = await self._read_events()
            for event in events:
                if isinstance(event, RejectConnection):
                    raise TransportClosed(f"websocket refused with HTTP {event.status_code}")
                if isinstance(event, RejectData):
                    raise TransportClosed("websocket refused")
                accepted = accepted or isinstance(event, AcceptConnection)
            # What came with the 101 reply (the OPEN packet, often) is kept.
            await self._handle([e for e in events if not isinstance(e, AcceptConnection)])

    def _on_event(self, event: Event) -> bytes | None:
        """Collects messages; returns bytes to write back (a pong), if any."""
        if isinstance(event, TextMessage | BytesMessage):
            self._size += len(event.data)
            if self._size > MAX_MESSAGE:
                raise TransportClosed("websocket message too large")
            if isinstance(event, TextMessage):
                self._text.append(event.data)
            else:
                self._binary.append(bytes(event.data))
            if event.message_finished:
                message: str | bytes
                if isinstance(event, TextMessage):
                    message, self._text = "".join(self._text), []
                else:
                    message, self._binary = b"".join(self._binary), []
                self._size = 0
                try:
                    self._messages.append(decode_eio(message))
                except ProtocolError as exc:
                    raise TransportClosed(f"bad engine.io packet: {exc.reason}") from exc
            return None
        if isinstance(event, Ping):
            return self._ws.send(event.response())
        if isinstance(event, CloseConnection):
            reply = b""
            if self._ws.state is ConnectionState.REMOTE_CLOSING:
                reply = self._ws.send(event.response())
            raise _Closed(f"closed by the server ({event.code} {event.reason})".strip(), reply)
        return None

    async def _handle(self, events: list[Event]) -> None:
        for event in events:
            try:
                reply = self._on_event(event)
            except _Closed as closed:
                if closed.reply:
                    await self._write(closed.reply, quiet=True)
                raise TransportClosed(closed.reason) from None
            if reply:
                await self._write(reply)

    async def receive(self) -> EioPacket:
        while not self._messages:
            await self._handle(await self._read_events())
            if not self._messages and self._ws.state is ConnectionState.CLOSED:
                raise TransportClosed("the server hung up")
        return self._messages.popleft()

    # Writing

    async def _write(self, data: bytes, *, quiet: bool = False) -> None:
        try:
            async with self._send_lock:
                await self._stream.send(data)
        except STREAM_ERRORS as exc:
            if not quiet:
                raise TransportClosed(f"websocket write failed: {exc!r}") from exc

    async def send(self, packets: Sequence[EioPacket]) -> None:
        try:
            async with self._send_lock:
                data = b"".join(
                    self._ws.send(
                        TextMessage(data=message)
                        if isinstance(message, str)
                        else BytesMessage(data=message)
                    )
                    for message in to_messages(packets)
                )
                await self._stream.send(data)
        except LocalProtocolError as exc:
            raise TransportClosed(f"websocket closed: {exc}") from exc
        except STREAM_ERRORS as exc:
            raise TransportClosed(f"websocket write failed: {exc!r}") from exc

    # Closing

    async def aclose(self) -> None:
        with anyio.move_on_after(CLOSE_WAIT, shield=True):
            try:
                if self._ws.state is ConnectionState.OPEN:
                    await self._write(self._ws.send(CloseConnection(code=1000)))
                while self._ws.state is not ConnectionState.CLOSED:
                    for event in await self._read_events():
                        if isinstance(event, CloseConnection):
                            break
                    else:
                        continue
                    break
            except (TransportClosed, LocalProtocolError):
                pass
        await self.abort()

    async def abort(self) -> None:
        await anyio.aclose_forcefully(self._stream)


class _Closed(Exception):
    def __init__(self, reason: str, reply: bytes) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reply = reply


async def open_websocket(
    endpoint: Endpoint, headers: Mapping[str, str], ssl_context: ssl.SSLContext | None
) -> tuple[WebSocketTransport, Handshake]:
    """A WebSocket to the endpoint's Engine.IO path, and the session's OPEN packet."""
    stream = await open_stream(endpoint, ssl_context)
    ws = WSConnection(ConnectionType.CLIENT)
    transport = WebSocketTransport(stream, ws)
    try:
        extra = [(name.encode(), value.encode()) for name, value in headers.items()]
        request = Request(
            host=endpoint.host_header, target=endpoint.target("websocket"), extra_headers=extra
        )
        await transport._write(ws.send(request))
        await transport.accept()
        try:
            handshake = parse_open(await transport.receive())
        except ProtocolError as exc:
            raise TransportClosed(exc.reason) from exc
    except BaseException:
        await transport.abort()
        raise
    return transport, handshake
