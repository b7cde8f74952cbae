"""Raw HTTP/1.1 and Engine.IO long-polling clients for the tests, over real sockets.

``Http`` is one keep-alive connection (h11, client side). ``Poller`` is an Engine.IO
polling session the way browsers run one: a connection for GETs and one for POSTs.
"""

from __future__ import annotations

from base64 import b64decode, b64encode
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import h11
import orjson
import trio
from trio_websocket import WebSocketConnection, wrap_client_stream

ENGINE = "/socket.io/?EIO=4&transport=polling"


class Reply:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        # Lower-case names, in order, repeats kept.
        self.raw_headers = [name for name, _ in headers]
        self.headers = dict(headers)
        self.body = body

    def json(self) -> Any:
        return orjson.loads(self.body)

    def __repr__(self) -> str:
        return f"<Reply {self.status} {self.body[:200]!r}>"


class Http:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.conn = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(cls, port: int) -> Http:
        return cls(await trio.open_tcp_stream("127.0.0.1", port))

    async def request(
        self,
        method: str,
        target: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> Reply:
        if self.conn.our_state is h11.DONE:
            self.conn.start_next_cycle()
        all_headers = {"Host": "127.0.0.1", **(headers or {})}
        if method in ("POST", "PUT"):
            all_headers.setdefault("Content-Length", str(len(body)))
        data = self.conn.send(
            h11.Request(method=method, target=target, headers=list(all_headers.items()))
        )
        if body:
            data += self.conn.send(h11.Data(data=body))
        data += self.conn.send(h11.EndOfMessage())
        await self.stream.send_all(data)
        with trio.fail_after(timeout):
            response = await self._next()
            parts = []
            while not isinstance(event := await self._next(), h11.EndOfMessage):
                parts.append(bytes(event.data))
        found = [(k.decode().lower(), v.decode()) for k, v in response.headers]
        return Reply(response.status_code, found, b"".join(parts))

    async def _next(self) -> Any:
        while (event := self.conn.next_event()) is h11.NEED_DATA:
            self.conn.receive_data(await self.stream.receive_some(65536))
        if isinstance(event, h11.ConnectionClosed):
            raise ConnectionError("server closed the connection")
        return event

    async def aclose(self) -> None:
        await self.stream.aclose()


async def raw_exchange(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send ``data`` and read until the server closes; the whole reply."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(data)
        reply = b""
        with trio.fail_after(timeout):
            while chunk := await stream.receive_some(65536):
                reply += chunk
    return reply


def upgrade_head(sid: str) -> bytes:
    """A WebSocket opening request for the polling session ``sid``."""
    return (
        f"GET /socket.io/?EIO=4&transport=websocket&sid={sid} HTTP/1.1\r\nHost: x\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    ).encode()


def encode_payload(packets: list[str | bytes]) -> bytes:
    return b"\x1e".join(
        b"b" + b64encode(p) if isinstance(p, bytes) else p.encode() for p in packets
    )


def decode_payload(body: bytes) -> list[str | bytes]:
    return [
        b64decode(part[1:]) if part.startswith("b") else part
        for part in body.decode().split("\x1e")
    ]


class Poller:
    """An Engine.IO session on long-polling: ``get`` packets, ``post`` packets."""

    def __init__(self, port: int, getter: Http, poster: Http, handshake: dict[str, Any]) -> None:
        self.port = port
        self.getter = getter
        self.poster = poster
        self.handshake = handshake
        self.sid: str = handshake["sid"]

    @classmethod
    async def open(cls, port: int) -> Poller:
        getter, poster = await Http.open(port), await Http.open(port)
        reply = await getter.request("GET", ENGINE)
        assert reply.status == 200, reply
        assert reply.body.startswith(b"0"), reply
        return cls(port, getter, poster, orjson.loads(reply.body[1:]))

    @property
    def target(self) -> str:
        return f"{ENGINE}&sid={self.sid}"

    async def get(self, timeout: float = 10) -> list[str | bytes]:
        reply = await self.getter.request("GET", self.target, timeout=timeout)
        assert reply.status == 200, reply
        return decode_payload(reply.body)

    async def post(self, *packets: str | bytes) -> Reply:
        return await self.poster.request("POST", self.target, encode_payload(list(packets)))

    async def connect(self, namespace: str = "/", auth: Any = None) -> dict[str, Any]:
        prefix = "40" if namespace == "/" else f"40{namespace},"
        packet = prefix + (orjson.dumps(auth).decode() if auth is not None else "")
        assert (await self.post(packet)).status == 200
        (reply,) = await self.get()
        assert isinstance(reply, str) and reply.startswith(prefix), reply
        return dict(orjson.loads(reply[len(prefix) :]))

    async def aclose(self) -> None:
        await self.getter.aclose()
        await self.poster.aclose()


@asynccontextmanager
async def upgrade_socket(port: int, sid: str) -> AsyncIterator[WebSocketConnection]:
    """A WebSocket opened to upgrade the polling session ``sid`` (no probe sent yet)."""
    resource = f"/socket.io/?EIO=4&transport=websocket&sid={sid}"
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream, trio.open_nursery() as nursery:
        ws = await wrap_client_stream(nursery, stream, "127.0.0.1", resource)
        yield ws
        with trio.move_on_after(1):
            await ws.aclose()
        nursery.cancel_scope.cancel()
