"""The receiving side: the *reader* takes packets off a link (acks, events, replies),
and the *dispatcher* runs handlers one at a time, in arrival order, and sends their acks.

The reader never waits for a handler, so pings, acks and ``wait_for`` keep flowing while
a handler is slow (and a handler may ``await emit_with_ack`` on its own client).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from hub.events import InvalidEvent
from hub.protocol.socketio import SioPacket, SioType
from hub_client.channel import ChannelState
from hub_client.codec import ack_args
from hub_client.engine import Link
from hub_client.errors import NotConnected
from hub_client.handlers import CATCH_ALL, call, describe
from hub_client.outbound import send_ack
from hub_client.transports import TransportClosed
from hub_client.userevents import Delivery, SeenIds, unpack

log = logging.getLogger("hub_client")

Job = Callable[[], Awaitable[None]]
JOBS = 10_000  # events received and not handled yet; past it the reader waits (backpressure)


class Dispatcher:
    """Runs the handlers (events and lifecycle) in one task, in the order queued."""

    def __init__(self, counts: dict[str, int]) -> None:
        self._counts = counts
        self._jobs: MemoryObjectSendStream[Job] | None = None

    def start(self, task_group: TaskGroup) -> None:
        jobs_in, jobs_out = anyio.create_memory_object_stream[Job](JOBS)
        self._jobs = jobs_in
        task_group.start_soon(self._run, jobs_out)

    def close(self) -> None:
        if self._jobs is not None:
            self._jobs.close()

    async def _run(self, jobs: MemoryObjectReceiveStream[Job]) -> None:
        async with jobs:
            async for job in jobs:
                try:
                    await job()
                except Exception:
                    log.exception("the client's dispatcher caught an error")

    async def event(
        self, link: Link, channel: ChannelState, delivery: Delivery, ack_id: int | None
    ) -> None:
        """Queues ``delivery`` for its handler; waits while the queue is full."""
        assert self._jobs is not None
        await self._jobs.send(partial(self._handle, link, channel, delivery, ack_id))

    async def _handle(
        self, link: Link, channel: ChannelState, delivery: Delivery, ack_id: int | None
    ) -> None:
        event, args = delivery.event, delivery.args
        registered = channel.handlers.get(event)
        if registered is None and CATCH_ALL in channel.handlers:
            registered, args = channel.handlers[CATCH_ALL], (event, *args)
        result: Any = None
        if registered is not None:
            try:
                arguments = registered.arguments(event, args)
            except InvalidEvent as error:
                self._counts["handler_errors"] += 1
                message = str(error).replace("\n", " ")
                log.warning("%s refused invalid_event: %s", channel.name, message)
                result = {"error": "invalid_event", "message": message}
            else:
                try:
                    result = await call(registered.handler, *arguments)
                except Exception:
                    self._counts["handler_errors"] += 1
                    log.exception(
                        "handler %s of %r in %s failed",
                        describe(registered.handler),
                        event,
                        channel.name,
                    )
                    return  # no ack: the server sees the event as not handled
        if ack_id is not None:
            await send_ack(link, channel, ack_id, ack_args(result))

    def lifecycle(self, channel: ChannelState, name: str, *args: Any) -> None:
        """Queues the ``name`` handlers (connect, disconnect, connect_error) in order,
        and hands the event to ``wait_for(name)`` at once."""
        channel.offer(Delivery(name, args))
        if not channel.lifecycle[name] or self._jobs is None:
            return
        try:
            self._jobs.send_nowait(partial(self.lifecycle_now, channel, name, *args))
        except (anyio.WouldBlock, anyio.ClosedResourceError, anyio.BrokenResourceError):
            log.warning("%s handlers of %s skipped: too many events queued", name, channel.name)

    async def lifecycle_now(self, channel: ChannelState, name: str, *args: Any) -> None:
        for handler in list(channel.lifecycle[name]):
            try:
                await call(handler, *args)
            except Exception:
                self._counts["handler_errors"] += 1
                log.exception("%s handler %s of %s failed", name, describe(handler), channel.name)


ConnectReply = Callable[[Link, ChannelState, Any], None]


class Reader:
    """Reads a link's packets: resolves acks, unpacks batches, drops resent user events
    (acknowledging them again) and queues the rest for the dispatcher."""

    def __init__(
        self,
        channels: Mapping[str, ChannelState],
        dispatcher: Dispatcher,
        counts: dict[str, int],
        seen: SeenIds,
        on_connect_reply: ConnectReply,
    ) -> None:
        self._channels = channels
        self._dispatcher = dispatcher
        self._counts = counts
        self._seen = seen
        # The supervisor's: a CONNECT reply changes the connection's state.
        self._on_connect_reply = on_connect_reply

    async def read(self, link: Link) -> None:
        try:
            while True:
                packet = await link.receive()
                await self._on_packet(link, packet)
        except TransportClosed as exc:
            link.mark_lost(exc.reason)
        except Exception:
            log.exception("the client's reader failed")
            link.mark_lost("client error")

    async def _on_packet(self, link: Link, packet: SioPacket) -> None:
        channel = self._channels.get(packet.namespace)
        if channel is None:
            log.warning("packet for a namespace this client did not connect: %s", packet.namespace)
            return
        match packet.type:
            case SioType.CONNECT:
                self._on_connect_reply(link, channel, packet.data)
            case SioType.CONNECT_ERROR:
                channel.on_reply(True, packet.data)
            case SioType.DISCONNECT:
                log.info("the server disconnected %s", channel.name)
                channel.kicked = True
                if channel.link is link:
                    self._dispatcher.lifecycle(channel, "disconnect", "io server disconnect")
                channel.fail_all(NotConnected(f"the server disconnected {channel.name}"))
                if all(ch.kicked for ch in self._channels.values()):
                    link.mark_lost("io server disconnect")
            case SioType.ACK | SioType.BINARY_ACK:
                channel.resolve_ack(packet.id, list(packet.data))
            case SioType.EVENT | SioType.BINARY_EVENT:
                await self._on_event(link, channel, packet)

    async def _on_event(self, link: Link, channel: ChannelState, packet: SioPacket) -> None:
        name, args = packet.data[0], channel.take_offset(list(packet.data[1:]), packet.id)
        deliveries = unpack(name, args)
        if deliveries is None:
            log.warning("malformed %s frame in %s dropped", name, channel.name)
            deliveries = []
        elif len(deliveries) != 1 or deliveries[0].event != name:
            self._counts["batches"] += 1
        fresh = []
        for delivery in deliveries:
            if delivery.id is not None and not self._seen.first_time(delivery.id):
                self._counts["duplicates"] += 1
                log.debug("resent event %s (%s) acknowledged again", delivery.id, delivery.event)
                continue
            fresh.append(delivery)
        if not fresh:
            if packet.id is not None:
                await send_ack(link, channel, packet.id, [])
            return
        self._counts["events"] += len(fresh)
        for delivery in fresh:
            channel.offer(delivery)
        # The packet's one ack rides with its last event (handlers run in order).
        for index, delivery in enumerate(fresh):
            ack_id = packet.id if index == len(fresh) - 1 else None
            await self._dispatcher.event(link, channel, delivery, ack_id)
