"""A loopback TCP proxy that can cut every connection it carries, in the middle of a frame.

Run it from the repository root::

    python tests/recovery/faultproxy.py --target-port PORT

It listens on 127.0.0.1 (ephemeral ports only) and, once ready, prints
``faultproxy listening on 127.0.0.1:PORT control 127.0.0.1:CONTROL`` (flushed). Clients
connect to PORT; each connection is forwarded both ways to 127.0.0.1:TARGET. It runs
until SIGTERM or SIGINT, then exits 0.

The control port takes one command line per TCP connection and answers one JSON line:

``cut``
    Cuts every open connection. A connection that carries server-to-client data within
    ``IDLE_WAIT`` seconds is cut mid-frame: of the next chunk the server sends, only the
    bytes up to a point strictly inside a WebSocket frame (inside its payload when it has
    one) reach the client; then both sockets are reset (RST, ``SO_LINGER`` 0), the
    client's after it had a moment to read the partial frame. A connection with nothing
    to send is reset as it is. Answers
    ``{"cut": n, "mid_frame": m, "partial_bytes": b, "idle": i, "other": o}``.
``stats``
    ``{"open": n, "accepted": total, "cuts": {...totals...}}``.

The WebSocket frames of the server-to-client direction are found by parsing the stream
after the HTTP response head (``\\r\\n\\r\\n``): server frames are unmasked, so a frame is
its 2-byte header, an optional 2- or 8-byte extended length, and its payload.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import socket
import struct
from functools import partial
from typing import Any

import trio

HOST = "127.0.0.1"
CHUNK = 65536
IDLE_WAIT = 0.3  # how long a cut waits for server-to-client data to cut mid-frame
READ_PARTIAL = 0.05  # how long the client gets to read the partial frame before the RST

# A frame's part in one chunk: (start, payload_start, end), offsets into the chunk.
Span = tuple[int, int, int]


class FrameTracker:
    """Follows WebSocket frame boundaries in the server-to-client byte stream."""

    def __init__(self) -> None:
        self.head = b""  # the HTTP response head, until it is complete
        self.upgraded = False
        self.header = b""  # the current frame's header bytes, until complete
        self.remaining = 0  # payload bytes of the current frame still to come

    def _header_length(self) -> int | None:
        """The current header's full length, or None until its second byte is known."""
        if len(self.header) < 2:
            return None
        return 2 + {126: 2, 127: 8}.get(self.header[1] & 0x7F, 0)

    def _payload_length(self) -> int:
        code = self.header[1] & 0x7F
        if code == 126:
            return int(struct.unpack("!H", self.header[2:4])[0])
        if code == 127:
            return int(struct.unpack("!Q", self.header[2:10])[0])
        return code

    def feed(self, data: bytes) -> list[Span]:
        """Consumes ``data``; returns the spans of the frames it holds a part of."""
        spans: list[Span] = []
        i = 0
        if not self.upgraded:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return spans
            self.upgraded = True
            i = len(data) - (len(self.head) - (end + 4))
            self.head = b""
        while i < len(data):
            start = i
            if self.remaining == 0:  # at, or inside, a frame header
                while True:
                    need = self._header_length()
                    if (need is not None and len(self.header) >= need) or i >= len(data):
                        break
                    self.header += data[i : i + 1]
                    i += 1
                need = self._header_length()
                if need is None or len(self.header) < need:
                    spans.append((start, i, i))  # the header goes on in the next chunk
                    break
                self.remaining = self._payload_length()
                self.header = b""
                if self.remaining == 0:  # an empty frame ends with its header
                    spans.append((start, i, i))
                    continue
            payload_start = i
            take = min(self.remaining, len(data) - i)
            i += take
            self.remaining -= take
            spans.append((start, payload_start, i))
        return spans


def cut_point(spans: list[Span], size: int) -> int | None:
    """An offset strictly inside a frame (never at a boundary, never 0); None if none.

    Prefers the middle of a payload, then a point inside a header."""
    for _start, payload_start, end in spans:
        if end - payload_start >= 2:
            return payload_start + (end - payload_start) // 2
    for start, payload_start, _end in spans:
        if payload_start - start >= 2 and 0 < start + 1 < size:
            return start + 1
    return None


def set_reset_on_close(stream: trio.SocketStream) -> None:
    """Makes the next close of ``stream`` send a RST instead of a FIN."""
    with contextlib.suppress(OSError):
        stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class Connection:
    """One proxied connection: two pumps, and a cut that can stop them mid-frame."""

    def __init__(self, target_port: int, client: trio.SocketStream) -> None:
        self.target_port = target_port
        self.client = client
        self.upstream: trio.SocketStream | None = None
        self.tracker = FrameTracker()
        self.armed = False
        self.done = trio.Event()
        self.cut_kind = ""
        self.partial = 0
        self.scope = trio.CancelScope()

    async def run(self) -> None:
        try:
            with self.scope:
                self.upstream = await trio.open_tcp_stream(HOST, self.target_port)
                async with trio.open_nursery() as pumps:
                    pumps.start_soon(self._pump_up)
                    pumps.start_soon(self._pump_down)
        except OSError:
            pass
        finally:
            with trio.CancelScope(shield=True):
                await self._close(rst=bool(self.cut_kind))
            self.done.set()

    async def _pump_up(self) -> None:
        assert self.upstream is not None
        try:
            while data := await self.client.receive_some(CHUNK):
                await self.upstream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        self.scope.cancel()

    async def _pump_down(self) -> None:
        assert self.upstream is not None
        try:
            while data := await self.upstream.receive_some(CHUNK):
                spans = self.tracker.feed(data)
                if self.armed:
                    await self._cut_in(data, spans)
                    return
                await self.client.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        self.scope.cancel()

    async def _cut_in(self, data: bytes, spans: list[Span]) -> None:
        if self.tracker.upgraded:
            point = cut_point(spans, len(data))
            kind = "mid_frame"
        else:
            point = len(data) // 2
            kind = "other"
        if point:
            await self.client.send_all(data[:point])
            self.partial = point
            self.cut_kind = kind
            await trio.sleep(READ_PARTIAL)
        else:
            self.cut_kind = "other"
        self.scope.cancel()

    def cut_now(self, kind: str) -> None:
        if not self.cut_kind:
            self.cut_kind = kind
        self.scope.cancel()

    async def _close(self, rst: bool) -> None:
        for stream in (self.upstream, self.client):
            if stream is None:
                continue
            if rst:
                set_reset_on_close(stream)
            await trio.aclose_forcefully(stream)


class Proxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.connections: set[Connection] = set()
        self.accepted = 0
        self.totals = {"cut": 0, "mid_frame": 0, "partial_bytes": 0, "idle": 0, "other": 0}

    async def handle(self, client: trio.SocketStream) -> None:
        self.accepted += 1
        connection = Connection(self.target_port, client)
        self.connections.add(connection)
        try:
            await connection.run()
        finally:
            self.connections.discard(connection)

    async def cut(self) -> dict[str, int]:
        victims = list(self.connections)
        for connection in victims:
            connection.armed = True
        with trio.move_on_after(IDLE_WAIT):
            for connection in victims:
                await connection.done.wait()
        for connection in victims:
            if not connection.done.is_set():
                connection.cut_now("idle")
        with trio.move_on_after(2.0):
            for connection in victims:
                await connection.done.wait()
        result = {"cut": len(victims), "mid_frame": 0, "partial_bytes": 0, "idle": 0, "other": 0}
        for connection in victims:
            result[connection.cut_kind or "other"] += 1
            result["partial_bytes"] += connection.partial
        for key, value in result.items():
            self.totals[key] += value
        return result

    async def control(self, stream: trio.SocketStream) -> None:
        try:
            line = b""
            with trio.move_on_after(10):
                while b"\n" not in line and len(line) < 256:
                    data = await stream.receive_some(256)
                    if not data:
                        break
                    line += data
            command = line.decode(errors="replace").strip()
            answer: dict[str, Any]
            if command == "cut":
                answer = await self.cut()
            elif command == "stats":
                answer = {"open": len(self.connections), "accepted": self.accepted}
                answer["cuts"] = self.totals
            else:
                answer = {"error": f"unknown command {command!r}"}
            await stream.send_all(json.dumps(answer).encode() + b"\n")
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        finally:
            await trio.aclose_forcefully(stream)


async def main(target_port: int) -> None:
    proxy = Proxy(target_port)
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(partial(trio.serve_tcp, proxy.handle, 0, host=HOST))
            controls = await nursery.start(partial(trio.serve_tcp, proxy.control, 0, host=HOST))
            port = listeners[0].socket.getsockname()[1]
            control = controls[0].socket.getsockname()[1]
            print(f"faultproxy listening on {HOST}:{port} control {HOST}:{control}", flush=True)
            async for _ in signals:
                break
            nursery.cancel_scope.cancel()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-port", type=int, required=True)
    args = parser.parse_args()
    trio.run(main, args.target_port)


if __name__ == "__main__":
    cli()
