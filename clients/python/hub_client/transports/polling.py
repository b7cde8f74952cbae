"""Engine.IO over HTTP long-polling: a GET waits for the server's packets, a POST carries
the client's. Two keep-alive connections (h11), so a POST never waits behind a GET."""

from __future__ import annotations

import contextlib
import itertools
import ssl
from collections import deque
from collections.abc import Mapping, Sequence

import anyio

from hub.errors import ProtocolError
from hub.protocol.engineio import EioPacket, decode_payload
from hub_client.codec import CLOSE, Handshake, encode_payload, parse_open
from hub_client.options import Endpoint
from hub_client.transports.base import CLOSE_WAIT, TransportClosed
from hub_client.transports.http import HttpConnection, Response

_tokens = itertools.count(1)


def _cache_buster() -> str:
    return f"&t={next(_tokens):x}"


def _packets(response: Response, what: str) -> list[EioPacket]:
    if response.status != 200:
        detail = response.body[:200].decode("utf-8", "replace")
        raise TransportClosed(f"{what} answered HTTP {response.status} {detail}".strip())
    try:
        return decode_payload(response.body)
    except ProtocolError as exc:
        raise TransportClosed(f"bad polling payload: {exc.reason}") from exc


def _chunks(packets: Sequence[EioPacket], limit: int) -> list[list[EioPacket]]:
    """The packets in order, grouped so each group's body stays within ``limit`` bytes."""
    groups: list[list[EioPacket]] = [[]]
    size = 0
    for packet in packets:
        length = len(encode_payload([packet])) + 1
        if groups[-1] and size + length > limit:
            groups.append([])
            size = 0
        groups[-1].append(packet)
        size += length
    return groups


class PollingTransport:
    name = "polling"

    def __init__(
        self,
        endpoint: Endpoint,
        headers: Mapping[str, str],
        ssl_context: ssl.SSLContext | None,
        poll: HttpConnection,
        handshake: Handshake,
        buffered: list[EioPacket],
    ) -> None:
        self._target = endpoint.target("polling", handshake.sid)
        self._max_payload = handshake.max_payload
        self._poll = poll
        self._post = HttpConnection(endpoint, headers, ssl_context)
        self._post_lock = anyio.Lock()
        self._buffer: deque[EioPacket] = deque(buffered)
        self._closed = False

    async def receive(self) -> EioPacket:
        while not self._buffer:
            if self._closed:
                raise TransportClosed("polling closed")
            response = await self._poll.request("GET", self._target + _cache_buster())
            self._buffer.extend(_packets(response, "poll"))
        return self._buffer.popleft()

    async def send(self, packets: Sequence[EioPacket]) -> None:
        async with self._post_lock:
            for group in _chunks(packets, self._max_payload):
                if self._closed:
                    raise TransportClosed("polling closed")
                body = encode_payload(group)
                response = await self._post.request("POST", self._target + _cache_buster(), body)
                if response.status != 200:
                    raise TransportClosed(f"POST answered HTTP {response.status}")

    async def aclose(self) -> None:
        with anyio.move_on_after(CLOSE_WAIT, shield=True):
            with contextlib.suppress(TransportClosed):
                await self.send([CLOSE])
        await self.abort()

    async def abort(self) -> None:
        self._closed = True
        await self._poll.abort()
        await self._post.abort()


async def open_polling(
    endpoint: Endpoint, headers: Mapping[str, str], ssl_context: ssl.SSLContext | None
) -> tuple[PollingTransport, Handshake]:
    """A long-polling Engine.IO session: its first GET, and the OPEN packet it answered."""
    poll = HttpConnection(endpoint, headers, ssl_context)
    try:
        response = await poll.request("GET", endpoint.target("polling") + _cache_buster())
        packets = _packets(response, "handshake")
        if not packets:
            raise TransportClosed("the handshake answer holds no packet")
        try:
            handshake = parse_open(packets[0])
        except ProtocolError as exc:
            raise TransportClosed(exc.reason) from exc
    except BaseException:
        await poll.abort()
        raise
    transport = PollingTransport(endpoint, headers, ssl_context, poll, handshake, packets[1:])
    return transport, handshake
