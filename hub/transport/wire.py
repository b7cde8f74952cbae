"""The byte pipe under one WebSocket connection: every outgoing byte passes here, in order.

Theory of the write path. When nothing is queued and no write is in progress the
connection is *idle*: ``write_nowait`` hands the bytes straight to the kernel with a
non-blocking write and is done, with no task switch. Whatever the kernel does not take
goes into a bounded memory channel, and the connection is *busy* until the send task
(``flush``) has drained the channel and written it all with one ``send_all``. While busy,
every write is queued behind what is already there, so order is kept.

trio-websocket writes its own frames (handshake, pong, close) through ``send_all`` here
too, so they join the same ordered path instead of racing it.
"""

from __future__ import annotations

import contextlib
import os

import trio


class Wire(trio.abc.Stream):
    def __init__(
        self, stream: trio.SocketStream, prefix: bytes, max_messages: int, max_bytes: int
    ) -> None:
        self._stream = stream
        self._fd = stream.socket.fileno()
        # Bytes already read while routing the request; trio-websocket reads them again.
        self._prefix = prefix
        self._outbox, self._queue = trio.open_memory_channel[bytes](max_messages)
        self._max_bytes = max_bytes
        self._queued_bytes = 0
        self._busy = False
        self._idle = trio.Event()
        self._closed = False
        # True while send_all runs; still True after a cancelled write left half a frame.
        self._writing = False

    @property
    def queued_bytes(self) -> int:
        return self._queued_bytes

    def write_nowait(self, data: bytes) -> bool:
        """Write or queue ``data``; False if the outbox is full (nothing was written)."""
        if self._closed:
            return True
        if not self._busy:
            try:
                sent = os.write(self._fd, data)
            except BlockingIOError:
                sent = 0
            except OSError:
                # The peer is gone; queue it so the send task meets the error and ends.
                sent = 0
            if sent == len(data):
                return True
            # Part of a frame is on the wire: the rest must follow, whatever the bounds.
            return self._enqueue(data[sent:] if sent else data, force=sent > 0)
        return self._enqueue(data, force=False)

    def _enqueue(self, data: bytes, *, force: bool) -> bool:
        if not force and self._queued_bytes + len(data) > self._max_bytes:
            return False
        try:
            self._outbox.send_nowait(data)
        except trio.WouldBlock:
            if not force:
                return False
            raise trio.BrokenResourceError("outbox overflow mid-frame") from None
        self._queued_bytes += len(data)
        if not self._busy:
            self._busy = True
            self._idle = trio.Event()
        return True

    async def next_queued(self) -> bytes:
        return await self._queue.receive()

    async def flush(self, first: bytes) -> None:
        """Write ``first`` and everything queued behind it, one ``send_all`` per round."""
        batch = [first]
        while batch:
            while True:
                try:
                    batch.append(self._queue.receive_nowait())
                except trio.WouldBlock:
                    break
            data = batch[0] if len(batch) == 1 else b"".join(batch)
            batch = []
            self._queued_bytes -= len(data)
            self._writing = True
            await self._stream.send_all(data)
            self._writing = False
            with contextlib.suppress(trio.WouldBlock):
                batch.append(self._queue.receive_nowait())
        self._busy = False
        self._idle.set()

    async def drained(self) -> None:
        """Wait until everything queued so far has been written."""
        if self._busy:
            await self._idle.wait()

    async def finish(self, final: bytes | None) -> None:
        """With the send task gone: write what is queued and ``final``, then close.

        Call under a deadline. A write torn by cancellation leaves the stream unusable,
        so then the socket is just closed.
        """
        if not self._closed and not self._writing:
            if final is not None:
                self._enqueue(final, force=True)
            try:
                first = self._queue.receive_nowait()
            except trio.WouldBlock:
                first = None
            if first is not None:
                with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                    await self.flush(first)
        self.abort()

    # trio.abc.Stream, for trio-websocket.

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if not self.write_nowait(bytes(data)):
            raise trio.BrokenResourceError("outbox full")
        await trio.lowlevel.checkpoint()

    async def wait_send_all_might_not_block(self) -> None:
        await self._stream.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if self._prefix:
            data, self._prefix = self._prefix, b""
            await trio.lowlevel.checkpoint()
            return data
        return await self._stream.receive_some(max_bytes)

    async def aclose(self) -> None:
        """Close after a bounded wait for queued bytes (a close frame among them)."""
        if self._closed:
            return
        with trio.move_on_after(1.0):
            await self.drained()
        self.abort()
        await trio.lowlevel.checkpoint()

    def abort(self) -> None:
        """Close the socket now, dropping anything queued."""
        self._closed = True
        self._stream.socket.close()
