"""The write path of one connection: every outgoing byte passes here, in order.

Theory. When nothing is queued and no write is in progress the connection is *idle*:
``write_nowait`` hands the bytes straight to the kernel with a non-blocking write and is
done, with no task switch. Whatever the kernel does not take goes into a bounded memory
channel, and the connection is *busy* until the send task (``flush``) has drained the
channel and written it all with one ``send_all``. While busy, every write is queued
behind what is already there, so order is kept.

The channel is made on the first write that has to queue: most connections of a
broadcast hub are idle readers that never need one, and it is a sizeable share of an
idle connection's memory. Making it calls ``wake`` so the send task starts reading it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

import trio


class Wire:
    __slots__ = (
        "_busy",
        "_closed",
        "_fd",
        "_max_bytes",
        "_max_messages",
        "_outbox",
        "_queue",
        "_queued_bytes",
        "_wake",
        "_writing",
        "stream",
    )

    def __init__(
        self,
        stream: trio.SocketStream,
        max_messages: int,
        max_bytes: int,
        wake: Callable[[], None],
    ) -> None:
        self.stream = stream
        self._fd = stream.socket.fileno()
        self._outbox: trio.MemorySendChannel[bytes] | None = None
        self._queue: trio.MemoryReceiveChannel[bytes] | None = None
        self._max_messages = max_messages
        self._max_bytes = max_bytes
        self._wake = wake
        self._queued_bytes = 0
        self._busy = False
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
            except OSError:
                # Would block, or the peer is gone: queue it; the send task writes it
                # later or meets the error and ends the connection.
                sent = 0
            if sent == len(data):
                return True
            # Part of a frame is on the wire: the rest must follow, whatever the bounds.
            return self._enqueue(data[sent:] if sent else data, force=sent > 0)
        return self._enqueue(data, force=False)

    def _enqueue(self, data: bytes, *, force: bool) -> bool:
        if not force and self._queued_bytes + len(data) > self._max_bytes:
            return False
        if self._outbox is None:
            self._outbox, self._queue = trio.open_memory_channel[bytes](self._max_messages)
            self._wake()
        try:
            self._outbox.send_nowait(data)
        except trio.WouldBlock:
            if not force:
                return False
            raise trio.BrokenResourceError("outbox overflow mid-frame") from None
        self._queued_bytes += len(data)
        self._busy = True
        return True

    async def next_queued(self) -> bytes:
        """The first queued bytes; with no channel yet, sleeps until ``wake`` interrupts."""
        if self._queue is None:
            await trio.sleep_forever()
        assert self._queue is not None
        return await self._queue.receive()

    async def flush(self, first: bytes) -> None:
        """Write ``first`` and everything queued behind it, one ``send_all`` per round."""
        assert self._queue is not None
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
            await self.stream.send_all(data)
            self._writing = False
            with contextlib.suppress(trio.WouldBlock):
                batch.append(self._queue.receive_nowait())
        self._busy = False

    async def finish(self, final: bytes | None) -> None:
        """With the send task gone: write what is queued and ``final``, then stop writing.

        Call under a deadline. A write torn by cancellation leaves the stream unusable,
        so then nothing more is written.
        """
        if self._closed or self._writing:
            return
        if final is not None:
            self._enqueue(final, force=True)
        if self._queue is None:
            return
        try:
            first = self._queue.receive_nowait()
        except trio.WouldBlock:
            return
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await self.flush(first)

    def abort(self) -> None:
        """Close the socket now, dropping anything queued."""
        self._closed = True
        self.stream.socket.close()
