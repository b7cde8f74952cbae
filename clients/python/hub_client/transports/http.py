"""A minimal HTTP/1.1 client connection: h11's sans-IO state machine over an anyio stream.

One request at a time, keep-alive when both sides allow it (else the next request opens
a new TCP connection). Enough for Engine.IO long-polling; nothing else uses it.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping

import anyio
import attrs
import h11
from anyio.abc import ByteStream

from hub_client.options import Endpoint
from hub_client.transports.base import STREAM_ERRORS, TransportClosed, open_stream

RECEIVE_SIZE = 65536
MAX_BODY = 64 * 1024 * 1024  # far above any server's maxPayload


@attrs.frozen
class Response:
    status: int
    body: bytes


class HttpConnection:
    def __init__(
        self, endpoint: Endpoint, headers: Mapping[str, str], ssl_context: ssl.SSLContext | None
    ) -> None:
        self._endpoint = endpoint
        self._headers = [("Host", endpoint.host_header), *headers.items()]
        self._ssl_context = ssl_context
        self._stream: ByteStream | None = None
        self._h11 = h11.Connection(h11.CLIENT)

    async def request(self, method: str, target: str, body: bytes = b"") -> Response:
        """Sends one request and reads its whole response; ``TransportClosed`` on failure."""
        if self._stream is None:
            self._stream = await open_stream(self._endpoint, self._ssl_context)
            self._h11 = h11.Connection(h11.CLIENT)
        stream = self._stream
        headers = [*self._headers, ("Accept", "*/*")]
        if method == "POST":
            headers += [
                ("Content-Type", "text/plain;charset=UTF-8"),
                ("Content-Length", str(len(body))),
            ]
        try:
            parts = [self._h11.send(h11.Request(method=method, target=target, headers=headers))]
            if body:
                parts.append(self._h11.send(h11.Data(data=body)))
            parts.append(self._h11.send(h11.EndOfMessage()))
            await stream.send(b"".join(part for part in parts if part))
            response = await self._read_response(stream)
        except (h11.ProtocolError, *STREAM_ERRORS) as exc:
            await self.abort()
            raise TransportClosed(f"HTTP {method} failed: {exc!r}") from exc
        except BaseException:
            await self.abort()  # cancelled mid-request: the connection is in no known state
            raise
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
        else:
            await self.abort()
        return response

    async def _read_response(self, stream: ByteStream) -> Response:
        status = 0
        chunks: list[bytes] = []
        size = 0
        while True:
            event = self._h11.next_event()
            if event is h11.NEED_DATA:
                try:
                    data = await stream.receive(RECEIVE_SIZE)
                except anyio.EndOfStream:
                    data = b""
                self._h11.receive_data(data)
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_BODY:
                    raise h11.RemoteProtocolError("response body too large")
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return Response(status, b"".join(chunks))
            elif isinstance(event, h11.ConnectionClosed):
                raise anyio.EndOfStream
            # InformationalResponse and PAUSED: nothing to do.

    async def abort(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await anyio.aclose_forcefully(stream)
