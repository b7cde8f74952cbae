"""A test kit: a minimal trio Socket.IO client that speaks the wire protocol directly.

It exists to test hubs (this one or any Socket.IO v5 server) over real sockets, with
control a full client would hide: answering pings or not, sending raw frames, and
seeing every packet the server sends. Applications should use a full client.

    async with open_test_client(port) as client:
        await client.connect("/dash", auth={"token": "..."})
        print(await client.call("join", "room-1", namespace="/dash"))
        event, args = await client.next_event("/dash")
"""

from __future__ import annotations

import itertools
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, wrap_client_stream

from hub.errors import AckTimeout, ConnectRefused, NotConnected, ProtocolError
from hub.protocol.engineio import EioType, decode_eio
from hub.protocol.socketio import SioDecoder, SioPacket, SioType, encode_sio

Responder = Callable[..., Awaitable[Any]]
Event = tuple[str, list[Any]]


async def wait_until(predicate: Callable[[], bool], timeout: float = 5, poll: float = 0.01) -> None:
    """Wait until ``predicate()`` holds; ``TooSlowError`` after ``timeout`` seconds.

    For state other tasks change with no event to wait on (counters, stats).
    """
    with trio.fail_after(timeout):
        while not predicate():  # noqa: ASYNC110
            await trio.sleep(poll)


class TestClient:
    __test__ = False  # not a pytest test class

    def __init__(self, ws: WebSocketConnection, handshake: dict[str, Any], auto_pong: bool):
        self.ws = ws
        self.handshake = handshake
        self.auto_pong = auto_pong
        self.sids: dict[str, str] = {}
        # The data of each namespace's CONNECT reply (sid, and pid with recovery on).
        self.connect_replies: dict[str, dict[str, Any]] = {}
        # Every Socket.IO packet received, in order, for tests of ordering on the wire.
        self.received: list[SioPacket] = []
        self.disconnected: dict[str, bool] = {}
        self.pings = 0
        self.responders: dict[str, Responder] = {}
        self._decoder = SioDecoder()
        self._ack_ids = itertools.count()
        self._acks: dict[int, trio.MemorySendChannel[list[Any]]] = {}
        self._connects: dict[str, trio.MemorySendChannel[SioPacket]] = {}
        self._events: dict[
            str, tuple[trio.MemorySendChannel[Event], trio.MemoryReceiveChannel[Event]]
        ]
        self._events = {}

    def _event_channel(
        self, namespace: str
    ) -> tuple[trio.MemorySendChannel[Event], trio.MemoryReceiveChannel[Event]]:
        if namespace not in self._events:
            self._events[namespace] = trio.open_memory_channel[Event](math.inf)
        return self._events[namespace]

    async def send_raw(self, message: str | bytes) -> None:
        await self.ws.send_message(message)

    async def send_packet(self, packet: SioPacket) -> None:
        text, attachments = encode_sio(packet)
        await self.ws.send_message("4" + text.decode())
        for attachment in attachments:
            await self.ws.send_message(attachment)

    async def connect(
        self, namespace: str = "/", auth: dict[str, Any] | None = None, timeout: float = 5
    ) -> str:
        """Join a namespace; returns its sid or raises ``ConnectRefused``."""
        send, receive = trio.open_memory_channel[SioPacket](1)
        self._connects[namespace] = send
        await self.send_packet(SioPacket(SioType.CONNECT, namespace, auth))
        with trio.fail_after(timeout):
            reply = await receive.receive()
        if reply.type is SioType.CONNECT_ERROR:
            data = reply.data if isinstance(reply.data, dict) else {"message": reply.data}
            raise ConnectRefused(data.get("message", ""), data.get("data"))
        self.connect_replies[namespace] = reply.data
        self.sids[namespace] = reply.data["sid"]
        return self.sids[namespace]

    async def disconnect(self, namespace: str = "/") -> None:
        await self.send_packet(SioPacket(SioType.DISCONNECT, namespace))

    async def emit(self, event: str, *args: Any, namespace: str = "/") -> None:
        await self.send_packet(SioPacket(SioType.EVENT, namespace, [event, *args]))

    async def call(
        self, event: str, *args: Any, namespace: str = "/", timeout: float = 5
    ) -> list[Any]:
        """Emit with an ack request; returns the ack's arguments."""
        ack_id = next(self._ack_ids)
        send, receive = trio.open_memory_channel[list[Any]](1)
        self._acks[ack_id] = send
        await self.send_packet(SioPacket(SioType.EVENT, namespace, [event, *args], ack_id))
        with trio.move_on_after(timeout):
            return await receive.receive()
        raise AckTimeout(f"no ack for {event!r}")

    async def next_event(self, namespace: str = "/", timeout: float = 5) -> Event:
        """The next event the server sent on ``namespace``: its name and arguments."""
        with trio.fail_after(timeout):
            try:
                return await self._event_channel(namespace)[1].receive()
            except trio.EndOfChannel:
                raise NotConnected("connection closed") from None

    def pending_events(self, namespace: str = "/") -> int:
        return self._event_channel(namespace)[1].statistics().current_buffer_used

    async def _read(self) -> None:
        try:
            while True:
                message = await self.ws.get_message()
                packet = decode_eio(message)
                if packet.type is EioType.PING:
                    self.pings += 1
                    if self.auto_pong:
                        await self.ws.send_message("3")
                elif packet.type is EioType.MESSAGE:
                    sio = self._decoder.feed(packet.data)
                    if sio is not None:
                        await self._dispatch(sio)
        except (ConnectionClosed, ProtocolError):
            pass
        finally:
            for send, _ in self._events.values():
                send.close()

    async def _dispatch(self, packet: SioPacket) -> None:
        self.received.append(packet)
        if packet.type in (SioType.CONNECT, SioType.CONNECT_ERROR):
            waiter = self._connects.pop(packet.namespace, None)
            if waiter is not None:
                waiter.send_nowait(packet)
        elif packet.is_ack:
            waiter_ack = self._acks.pop(packet.id or 0, None)
            if waiter_ack is not None:
                waiter_ack.send_nowait(packet.data)
        elif packet.type is SioType.DISCONNECT:
            self.disconnected[packet.namespace] = True
            self._event_channel(packet.namespace)[0].send_nowait(("disconnect", []))
        elif packet.is_event:
            name, *args = packet.data
            responder = self.responders.get(name)
            if packet.id is not None and responder is not None:
                answer = await responder(*args)
                ack = SioPacket(SioType.ACK, packet.namespace, [answer], packet.id)
                await self.send_packet(ack)
            self._event_channel(packet.namespace)[0].send_nowait((name, args))


@asynccontextmanager
async def open_test_client(
    port: int,
    *,
    host: str = "127.0.0.1",
    path: str = "/socket.io/",
    connect: str | None = "/",
    auth: dict[str, Any] | None = None,
    auto_pong: bool = True,
) -> AsyncIterator[TestClient]:
    """A connected client; with ``connect`` set it has joined that namespace too."""
    resource = f"{path}?EIO=4&transport=websocket"
    # Own the TCP stream: trio-websocket's client leaves it open when the server closes first.
    stream = await trio.open_tcp_stream(host, port)
    async with stream, trio.open_nursery() as nursery:
        ws = await wrap_client_stream(nursery, stream, host, resource, message_queue_size=0)
        opening = decode_eio(await ws.get_message())
        if opening.type is not EioType.OPEN:
            raise ProtocolError("server did not open the session")
        client = TestClient(ws, orjson.loads(opening.data), auto_pong)
        nursery.start_soon(client._read)
        if connect is not None:
            await client.connect(connect, auth)
        yield client
        with trio.move_on_after(1):
            await ws.aclose()
        nursery.cancel_scope.cancel()
