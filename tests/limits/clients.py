"""Engine.IO openings from a chosen local address and page origin, and their refusals.

WebSocket openings go through wsproto, polling handshakes through the raw HTTP
client of ``tests/polling/wire.py``; a refused opening comes back as a ``Refused``.
"""

from __future__ import annotations

from typing import Any, cast

import attrs
import orjson
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

from hub import Hub
from hub.server.listener import Server
from tests.polling.wire import ENGINE, Http, Poller, Reply

LOCAL = "127.0.0.1"
OTHER_LOCAL = "127.0.0.2"  # another remote IP, as the hub sees it (loopback is a /8)
WEBSOCKET = "/socket.io/?EIO=4&transport=websocket"


@attrs.frozen
class Refused:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def server_of(hub: Hub) -> Server:
    """The server running ``hub`` (for the counts no endpoint shows one by one)."""
    return cast(Server, hub._server)


def _origin(origin: str | None) -> dict[str, str]:
    return {"Origin": origin} if origin is not None else {}


async def connect_tcp(port: int, local: str = LOCAL) -> trio.SocketStream:
    return await trio.open_tcp_stream("127.0.0.1", port, local_address=local)


class WebSocket:
    """A client WebSocket over wsproto: small, so a flood can open hundreds at once."""

    def __init__(self, stream: trio.SocketStream, ws: WSConnection, early: list[Any]) -> None:
        self.stream = stream
        self.ws = ws
        self._events = early

    @classmethod
    async def open(
        cls, port: int, *, local: str = LOCAL, origin: str | None = None, sid: str | None = None
    ) -> WebSocket | Refused:
        """The opened WebSocket (its OPEN packet not read yet), or the refusal."""
        resource = WEBSOCKET if sid is None else f"{WEBSOCKET}&sid={sid}"
        headers = [(k.encode(), v.encode()) for k, v in _origin(origin).items()]
        stream = await connect_tcp(port, local)
        ws = WSConnection(ConnectionType.CLIENT)
        try:
            await stream.send_all(
                ws.send(Request(host="127.0.0.1", target=resource, extra_headers=headers))
            )
            events = await _receive(stream, ws)
            first = events.pop(0)
            if isinstance(first, AcceptConnection):
                return cls(stream, ws, events)
            assert isinstance(first, RejectConnection), first
            while first.has_body and not (
                events and isinstance(events[-1], RejectData) and events[-1].body_finished
            ):
                events += await _receive(stream, ws)
            body = b"".join(bytes(event.data) for event in events)
            headers_found = {k.decode().lower(): v.decode() for k, v in first.headers}
            await stream.aclose()
            return Refused(first.status_code, orjson.loads(body), headers_found)
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise

    async def message(self, timeout: float = 10) -> str:
        """The next text message; ``ConnectionError`` once the server has closed."""
        with trio.fail_after(timeout):
            while True:
                while self._events:
                    event = self._events.pop(0)
                    if isinstance(event, TextMessage):
                        return event.data
                    if isinstance(event, CloseConnection):
                        raise ConnectionError(f"closed: {event.code} {event.reason}")
                self._events = await _receive(self.stream, self.ws)

    async def send(self, text: str) -> None:
        await self.stream.send_all(self.ws.send(TextMessage(text)))

    async def aclose(self) -> None:
        """Close the socket at once (as a client that goes away does)."""
        await trio.aclose_forcefully(self.stream)


async def _receive(stream: trio.SocketStream, ws: WSConnection) -> list[Any]:
    while True:
        data = await stream.receive_some(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        ws.receive_data(data)
        events = list(ws.events())
        if events:
            return events


async def open_websocket_session(
    port: int, *, local: str = LOCAL, origin: str | None = None
) -> Refused | None:
    """Open a WebSocket session, read its OPEN packet and close it: None, or the refusal."""
    opened = await WebSocket.open(port, local=local, origin=origin)
    if isinstance(opened, Refused):
        return opened
    try:
        opening = await opened.message()
        assert opening.startswith("0{"), opening
    finally:
        await opened.aclose()
    return None


def refused_reply(reply: Reply) -> Refused:
    return Refused(reply.status, reply.json(), reply.headers)


async def polling_handshake(
    port: int, *, local: str = LOCAL, origin: str | None = None
) -> Poller | Refused:
    """A polling session (GETs and POSTs on two connections, as browsers do), or the
    refusal of its handshake. The caller closes the ``Poller``."""
    getter = Http(await connect_tcp(port, local))
    reply = await getter.request("GET", ENGINE, headers=_origin(origin))
    if reply.status != 200:
        await getter.aclose()
        return refused_reply(reply)
    assert reply.body.startswith(b"0{"), reply
    poster = Http(await connect_tcp(port, local))
    return Poller(port, getter, poster, orjson.loads(reply.body[1:]))


async def end_polling(poller: Poller) -> None:
    """End the session as a client does (a CLOSE packet), then its connections."""
    await poller.post("1")
    await poller.aclose()


def summary(refusal: Refused) -> tuple[int, int, str]:
    """Status, Engine.IO code and reason of a refusal, its body checked to be just those."""
    assert set(refusal.body) == {"code", "message", "reason"}, refusal
    assert isinstance(refusal.body["message"], str) and refusal.body["message"]
    return refusal.status, refusal.body["code"], refusal.body["reason"]
